//! The run-image: the basedir's skeleton of the live directory (the scan
//! directory with the catch-all logger and the shutdown daemon, the log
//! directory), copied into the fresh /run at boot. Directories, regular
//! files, symlinks and FIFOs are copied with their modes.
//!
//! The copy works on directory descriptors and entry names (the *at
//! syscalls): no path is ever built, so no path can be too long.

use base::err;
use base::sys::{self, errno, Errno, Fd, FileType, Open};
use core::ffi::CStr;

/// Deepest directory nesting copied.
pub const DEPTH_MAX: usize = 8;
/// Copy buffer size.
const CHUNK: usize = 4096;
/// Longest symlink target copied.
pub const LINK_MAX: usize = 1024;

/// Copies the contents of the directory `src` (open) into the directory
/// `dst` (created if missing; existing entries are overwritten). A failure
/// is logged with the name of the entry it happened on.
pub fn copy(src: Fd, dst: &CStr) -> Result<(), Errno> {
    match sys::mkdir(dst, 0o755) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    let d = sys::open_dir(dst)?;
    
    copy_dir(src, d.fd(), 0)
}

fn copy_dir(s: Fd, d: Fd, depth: usize) -> Result<(), Errno> {
    let mut r = Ok(());
    let res = sys::read_dir(s, &mut |name: &CStr, _: FileType, _| {
        if r.is_ok() {
            r = copy_entry(s, d, name, depth);
        }
    });
    res.and(r)
}

/// Copies `name` of `s` to `name` of `d` (depth 0 at the top); its own failure is logged, a
/// failure inside a subdirectory was logged there.
pub fn copy_entry(s: Fd, d: Fd, name: &CStr, depth: usize) -> Result<(), Errno> {
    let st = sys::stat_in(s, name).map_err(|e| fail(name, e))?;
    if st.kind == FileType::Directory {
        return copy_subdir(s, d, name, st.mode, depth);
    }
    // Usually absent: replaced below either way.
    let _ = sys::unlink_in(d, name);
    let r = match st.kind {
        FileType::Symlink => {
            let mut t = [0u8; LINK_MAX + 1];
            sys::readlink_in(s, name, &mut t).and_then(|target| sys::symlink_in(target, d, name))
        }
        FileType::Fifo => sys::mkfifo_in(d, name, st.mode),
        _ => copy_file(s, d, name, st.mode),
    };
    r.map_err(|e| fail(name, e))
}

fn copy_subdir(s: Fd, d: Fd, name: &CStr, mode: u32, depth: usize) -> Result<(), Errno> {
    let dir = Open::RDONLY | Open::DIRECTORY;
    let r = (|| {
        if depth >= DEPTH_MAX {
            return Err(errno::ELOOP);
        }
        match sys::mkdir_in(d, name, mode) {
            Ok(()) | Err(errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
        let sd = sys::open_at(s, name, dir, 0)?;
        let dd = sys::open_at(d, name, dir, 0)?;
        Ok((sd, dd))
    })();
    let (sd, dd) = r.map_err(|e| fail(name, e))?;
    // EPERM on a file system without modes: the copy keeps the default mode.
    let _ = sys::fchmod(dd.fd(), mode);
    let r = copy_dir(sd.fd(), dd.fd(), depth + 1);
    drop(sd);
    drop(dd);
    r
}

/// Logs `e` on `name` and passes it on.
fn fail(name: &CStr, e: Errno) -> Errno {
    err::warn_unable(&[b"copy ", name.to_bytes()], e);
    e
}

fn copy_file(s: Fd, d: Fd, name: &CStr, mode: u32) -> Result<(), Errno> {
    let from = sys::open_at(s, name, Open::RDONLY, 0)?;
    let to = sys::open_at(d, name, Open::WRONLY | Open::CREATE | Open::TRUNC, mode)?;
    let mut buf = [0u8; CHUNK];
    let r = loop {
        match sys::read(from.fd(), &mut buf) {
            Ok(0) => break sys::fchmod(to.fd(), mode),
            Ok(n) => {
                if let Err(e) = sys::write_all(to.fd(), buf.get(..n).unwrap_or(&[])) {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    drop(to);
    r
}
