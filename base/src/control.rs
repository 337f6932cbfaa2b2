//! The command FIFOs from the writer's side: a supervisor's
//! `supervise/control` (s6-svc's letters) and a scanner's
//! `.s6-svscan/control` (s6-svscanctl's letters). One byte per command.

use crate::path::PathBuf;
use crate::sys::{self, errno, Errno, Open};

/// Is a supervisor reading `<dir>/supervise/control`? (s6-svok's test:
/// opening the FIFO for writing without blocking fails with ENXIO when
/// nobody reads it.)
pub fn is_supervised(dir: &[u8]) -> Result<bool, Errno> {
    let p = PathBuf::join(dir, &[b"/supervise/control"])?;
    reader_behind(sys::open(p.as_cstr(), Open::WRONLY | Open::NONBLOCK, 0))
}

/// `is_supervised` of the service directory open as `dir`.
pub fn is_supervised_in(dir: sys::Fd) -> Result<bool, Errno> {
    reader_behind(sys::open_at(dir, c"supervise/control", Open::WRONLY | Open::NONBLOCK, 0))
}

/// What opening the control FIFO for writing says of its reader.
fn reader_behind(open: Result<sys::OwnedFd, Errno>) -> Result<bool, Errno> {
    match open {
        Ok(_) => Ok(true),
        Err(errno::ENXIO) | Err(errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes command letters to `<dir>/supervise/control`. ENXIO when no
/// supervisor reads it.
pub fn send(dir: &[u8], letters: &[u8]) -> Result<(), Errno> {
    send_to(dir, b"/supervise/control", letters)
}

/// Writes command letters to a scanner's `<scandir>/.s6-svscan/control`.
pub fn send_scanner(scandir: &[u8], letters: &[u8]) -> Result<(), Errno> {
    send_to(scandir, b"/.s6-svscan/control", letters)
}

fn send_to(dir: &[u8], fifo: &[u8], letters: &[u8]) -> Result<(), Errno> {
    let p = PathBuf::join(dir, &[fifo])?;
    let fd = sys::open(p.as_cstr(), Open::WRONLY | Open::NONBLOCK, 0)?;
    sys::write_all(fd.fd(), letters)
}
