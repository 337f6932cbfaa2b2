//! The services supervised beside CMD without a build step: every s6
//! service directory of `/etc/rinit/service/` (or `-s DIR`) is copied into
//! the scan directory `/run/rinit/service/` (the root may be read-only:
//! supervisors write `supervise/` and `event/` in their directory), and a
//! `rinit-scan` child of rinit supervises it. A directory without an
//! executable `run` is left out with one line; the others run.
//!
//! A longrun whose directory holds a file `critical` is watched through
//! its `event/` fifodir: when its `run` dies, the container stops.

use crate::container::options::Options;
use crate::runimage;
use crate::container::programs::Search;
use base::err;
use base::fifodir::{self, Listener};
use base::path::PathBuf;
use base::status;
use base::sys::{self, errno, ArgvBuf, FileType, Pid, PollFd};
use core::ffi::CStr;

/// The scan directory.
pub const SCANDIR: &CStr = c"/run/rinit/service";
/// Most services supervised beside CMD (each is named in the readiness wait).
pub const SERVICES_MAX: usize = 64;
/// Most bytes of their names (each with a NUL): one `Line`.
pub const NAMES_BYTES_MAX: usize = base::err::MSG_MAX;
/// Most services with a `critical` file (each holds a listener on its `event/`).
pub const CRITICAL_MAX: usize = 4;

pub struct Services {
    /// The names, each NUL-terminated, in the order they were found.
    names: crate::Line,
    count: usize,
    critical: [Option<Listener>; CRITICAL_MAX],
    /// The index in `names` of each critical service.
    critical_of: [usize; CRITICAL_MAX],
}

impl Services {
    pub fn any(&self) -> bool {
        self.count > 0
    }

    fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.names.as_bytes().split(|&c| c == 0).filter(|n| !n.is_empty())
    }

    fn name(&self, i: usize) -> &[u8] {
        self.names().nth(i).unwrap_or(b"")
    }

    /// Appends the names of the services not up (or, with a
    /// `notification-fd`, not ready) yet to `out`; returns how many.
    pub fn late(&self, out: &mut crate::Line) -> usize {
        let mut n = 0;
        for name in self.names() {
            let Ok(dir) = PathBuf::join(SCANDIR.to_bytes(), &[b"/", name]) else { continue };
            let ready = match status::read(dir.as_bytes()) {
                Ok(st) => st.is_up() && (st.ready || !notified(dir.as_bytes())),
                Err(_) => false,
            };
            if !ready {
                if n > 0 {
                    out.push(b", ");
                }
                out.push(name);
                n += 1;
            }
        }
        n
    }

    /// Puts the critical services' listeners in `fds` from `at`; returns how many.
    pub fn critical_fds(&self, fds: &mut [PollFd], at: usize) -> usize {
        let mut n = 0;
        for l in self.critical.iter().flatten() {
            if let Some(p) = fds.get_mut(at + n) {
                *p = PollFd::read(l.fd());
                n += 1;
            }
        }
        n
    }

    /// Reads the events of the `k`-th critical listener: when its `run`
    /// died, the service's name and its code (128+N for a signal).
    pub fn critical_death(&self, k: usize) -> Option<(&[u8], u8)> {
        // Filled in order and never emptied: the k-th listener is slot k.
        let l = self.critical.get(k)?.as_ref()?;
        let i = *self.critical_of.get(k)?;
        let mut buf = [0u8; base::wait::EVENT_READ_MAX];
        let mut died = false;
        while let Ok(n) = l.read(&mut buf) {
            if n == 0 {
                break;
            }
            died |= buf.get(..n).unwrap_or(&[]).contains(&b'd');
        }
        if !died {
            return None;
        }
        let name = self.name(i);
        let dir = PathBuf::join(SCANDIR.to_bytes(), &[b"/", name]).ok()?;
        let st = status::read(dir.as_bytes()).ok()?.wait_status();
        let code = match (st.exited(), st.signaled()) {
            (Some(c), _) => c,
            (None, Some(s)) => 128u8.saturating_add(s),
            _ => 111,
        };
        Some((name, code))
    }
}

/// Has the service directory a `notification-fd` (so ready means `U`)?
fn notified(dir: &[u8]) -> bool {
    base::servicedir::has(dir, base::servicedir::NOTIFICATION_FD).unwrap_or(false)
}

/// Copies the service directories into the scan directory. The scan
/// directory is made even when there are none: an rc tree's longruns go in it.
pub fn prepare(o: &Options) -> Services {
    let mut s = Services { names: crate::Line::new(), count: 0, critical: [const { None }; CRITICAL_MAX], critical_of: [0; CRITICAL_MAX] };
    if let Err(e) = sys::mkdir(SCANDIR, 0o755).or_else(|e| if e == errno::EEXIST { Ok(()) } else { Err(e) }) {
        err::fatal_unable(err::EXIT_SYS, &[b"create ", SCANDIR.to_bytes()], e);
    }
    let src_path = match PathBuf::join(o.services, &[]) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_USAGE, &[b"use ", o.services], e),
    };
    let src = match sys::open_dir(src_path.as_cstr()) {
        Ok(fd) => fd,
        Err(errno::ENOENT) if !o.services_given => return s,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"open the service directories ", o.services], e),
    };
    let dst = sys::open_dir(SCANDIR).unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"open ", SCANDIR.to_bytes()], e));
    let r = sys::read_dir(src.fd(), &mut |name: &CStr, kind: FileType, _| {
        let n = name.to_bytes();
        if n.starts_with(b".") {
            return;
        }
        if kind != FileType::Directory && kind != FileType::Unknown && kind != FileType::Symlink {
            return err::warn(&[b"ignoring ", o.services, b"/", n, b": not a service directory"]);
        }
        let run = PathBuf::join(o.services, &[b"/", n, b"/run"]);
        if let Err(e) = run.as_ref().map_err(|e| *e).and_then(|r| sys::access_exec(r.as_cstr())) {
            return err::warn_sys(&[b"ignoring service ", n, b": unable to run ", o.services, b"/", n, b"/run"], e);
        }
        if s.count >= SERVICES_MAX || s.names.len() + n.len() + 1 > NAMES_BYTES_MAX {
            return err::warn(&[b"ignoring service ", n, b": more services than the capacity"]);
        }
        if runimage::copy_entry(src.fd(), dst.fd(), name, 0).is_err() {
            return err::warn(&[b"ignoring service ", n, b": unable to copy it into ", SCANDIR.to_bytes()]);
        }
        s.names.push(n).byte(0);
        s.count += 1;
        if o.prefix {
            crate::container::prefix::add(dst.fd(), name);
        }
        if is_critical(o.services, n) {
            watch(&mut s, n);
        }
    });
    if let Err(e) = r {
        err::warn_unable(&[b"read ", o.services], e);
    }
    drop(src);
    s
}

fn is_critical(src: &[u8], name: &[u8]) -> bool {
    PathBuf::join(src, &[b"/", name]).ok().and_then(|d| base::servicedir::has(d.as_bytes(), b"critical").ok()).unwrap_or(false)
}

/// Subscribes to a critical service's events: its fifodir is made now, so
/// no death can happen before the listener is there.
fn watch(s: &mut Services, name: &[u8]) {
    let idx = s.count - 1;
    let Some(k) = s.critical.iter().position(|c| c.is_none()) else {
        return err::warn(&[b"service ", name, b" is not watched as critical: more critical services than the capacity"]);
    };
    let r = PathBuf::join(SCANDIR.to_bytes(), &[b"/", name, b"/event"])
        .and_then(|ev| fifodir::create(ev.as_bytes(), None).and_then(|_| Listener::new(ev.as_bytes())));
    match r {
        Ok(l) => {
            if let (Some(c), Some(i)) = (s.critical.get_mut(k), s.critical_of.get_mut(k)) {
                *c = Some(l);
                *i = idx;
            }
        }
        Err(e) => err::warn_sys(&[b"service ", name, b" is not watched as critical: unable to listen to its events"], e),
    }
}

/// Starts `rinit-scan -d 3 /run/rinit/service` in its own session (a
/// Ctrl-C on the container's terminal is CMD's, not the supervisors'), and
/// waits for its readiness line: rinit-rc-init talks to it next.
pub fn start_scanner(search: &Search) -> Option<Pid> {
    let (rd, wr) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => {
            err::warn_unable(&[b"make a pipe: the services will not run"], e);
            return None;
        }
    };
    let mut fd = crate::Line::new();
    fd.u64(wr.fd().0 as u64).byte(0);
    let mut argv = ArgvBuf::<5>::new();
    for a in [c"rinit-scan", c"-d", sys::cstr(fd.as_bytes()).unwrap_or(c"3"), SCANDIR] {
        argv.push(a);
    }
    let r = search.spawn(c"rinit-scan", argv.as_argv(), true, Some(wr.fd()));
    drop(wr);
    let pid = r.inspect_err(|e| err::warn_unable(&[b"spawn rinit-scan: the services will not run"], *e)).ok();
    if pid.is_some() {
        // A line, or the end of the pipe when it could not start (it said why).
        let mut b = [0u8; 1];
        // Either way the wait is over: a scanner that failed said why.
        let _ = sys::read(rd.fd(), &mut b);
    }
    drop(rd);
    pid
}
