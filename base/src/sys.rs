//! The syscall layer: the only part of rinit that talks to the kernel.
//! Everything above it sees plain values (`Fd`, `Pid`, `Errno`, `&CStr`)
//! and never a raw pointer.
//!
//! Two floors. The unsafe one, the only code of the workspace besides the
//! start-up code of `linker/` allowed `unsafe` (each module says so at its
//! top): `raw` (the system call instruction of each architecture and the
//! call numbers), `calls` (the calls made by hand, which pass the kernel
//! pointers: rustix keeps them private or makes them bigger than they need
//! be), `start` (the arguments and environment as the kernel laid them out,
//! and the stack move), `region` (a long-lived process moved into one
//! region of its own data), `clone` (new processes) and `mem` (static
//! memory without a heap, mapped files). Above it, safe modules named for what
//! they are about: `errno`, `fd`, `fs`, `process`, `signal`, `time`,
//! `system`. Every name is re-exported here: callers write `sys::open`.

mod calls;
mod clone;
pub mod errno;
mod fd;
mod fs;
mod mem;
mod process;
mod raw;
mod region;
mod signal;
mod start;
mod system;
mod time;

pub use calls::*;
pub use clone::*;
pub use errno::{Errno, Result};
pub use fd::*;
pub use fs::*;
pub use mem::*;
pub use process::*;
pub use region::{run_in_one_region, Region};
pub use signal::*;
pub use start::*;
pub use system::*;
pub use time::*;
