//! File descriptors.

/// A file descriptor number. Copy, never closed implicitly: the programs
/// decide when a descriptor ends, as in C.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fd(pub i32);

pub const STDIN: Fd = Fd(0);
pub const STDOUT: Fd = Fd(1);
pub const STDERR: Fd = Fd(2);
