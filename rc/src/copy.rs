//! Copying service directory trees (source → compiled → scan dir) and
//! writing whole files, with fixed buffers.

use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, Errno, FileType, Open, errno};

/// Deepest directory nesting copied inside one service directory.
pub const MAX_DEPTH: usize = 8;

/// Bytes of the path a `Fail` keeps for its message; a longer one is cut,
/// ending in `...`.
pub const FAIL_PATH_MAX: usize = 1024;

/// A failed copy: what was attempted, on which path, and why.
pub struct Fail {
    pub what: &'static [u8],
    pub path: Buf<FAIL_PATH_MAX>,
    pub e: Errno,
}

impl Fail {
    /// `PROG: warning: unable to WHAT PATH: REASON`.
    pub fn warn(&self) {
        base::err::warn_unable(&[self.what, self.path.as_bytes()], self.e)
    }
    /// `PROG: fatal: unable to WHAT PATH: REASON`, exit 111.
    pub fn fatal(&self) -> ! {
        base::err::fatal_unable(
            base::err::EXIT_SYS,
            &[b"", self.what, self.path.as_bytes()],
            self.e,
        )
    }
}

/// What failed on which path.
pub fn fail(what: &'static [u8], p: &PathBuf, e: Errno) -> Fail {
    let mut path = Buf::new();
    path.push(p.as_bytes()).mark_cut();
    Fail { what, path, e }
}

/// Copies the tree `src` to `dst` (created; may exist), files with their
/// mode. Top-level entries for which `skip(name)` holds are left out; the
/// copies of top-level files named in `exec` get mode 0755, as
/// s6-rc-compile makes `run` and `finish` executable: trees kept in
/// version control often lose the bit, and a `run` the supervisor cannot
/// execute never starts.
pub fn copy_tree(
    src: &mut PathBuf,
    dst: &mut PathBuf,
    skip: &dyn Fn(&[u8]) -> bool,
    exec: &[&[u8]],
) -> Result<(), Fail> {
    copy_dir(src, dst, skip, exec, 0)
}

fn copy_dir(
    src: &mut PathBuf,
    dst: &mut PathBuf,
    skip: &dyn Fn(&[u8]) -> bool,
    exec: &[&[u8]],
    depth: usize,
) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(fail(b"copy (nested too deeply) ", src, errno::ELOOP));
    }
    let st = sys::stat(src.as_cstr()).map_err(|e| fail(b"stat ", src, e))?;
    match sys::mkdir(dst.as_cstr(), st.mode | 0o700) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(fail(b"mkdir ", dst, e)),
    }
    let fd = sys::open_dir(src.as_cstr()).map_err(|e| fail(b"open ", src, e))?;
    let (sl, dl) = (src.len(), dst.len());
    let mut res = Ok(());
    let r = sys::read_dir(fd.fd(), &mut |name, kind, _| {
        let n = name.to_bytes();
        if res.is_err() || (depth == 0 && skip(n)) {
            return;
        }
        src.truncate(sl);
        dst.truncate(dl);
        if src.push(b"/").and_then(|p| p.push(n)).is_err()
            || dst.push(b"/").and_then(|p| p.push(n)).is_err()
        {
            res = Err(fail(b"copy ", src, errno::ENAMETOOLONG));
            return;
        }
        let kind = match kind {
            FileType::Unknown | FileType::Symlink => match sys::stat(src.as_cstr()) {
                Ok(s) => s.kind,
                Err(e) => {
                    res = Err(fail(b"stat ", src, e));
                    return;
                }
            },
            k => k,
        };
        res = match kind {
            FileType::Directory => copy_dir(src, dst, skip, exec, depth + 1),
            FileType::RegularFile => copy_file_as(src, dst, (depth == 0 && exec.contains(&n)).then_some(0o755)),
            _ => Ok(()), // FIFOs, sockets, devices: a service dir's supervise/ leftovers
        };
    });
    src.truncate(sl);
    dst.truncate(dl);
    drop(fd);
    res?;
    r.map_err(|e| fail(b"read directory ", src, e))
}

/// Copies one regular file, keeping its mode.
pub fn copy_file(src: &PathBuf, dst: &PathBuf) -> Result<(), Fail> {
    copy_file_as(src, dst, None)
}

/// Copies one regular file, with `mode` or else the source's.
fn copy_file_as(src: &PathBuf, dst: &PathBuf, mode: Option<u32>) -> Result<(), Fail> {
    // One fstat tells both that this is a regular file (open_read's check)
    // and its mode and size.
    let i = sys::open(src.as_cstr(), Open::RDONLY | Open::NONBLOCK, 0).map_err(|e| fail(b"open ", src, e))?;
    let st = match sys::fstat(i.fd()) {
        Ok(st) if st.kind == FileType::RegularFile => st,
        Ok(_) => return Err(fail(b"open ", src, errno::ENOTREG)),
        Err(e) => return Err(fail(b"stat ", src, e)),
    };
    let mode = mode.unwrap_or(st.mode & 0o7777);
    let o = match sys::open(
        dst.as_cstr(),
        Open::WRONLY | Open::CREATE | Open::TRUNC,
        mode,
    ) {
        Ok(o) => o,
        Err(e) => {
            drop(i);
            return Err(fail(b"create ", dst, e));
        }
    };
    let mut buf = [0u8; 16384];
    let mut copied = 0u64;
    let r = loop {
        match sys::read(i.fd(), &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = sys::write_all(o.fd(), buf.get(..n).unwrap_or(&[])) {
                    break Err(fail(b"write ", dst, e));
                }
                copied += n as u64;
                // The size fstat gave is reached: that is the end, without
                // one more read to hear it (a file still growing is copied
                // as it was then). A size of 0 says nothing (a file a
                // kernel makes up as it is read): read to the end.
                if st.size > 0 && copied >= st.size {
                    break Ok(());
                }
            }
            Err(e) => break Err(fail(b"read ", src, e)),
        }
    };
    // EPERM on a file system without modes: the copy keeps the default mode.
    let _ = sys::fchmod(o.fd(), mode);
    drop(i);
    r
}

/// Writes `data` to `path` (created or truncated) with `mode`.
pub fn write_file(path: &PathBuf, data: &[u8], mode: u32) -> Result<(), Fail> {
    let fd = sys::open(
        path.as_cstr(),
        Open::WRONLY | Open::CREATE | Open::TRUNC,
        mode,
    )
    .map_err(|e| fail(b"create ", path, e))?;
    
    sys::write_all(fd.fd(), data).map_err(|e| fail(b"write ", path, e))
}

/// Writes `data` to `path` atomically: `path.new`, then rename.
pub fn write_file_atomic(path: &PathBuf, data: &[u8], mode: u32) -> Result<(), Fail> {
    let mut tmp = PathBuf::new();
    tmp.push(path.as_bytes())
        .and_then(|t| t.push(b".new"))
        .map_err(|e| fail(b"create ", path, e))?;
    write_file(&tmp, data, mode)?;
    sys::rename(tmp.as_cstr(), path.as_cstr()).map_err(|e| fail(b"rename ", path, e))
}

/// Removes the tree `p` (files, FIFOs, directories), depth-first.
pub fn remove_tree(p: &mut PathBuf) -> Result<(), Fail> {
    remove_in(p, 0)
}

fn remove_in(p: &mut PathBuf, depth: usize) -> Result<(), Fail> {
    match sys::lstat(p.as_cstr()) {
        Err(errno::ENOENT) => return Ok(()),
        Err(e) => return Err(fail(b"stat ", p, e)),
        Ok(st) if st.kind != FileType::Directory => {
            return sys::unlink(p.as_cstr()).map_err(|e| fail(b"unlink ", p, e));
        }
        Ok(_) => {}
    }
    if depth > MAX_DEPTH + 2 {
        return Err(fail(b"remove (nested too deeply) ", p, errno::ELOOP));
    }
    // Removing entries while reading a directory may skip some: a few
    // passes until rmdir works.
    for _ in 0..4 {
        empty_dir(p, depth)?;
        match sys::rmdir(p.as_cstr()) {
            Ok(()) => return Ok(()),
            Err(errno::ENOTEMPTY) => continue,
            Err(e) => return Err(fail(b"rmdir ", p, e)),
        }
    }
    Err(fail(b"rmdir ", p, errno::ENOTEMPTY))
}

fn empty_dir(p: &mut PathBuf, depth: usize) -> Result<(), Fail> {
    let fd = sys::open_dir(p.as_cstr()).map_err(|e| fail(b"open ", p, e))?;
    let l = p.len();
    let mut res = Ok(());
    let r = sys::read_dir(fd.fd(), &mut |name, _, _| {
        if res.is_err() {
            return;
        }
        p.truncate(l);
        if p.push(b"/").and_then(|q| q.push(name.to_bytes())).is_err() {
            res = Err(fail(b"remove ", p, errno::ENAMETOOLONG));
            return;
        }
        res = remove_in(p, depth + 1);
    });
    p.truncate(l);
    drop(fd);
    res?;
    r.map_err(|e| fail(b"read directory ", p, e))
}

/// Do the trees `a` and `b` hold the same names, kinds and file contents?
pub fn same_tree(a: &mut PathBuf, b: &mut PathBuf) -> Result<bool, Fail> {
    same_in(a, b, 0)
}

fn count(p: &PathBuf) -> Result<usize, Fail> {
    let fd = sys::open_dir(p.as_cstr()).map_err(|e| fail(b"open ", p, e))?;
    let mut n = 0;
    let r = sys::read_dir(fd.fd(), &mut |_, _, _| n += 1);
    drop(fd);
    r.map_err(|e| fail(b"read directory ", p, e))?;
    Ok(n)
}

fn same_in(a: &mut PathBuf, b: &mut PathBuf, depth: usize) -> Result<bool, Fail> {
    let (sa, sb) = match (sys::stat(a.as_cstr()), sys::stat(b.as_cstr())) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(errno::ENOENT), _) | (_, Err(errno::ENOENT)) => return Ok(false),
        (Err(e), _) => return Err(fail(b"stat ", a, e)),
        (_, Err(e)) => return Err(fail(b"stat ", b, e)),
    };
    if sa.kind != sb.kind || sa.mode != sb.mode {
        return Ok(false);
    }
    match sa.kind {
        FileType::RegularFile => same_file(a, b, sa.size, sb.size),
        FileType::Directory => {
            if depth > MAX_DEPTH || count(a)? != count(b)? {
                return Ok(false);
            }
            let fd = sys::open_dir(a.as_cstr()).map_err(|e| fail(b"open ", a, e))?;
            let (la, lb) = (a.len(), b.len());
            let mut res = Ok(true);
            let r = sys::read_dir(fd.fd(), &mut |name, _, _| {
                if !matches!(res, Ok(true)) {
                    return;
                }
                a.truncate(la);
                b.truncate(lb);
                let n = name.to_bytes();
                if a.push(b"/").and_then(|p| p.push(n)).is_err()
                    || b.push(b"/").and_then(|p| p.push(n)).is_err()
                {
                    res = Ok(false);
                    return;
                }
                res = same_in(a, b, depth + 1);
            });
            a.truncate(la);
            b.truncate(lb);
            drop(fd);
            r.map_err(|e| fail(b"read directory ", a, e))?;
            res
        }
        _ => Ok(true),
    }
}

fn same_file(a: &PathBuf, b: &PathBuf, la: u64, lb: u64) -> Result<bool, Fail> {
    if la != lb {
        return Ok(false);
    }
    let fa = sys::open_read(a.as_cstr()).map_err(|e| fail(b"open ", a, e))?;
    let fb = match sys::open_read(b.as_cstr()) {
        Ok(f) => f,
        Err(e) => {
            drop(fa);
            return Err(fail(b"open ", b, e));
        }
    };
    let mut x = [0u8; 4096];
    let mut y = [0u8; 4096];
    let r = loop {
        match (sys::read_full(fa.fd(), &mut x), sys::read_full(fb.fd(), &mut y)) {
            (Ok(n), Ok(m)) if n != m || x.get(..n) != y.get(..m) => break Ok(false),
            (Ok(0), Ok(_)) => break Ok(true),
            (Ok(_), Ok(_)) => {}
            (Err(e), _) => break Err(fail(b"read ", a, e)),
            (_, Err(e)) => break Err(fail(b"read ", b, e)),
        }
    };
    drop(fa);
    r
}
