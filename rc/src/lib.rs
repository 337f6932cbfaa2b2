//! The service manager (s6-rc's role): source directories are compiled into
//! one database, which the change engine reads in place to bring services
//! up and down in dependency order, in parallel.
#![cfg_attr(not(test), no_std)]
// Errors carry their message in a fixed buffer: there is no heap to box them in.
#![allow(clippy::result_large_err)]

pub mod change;
pub mod cli;
pub mod copy;
pub mod db;
pub mod convert;
pub mod dot;
pub mod execline;
pub mod graph;
pub mod install;
pub mod live;
pub mod oneshot;
pub mod runner;
pub mod source;
pub mod statusview;
pub mod switch;
pub mod timeline;
