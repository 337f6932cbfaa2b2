//! An s6-rc source tree without a build step: `/etc/rinit/rc/` (or `-r
//! DIR`) is compiled into `/run/rinit/rc/compiled` at start, its live
//! state made in `/run/rinit/rc/live` over the scan directory, and every
//! service of the tree brought up by `rinit-rc` (in a child: CMD's wait
//! for it is bounded by `-w`). At the end `rinit-rc -bDa change` stops
//! them in reverse dependency order.

use crate::container::options::Options;
use crate::container::programs::Search;
use crate::container::services::SCANDIR;
use crate::spawn;
use base::err;
use base::path::PathBuf;
use base::sys::{self, errno, Argv, ArgvBuf, FileType, Pid};
use core::ffi::CStr;

pub const DIR: &CStr = c"/run/rinit/rc";
pub const COMPILED: &CStr = c"/run/rinit/rc/compiled";
pub const LIVE: &CStr = c"/run/rinit/rc/live";
/// Most services of the source tree named to `rinit-rc change`.
pub const NAMES_MAX: usize = 64;
/// Most bytes of their names (each with a NUL): one `Line`.
pub const NAMES_BYTES_MAX: usize = base::err::MSG_MAX;

/// How the start went.
pub enum Start {
    /// No source tree.
    Absent,
    /// Compiling or installing it failed (already said in one line).
    Failed,
    /// `rinit-rc -u change` is running.
    Started(Pid),
}

/// Is there a source tree (or was one named)? Then a scanner must run
/// for its longruns, with or without service directories.
pub fn present(o: &Options) -> bool {
    o.rc_given || PathBuf::join(o.rc, &[]).ok().and_then(|p| sys::exists(p.as_cstr()).ok()) == Some(true)
}

pub fn start(o: &Options, search: &Search) -> Start {
    let src = match PathBuf::join(o.rc, &[]) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_USAGE, &[b"use ", o.rc], e),
    };
    let dir = match sys::open_dir(src.as_cstr()) {
        Ok(fd) => fd,
        Err(errno::ENOENT) if !o.rc_given => return Start::Absent,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"open the rc source tree ", o.rc], e),
    };
    let mut names = crate::Line::new();
    let mut count = 0;
    let r = sys::read_dir(dir.fd(), &mut |name: &CStr, kind: FileType, _| {
        let n = name.to_bytes();
        if n.starts_with(b".") || !matches!(kind, FileType::Directory | FileType::Unknown | FileType::Symlink) {
            return;
        }
        if count >= NAMES_MAX || names.len() + n.len() + 1 > NAMES_BYTES_MAX {
            return err::warn(&[b"service ", n, b" is not brought up: more rc services than the capacity"]);
        }
        names.push(n).byte(0);
        count += 1;
    });
    drop(dir);
    if let Err(e) = r {
        err::warn_unable(&[b"read ", o.rc], e);
        return Start::Failed;
    }
    // EEXIST is fine; another failure makes the compiler say it.
    let _ = sys::mkdir(DIR, 0o755);

    let mut argv = ArgvBuf::<4>::new();
    for a in [c"rinit-rc-compile", COMPILED, src.as_cstr()] {
        argv.push(a);
    }
    if !run(c"rinit-rc-compile", argv.as_argv(), search, o.rc) {
        return Start::Failed;
    }
    // Its wait for the scanner is CMD's: bounded by -w.
    let mut wait = crate::Line::new();
    wait.u64(o.wait_ms.max(1)).byte(0);
    let mut argv = ArgvBuf::<9>::new();
    for a in [c"rinit-rc-init", c"-c", COMPILED, c"-l", LIVE, c"-t", sys::cstr(wait.as_bytes()).unwrap_or(c"5000"), SCANDIR] {
        argv.push(a);
    }
    if !run(c"rinit-rc-init", argv.as_argv(), search, o.rc) {
        return Start::Failed;
    }

    let mut argv = ArgvBuf::<{ NAMES_MAX + 8 }>::new();
    for a in [c"rinit-rc", if o.info() { c"-v2" } else { c"-v1" }, c"-l", LIVE, c"-u", c"change"] {
        argv.push(a);
    }
    let mut at = 0;
    let all = names.as_bytes();
    while let Some(len) = all.get(at..).and_then(|r| r.iter().position(|&c| c == 0)) {
        if let Some(c) = all.get(at..=at + len).and_then(sys::cstr) {
            argv.push(c);
        }
        at += len + 1;
    }
    match search.spawn(c"rinit-rc", argv.as_argv(), false, None) {
        Ok(pid) => Start::Started(pid),
        Err(e) => {
            err::warn_unable(&[b"spawn rinit-rc: the rc services stay down"], e);
            Start::Failed
        }
    }
}

/// Runs one step to its end; false (with one line) when it failed.
fn run(prog: &CStr, argv: Argv, search: &Search, src: &[u8]) -> bool {
    match search.run(prog, argv) {
        Ok(st) if st.exited() == Some(0) => true,
        Ok(st) => {
            let mut b = crate::Line::new();
            spawn::describe(&mut b, st);
            err::warn(&[prog.to_bytes(), b" ", b.as_bytes(), b": the services of ", src, b" stay down"]);
            false
        }
        Err(e) => {
            err::warn_unable(&[b"spawn ", prog.to_bytes(), b": the services of ", src, b" stay down"], e);
            false
        }
    }
}

/// `rinit-rc -bDa change`: every rc service down, in reverse dependency order.
pub fn stop(o: &Options, search: &Search) -> Option<Pid> {
    let mut argv = ArgvBuf::<8>::new();
    for a in [c"rinit-rc", if o.info() { c"-v2" } else { c"-v1" }, c"-l", LIVE, c"-bDa", c"change"] {
        argv.push(a);
    }
    search.spawn(c"rinit-rc", argv.as_argv(), false, None)
        .inspect_err(|e| err::warn_unable(&[b"spawn rinit-rc: the rc services are not stopped in order"], *e))
        .ok()
}
