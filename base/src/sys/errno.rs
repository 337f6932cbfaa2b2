//! Kernel error numbers: the type, and the numbers the programs test for
//! by name (linux-raw-sys's, so each is the kernel's own).

use linux_raw_sys::errno as k;

/// A kernel error number.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

pub type Result<T> = core::result::Result<T, Errno>;

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Self {
        Errno(e.raw_os_error() as u16)
    }
}

pub const EPERM: Errno = Errno(k::EPERM as u16);
pub const ENOENT: Errno = Errno(k::ENOENT as u16);
pub const ESRCH: Errno = Errno(k::ESRCH as u16);
pub const EINTR: Errno = Errno(k::EINTR as u16);
pub const EIO: Errno = Errno(k::EIO as u16);
pub const ENXIO: Errno = Errno(k::ENXIO as u16);
pub const E2BIG: Errno = Errno(k::E2BIG as u16);
pub const ENOEXEC: Errno = Errno(k::ENOEXEC as u16);
pub const EBADF: Errno = Errno(k::EBADF as u16);
pub const ECHILD: Errno = Errno(k::ECHILD as u16);
pub const EAGAIN: Errno = Errno(k::EAGAIN as u16);
pub const ENOMEM: Errno = Errno(k::ENOMEM as u16);
pub const EACCES: Errno = Errno(k::EACCES as u16);
pub const EBUSY: Errno = Errno(k::EBUSY as u16);
pub const EEXIST: Errno = Errno(k::EEXIST as u16);
pub const ENOTDIR: Errno = Errno(k::ENOTDIR as u16);
pub const EISDIR: Errno = Errno(k::EISDIR as u16);
pub const EINVAL: Errno = Errno(k::EINVAL as u16);
pub const EMFILE: Errno = Errno(k::EMFILE as u16);
pub const EFBIG: Errno = Errno(k::EFBIG as u16);
pub const ENOSPC: Errno = Errno(k::ENOSPC as u16);
pub const EROFS: Errno = Errno(k::EROFS as u16);
pub const EPIPE: Errno = Errno(k::EPIPE as u16);
pub const ERANGE: Errno = Errno(k::ERANGE as u16);
pub const ENAMETOOLONG: Errno = Errno(k::ENAMETOOLONG as u16);
pub const ENOTEMPTY: Errno = Errno(k::ENOTEMPTY as u16);
pub const ELOOP: Errno = Errno(k::ELOOP as u16);
pub const ETIMEDOUT: Errno = Errno(k::ETIMEDOUT as u16);
pub const ECONNREFUSED: Errno = Errno(k::ECONNREFUSED as u16);
pub const EDQUOT: Errno = Errno(k::EDQUOT as u16);
/// Used for "the data read is not what it should be".
pub const EPROTO: Errno = Errno(k::EPROTO as u16);
pub const EOVERFLOW: Errno = Errno(k::EOVERFLOW as u16);
/// Not a kernel number (none fits): a file that must be a regular file
/// is something else, a FIFO, a device, a symlink not to be followed.
pub const ENOTREG: Errno = Errno(255);

/// A raw system call's result: the value, or a negated errno (-4095 to -1).
pub(super) fn ret(r: usize) -> Result<usize> {
    if r > (-4096isize) as usize { Err(Errno((r as isize).unsigned_abs() as u16)) } else { Ok(r) }
}
