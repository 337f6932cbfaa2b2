//! What several rinit programs share. One module per concept; `sys` is the
//! only one that talks to the kernel. No allocation anywhere: every buffer
//! is fixed, every capacity a named constant.
#![cfg_attr(not(test), no_std)]
// asm! on MIPS is unstable: MIPS alone is built with nightly
// (docs/architectures.md); every other target stays on stable.
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]

pub mod cgroup;
pub mod control;
pub mod bootclock;
pub mod err;
pub mod fifodir;
pub mod fmt;
pub mod options;
pub mod out;
pub mod path;
pub mod servicedir;
pub mod spawn;
pub mod status;
pub mod sys;
pub mod tai64n;
pub mod wait;
pub mod watchdog;
