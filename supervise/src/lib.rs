//! Modules shared by the scanner, the supervisor and the control tools.
#![cfg_attr(not(test), no_std)]

pub mod deathtally;
pub mod service;
pub mod statustext;
pub mod statusrow;
pub mod statustable;
pub mod scanctl;
pub mod scandir;
