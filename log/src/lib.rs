//! rinit-log: the logger (s6-log's role). `script` reads the directives,
//! `regex` compiles the selection patterns, `input` reads stdin so that a
//! killed logger loses nothing, `batch` cuts lines and routes them,
//! `stamp` writes the timestamps, `logdir` keeps the log directories.
//! (`#[inline(never)]` on some big functions called once keeps the binary
//! a few hundred bytes smaller.)
#![cfg_attr(not(test), no_std)]

pub mod batch;
pub mod input;
pub mod logdir;
pub mod regex;
pub mod script;
pub mod stamp;
