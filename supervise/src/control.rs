//! `supervise/control`, the supervisor's command FIFO, from the writer's side.

use base::path::PathBuf;
use base::sys::{self, errno, Errno, Open};

/// Is a supervisor reading `<dir>/supervise/control`? (s6-svok's test:
/// opening the FIFO for writing without blocking fails with ENXIO when
/// nobody reads it.)
pub fn is_supervised(dir: &[u8]) -> Result<bool, Errno> {
    let p = PathBuf::join(dir, &[b"/supervise/control"])?;
    match sys::open(p.as_cstr(), Open::WRONLY | Open::NONBLOCK, 0) {
        Ok(fd) => {
            sys::close(fd);
            Ok(true)
        }
        Err(errno::ENXIO) | Err(errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes command letters to `<dir>/supervise/control`.
pub fn send(dir: &[u8], letters: &[u8]) -> Result<(), Errno> {
    let p = PathBuf::join(dir, &[b"/supervise/control"])?;
    let fd = sys::open(p.as_cstr(), Open::WRONLY | Open::NONBLOCK, 0)?;
    let r = sys::write_all(fd, letters);
    sys::close(fd);
    r
}
