//! Modules shared by the binaries of this package.
#![cfg_attr(not(test), no_std)]
