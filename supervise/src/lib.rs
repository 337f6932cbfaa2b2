//! Modules shared by the scanner, the supervisor and the control tools.
#![cfg_attr(not(test), no_std)]
