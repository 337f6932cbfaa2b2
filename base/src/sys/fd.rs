//! File descriptors: `OwnedFd`, one this process holds and closes by
//! dropping it, and `Fd`, a descriptor's number lent to a call.

use super::calls::close;

/// A descriptor's number, lent to the calls that use it: it never closes
/// anything. The one that closes is the `OwnedFd` it came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fd(pub i32);

pub const STDIN: Fd = Fd(0);
pub const STDOUT: Fd = Fd(1);
pub const STDERR: Fd = Fd(2);

/// An open descriptor of this process, closed when dropped: closing is
/// the type's job. A descriptor that must outlive it (kept across exec
/// for a child, or for the rest of the process) leaves it by `into_raw`,
/// which says so where it happens.
#[derive(PartialEq, Eq, Debug)]
pub struct OwnedFd(Fd);

impl OwnedFd {
    /// Takes charge of `fd`, open and held by nothing else (a descriptor
    /// the kernel just returned, or one inherited by number).
    pub const fn from_raw(fd: Fd) -> OwnedFd {
        OwnedFd(fd)
    }
    /// Its number, lent for a call.
    pub const fn fd(&self) -> Fd {
        self.0
    }
    /// Its number, left open: it is no longer this value's to close.
    pub fn into_raw(self) -> Fd {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        close(self.0)
    }
}
