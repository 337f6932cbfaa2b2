//! The `event/` fifodir, s6's "ftrig" protocol, both sides.
//!
//! A listener makes a FIFO named `ftrig1:@` + 24 hex digits + `:` + 6
//! characters (39 bytes) in the directory and reads event letters from it.
//! A notifier writes its letters to every FIFO of exactly that shape,
//! without ever blocking; a listener that has gone (ENXIO on open, EPIPE on
//! write) is unlinked. Writers must have SIGPIPE ignored.

use crate::fmt::Buf;
use crate::path::PathBuf;
use crate::sys::{self, errno, Errno, Fd, FileType, Open, OwnedFd};
use crate::tai64n::Tai64n;
use core::ffi::CStr;

/// How every listener FIFO's name starts.
pub const PREFIX: &[u8] = b"ftrig1:@";
/// Length of a listener FIFO's name.
pub const NAME_LEN: usize = 39;

/// Creates the fifodir: mode 03730 owned by `gid` when given (members of
/// the group may listen), else 01733 (anyone may). An existing one is kept.
pub fn create(dir: &[u8], gid: Option<u32>) -> Result<(), Errno> {
    // Built in place: a PathBuf returned by `join` is 4 KiB more stack.
    let mut p = PathBuf::new();
    p.push(dir)?;
    create_c(p.as_cstr(), gid)
}

/// `create`, given the fifodir's path as a C string (no path buffer).
pub fn create_c(dir: &CStr, gid: Option<u32>) -> Result<(), Errno> {
    match sys::mkdir(dir, 0o700) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    let fd = sys::open(dir, Open::RDONLY | Open::DIRECTORY, 0)?;
    
    match gid {
        Some(g) => sys::fchown(fd.fd(), None, Some(g)).and_then(|_| sys::fchmod(fd.fd(), 0o3730)),
        None => sys::fchmod(fd.fd(), 0o1733),
    }
}

fn is_listener_name(n: &[u8]) -> bool {
    n.len() == NAME_LEN && n.starts_with(PREFIX)
}

/// Sends `letters` to every listener in `dir`. Returns how many got them.
pub fn notify(dir: &[u8], letters: &[u8]) -> Result<usize, Errno> {
    let mut p = PathBuf::new();
    p.push(dir)?;
    notify_c(p.as_cstr(), letters)
}

/// `notify`, given the fifodir's path as a C string. Listeners are opened
/// relative to the directory: no path to build, no 4 KiB buffer on the
/// stack, and a small getdents buffer (a listener's entry takes 64 bytes):
/// the supervisor, which announces every change, keeps its stack to a page.
#[inline(never)]
pub fn notify_c(dir: &CStr, letters: &[u8]) -> Result<usize, Errno> {
    let dir_fd = sys::open_dir(dir)?;
    let d = dir_fd.fd();
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 512];
    let mut sent = 0;
    let r = sys::read_dir_with(d, &mut buf, &mut |name, kind, _| {
        if !is_listener_name(name.to_bytes()) || !(kind == FileType::Fifo || kind == FileType::Unknown) {
            return;
        }
        match sys::open_at(d, name, Open::WRONLY | Open::NONBLOCK, 0) {
            Ok(fd) => {
                match sys::write(fd.fd(), letters) {
                    Ok(_) => sent += 1,
                    Err(errno::EPIPE) => {
                        // A listener gone: its FIFO is removed if we may, else left to it.
                        let _ = sys::unlink_in(d, name);
                    }
                    Err(_) => {}
                }
            }
            Err(errno::ENXIO) => {
                // A listener gone: its FIFO is removed if we may, else left to it.
                let _ = sys::unlink_in(d, name);
            }
            Err(_) => {}
        }
    });
    r.map(|_| sent)
}

/// One listening FIFO in a fifodir.
pub struct Listener {
    read_fd: OwnedFd,
    /// Held, never used: a write end of our own keeps the FIFO from EOF.
    _keep_fd: OwnedFd,
    path: PathBuf,
}

impl Listener {
    /// Subscribes to the fifodir `dir`.
    pub fn new(dir: &[u8]) -> Result<Listener, Errno> {
        let name = fresh_name();
        let path = PathBuf::join(dir, &[b"/", &name])?;
        let (read_fd, keep_fd) = open_fifo(dir, &name, path.as_cstr())?;
        Ok(Listener { read_fd, _keep_fd: keep_fd, path })
    }

    /// The descriptor to poll for reading.
    pub fn fd(&self) -> Fd {
        self.read_fd.fd()
    }

    /// Reads the letters that have arrived (non-blocking; 0 when none).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        read_letters(self.read_fd.fd(), buf)
    }

    /// Unsubscribes: removes the FIFO (and closes it, by dropping it).
    pub fn close(self) {
        // Already removed by a notifier that found it unread: nothing to undo.
        let _ = sys::unlink(self.path.as_cstr());
    }
}

/// A listening FIFO that keeps its own name (39 bytes) but not the
/// fifodir's path: the caller names the fifodir again to close it, so a
/// wait on thousands of services holds a few dozen bytes for each.
pub struct Fifo {
    read_fd: OwnedFd,
    /// Held, never used: a write end of our own keeps the FIFO from EOF.
    _keep_fd: OwnedFd,
    name: [u8; NAME_LEN],
}

impl Fifo {
    /// Subscribes to the fifodir `dir`.
    pub fn new(dir: &[u8]) -> Result<Fifo, Errno> {
        let name = fresh_name();
        let path = PathBuf::join(dir, &[b"/", &name])?;
        let (read_fd, keep_fd) = open_fifo(dir, &name, path.as_cstr())?;
        Ok(Fifo { read_fd, _keep_fd: keep_fd, name })
    }

    /// The descriptor to poll for reading.
    pub fn fd(&self) -> Fd {
        self.read_fd.fd()
    }

    /// Reads the letters that have arrived (non-blocking; 0 when none).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        read_letters(self.read_fd.fd(), buf)
    }

    /// Unsubscribes from the fifodir `dir` (the one given to `new`), and
    /// closes the FIFO by dropping it.
    pub fn close(self, dir: &[u8]) {
        if let Ok(p) = PathBuf::join(dir, &[b"/", &self.name]) {
            // Already removed by a notifier that found it unread: nothing to undo.
            let _ = sys::unlink(p.as_cstr());
        }
    }
}

/// A listener FIFO's name: `ftrig1:@` + TAI64N + `:` + six characters
/// unique per process and moment (pid and nanoseconds mixed).
fn fresh_name() -> [u8; NAME_LEN] {
    let mut name = Buf::<NAME_LEN>::new();
    name.push(b"ftrig1:");
    Tai64n::now().write_text(&mut name);
    name.byte(b':');
    let mut x = (sys::getpid() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ sys::now_mono_ns();
    for _ in 0..6 {
        name.byte(SAFE[(x % SAFE.len() as u64) as usize]);
        x /= SAFE.len() as u64;
    }
    let mut fixed = [0u8; NAME_LEN];
    for (f, c) in fixed.iter_mut().zip(name.as_bytes()) {
        *f = *c;
    }
    fixed
}

/// Makes the FIFO `name` of `dir` (at `path`) and opens it: (read end, an
/// extra write end). It is made and opened under a dot name, then renamed,
/// as s6 does: a notifier that found it without a reader would take it for
/// a dead listener's and remove it before it is opened.
fn open_fifo(dir: &[u8], name: &[u8], path: &CStr) -> Result<(OwnedFd, OwnedFd), Errno> {
    let tmp = PathBuf::join(dir, &[b"/.", name])?;
    let (read_fd, keep_fd) = open_new_fifo(tmp.as_cstr())?;
    if let Err(e) = sys::rename(tmp.as_cstr(), path) {
        // Both ends closed (dropped) before the name goes.
        drop((read_fd, keep_fd));
        // Undoing a half-made listener: the first error is the one reported.
        let _ = sys::unlink(tmp.as_cstr());
        return Err(e);
    }
    Ok((read_fd, keep_fd))
}

/// Makes the FIFO at `path` and opens it: (read end, an extra write end).
fn open_new_fifo(path: &CStr) -> Result<(OwnedFd, OwnedFd), Errno> {
    sys::mkfifo(path, 0o622)?;
    // The notifier opens for writing only when a reader exists, so open
    // the read side first; the extra write side keeps it from EOF.
    let read_fd = match sys::open(path, Open::RDONLY | Open::NONBLOCK, 0) {
        Ok(f) => f,
        Err(e) => {
            // Undoing a half-made listener: the first error is the one reported.
            let _ = sys::unlink(path);
            return Err(e);
        }
    };
    match sys::open(path, Open::WRONLY | Open::NONBLOCK, 0) {
        Ok(keep_fd) => Ok((read_fd, keep_fd)),
        Err(e) => {
            drop(read_fd);
            // Undoing a half-made listener: the first error is the one reported.
            let _ = sys::unlink(path);
            Err(e)
        }
    }
}

fn read_letters(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    match sys::read(fd, buf) {
        Err(errno::EAGAIN) => Ok(0),
        r => r,
    }
}

const SAFE: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
