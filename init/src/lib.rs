//! Stage 1 and stage 3 of rinit (the s6-linux-init role): what `rinit`
//! (pid 1 at boot), `rinit-maker`, `rinit-shutdownd` and `rinit-shutdown`
//! share. One module per concept; the binaries in src/bin tell the story.
#![cfg_attr(not(test), no_std)]

/// The buffer every log line and small text is built in: the size of
/// `err`'s own message buffer, so each binary carries one copy of the
/// buffer code (a second size would monomorphise it again).
pub type Line = base::fmt::Buf<{ base::err::MSG_MAX }>;

pub mod conf;
pub mod container;
pub mod envdir;
pub mod layout;
pub mod maker;
pub mod mounts;
pub mod request;
pub mod runimage;
pub mod shutdown;
pub mod spawn;
pub mod stage1;
pub mod stage2;
pub mod uptime;
