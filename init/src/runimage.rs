//! The run-image: the basedir's skeleton of the live directory (the scan
//! directory with the catch-all logger and the shutdown daemon, the log
//! directory), copied into the fresh /run at boot. Directories, regular
//! files, symlinks and FIFOs are copied with their modes.

use base::err;
use base::path::PathBuf;
use base::sys::{self, errno, Errno, FileType, Open};
use core::ffi::CStr;

/// Deepest directory nesting copied.
pub const DEPTH_MAX: usize = 8;
/// Copy buffer size.
const CHUNK: usize = 4096;
/// Longest symlink target copied.
pub const LINK_MAX: usize = 1024;

/// Copies the contents of directory `src` into directory `dst` (created if
/// missing; existing entries are overwritten). A failure is logged with the
/// path it happened on.
pub fn copy(src: &[u8], dst: &[u8]) -> Result<(), Errno> {
    let mut s = PathBuf::new();
    let mut d = PathBuf::new();
    s.push(src)?;
    d.push(dst)?;
    copy_dir(&mut s, &mut d, 0)
}

/// Logs `e` on `p` and passes it on.
fn fail(p: &PathBuf, e: Errno) -> Errno {
    err::warn_sys(&[b"unable to copy ", p.as_bytes()], e);
    e
}

fn copy_dir(s: &mut PathBuf, d: &mut PathBuf, depth: usize) -> Result<(), Errno> {
    if depth > DEPTH_MAX {
        return Err(fail(s, errno::ELOOP));
    }
    let st = sys::stat(s.as_cstr()).map_err(|e| fail(s, e))?;
    match sys::mkdir(d.as_cstr(), st.mode) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(fail(d, e)),
    }
    let _ = sys::chmod(d.as_cstr(), st.mode);
    let fd = sys::open_dir(s.as_cstr()).map_err(|e| fail(s, e))?;
    let mut r = Ok(());
    let res = sys::read_dir(fd, &mut |name: &CStr, kind: FileType| {
        if r.is_ok() {
            r = copy_entry(s, d, name.to_bytes(), kind, depth);
        }
    });
    sys::close(fd);
    res.map_err(|e| fail(s, e))?;
    r
}

/// Copies `s/name` to `d/name`, leaving `s` and `d` as they were.
fn copy_entry(s: &mut PathBuf, d: &mut PathBuf, name: &[u8], kind: FileType, depth: usize) -> Result<(), Errno> {
    let (sl, dl) = (s.len(), d.len());
    let r = s.push(b"/").and_then(|s| s.push(name)).and_then(|_| d.push(b"/")).and_then(|d| d.push(name));
    let r = match r {
        Ok(_) => copy_one(s, d, kind, depth),
        Err(e) => Err(fail(s, e)),
    };
    s.truncate(sl);
    d.truncate(dl);
    r
}

fn copy_one(s: &mut PathBuf, d: &mut PathBuf, kind: FileType, depth: usize) -> Result<(), Errno> {
    let (sc, dc) = (s.as_cstr(), d.as_cstr());
    let st = sys::lstat(sc).map_err(|e| fail(s, e))?;
    let kind = if kind == FileType::Unknown { st.kind } else { kind };
    let _ = if kind == FileType::Directory { Ok(()) } else { sys::unlink(dc) };
    let r = match kind {
        FileType::Directory => return copy_dir(s, d, depth + 1),
        FileType::Symlink => {
            let mut t = [0u8; LINK_MAX + 1];
            let target = sys::readlink(sc, &mut t).map_err(|e| fail(s, e))?;
            let n = target.len();
            match t.get_mut(n) {
                Some(z) => *z = 0,
                None => return Err(fail(s, errno::ENAMETOOLONG)),
            }
            match CStr::from_bytes_with_nul(t.get(..n + 1).unwrap_or(&[])) {
                Ok(tc) => sys::symlink(tc, dc),
                Err(_) => Err(errno::EINVAL),
            }
        }
        FileType::Fifo => sys::mkfifo(dc, st.mode),
        _ => copy_file(sc, dc, st.mode),
    };
    r.map_err(|e| fail(d, e))
}

fn copy_file(s: &CStr, d: &CStr, mode: u32) -> Result<(), Errno> {
    let from = sys::open_read(s)?;
    let to = match sys::open(d, Open::WRONLY | Open::CREATE | Open::TRUNC, mode) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(from);
            return Err(e);
        }
    };
    let mut buf = [0u8; CHUNK];
    let r = loop {
        match sys::read(from, &mut buf) {
            Ok(0) => break sys::fchmod(to, mode),
            Ok(n) => {
                if let Err(e) = sys::write_all(to, buf.get(..n).unwrap_or(&[])) {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    sys::close(to);
    sys::close(from);
    r
}
