//! This process and its children: ids, limits, directory, exec with a
//! `PATH` search, and how a child ended.

use super::calls::{bfd, exec, getrlimit, setrlimit, wait4};
use super::{Argv, Errno, Fd, Result, errno, getenv};
use core::ffi::CStr;
use linux_raw_sys::general as k;
use rustix::fs::Mode;

pub type Pid = i32;
/// Like `exec`, but a name without `/` is looked up in `$PATH` (default
/// `/usr/bin:/bin:/usr/sbin:/sbin`).
pub fn exec_path(name: &CStr, argv: Argv, env: Option<Argv>) -> Errno {
    let path = match getenv(b"PATH") {
        Some(p) => p.to_bytes(),
        None => b"/usr/bin:/bin:/usr/sbin:/sbin",
    };
    exec_search(name, path, argv, env)
}

/// Like `exec_path`, with the search list given (e.g. the PATH of the
/// environment about to be handed to the program, not this process's).
pub fn exec_search(name: &CStr, path: &[u8], argv: Argv, env: Option<Argv>) -> Errno {
    let n = name.to_bytes();
    // A plain loop, not `contains`: that brings core's ~200-byte memchr
    // into every binary that spawns.
    if n.iter().any(|&c| c == b'/') {
        return exec(name, argv, env);
    }
    let mut last = errno::ENOENT;
    for dir in path.split(|&c| c == b':') {
        let mut buf = crate::path::PathBuf::new();
        let d = if dir.is_empty() { &b"."[..] } else { dir };
        if buf.push(d).and_then(|b| b.push(b"/")).and_then(|b| b.push(n)).is_err() {
            last = errno::ENAMETOOLONG;
            continue;
        }
        let e = exec(buf.as_cstr(), argv, env);
        if e != errno::ENOENT && e != errno::ENOTDIR {
            last = e;
        }
    }
    last
}

/// How a child ended, in wait(2)'s encoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    pub fn exited(self) -> Option<u8> {
        if self.0 & 0x7f == 0 { Some(((self.0 >> 8) & 0xff) as u8) } else { None }
    }
    pub fn signaled(self) -> Option<u8> {
        let s = self.0 & 0x7f;
        if s != 0 && s != 0x7f { Some(s as u8) } else { None }
    }
    /// s6's "exit code": the code, or 256 when killed by a signal.
    pub fn code_or_256(self) -> u16 {
        match self.exited() {
            Some(c) => c as u16,
            None => 256,
        }
    }
}

/// Reaps one child without blocking: Ok(None) when none has ended yet,
/// Err(ECHILD) when there are no children at all.
pub fn wait_any_nohang() -> Result<Option<(Pid, WaitStatus)>> {
    wait4(-1, k::WNOHANG)
}

/// Waits for `pid` (blocking).
pub fn wait_pid(pid: Pid) -> Result<WaitStatus> {
    loop {
        match wait4(pid, 0) {
            Ok(Some((_, st))) => return Ok(st),
            Ok(None) => continue,
            Err(errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reaps `pid` if it has ended.
pub fn wait_pid_nohang(pid: Pid) -> Result<Option<WaitStatus>> {
    wait4(pid, k::WNOHANG).map(|o| o.map(|(_, s)| s))
}
pub fn getpid() -> Pid {
    rustix::process::getpid().as_raw_nonzero().get()
}

pub fn getppid() -> Pid {
    rustix::process::getppid().map(|p| p.as_raw_nonzero().get()).unwrap_or(0)
}

pub fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

pub fn getgid() -> u32 {
    rustix::process::getgid().as_raw()
}

/// The effective user id (owner of what this process creates).
pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The effective group id (owner group of what this process creates).
pub fn getegid() -> u32 {
    rustix::process::getegid().as_raw()
}

pub fn setsid() -> Result<Pid> {
    Ok(rustix::process::setsid()?.as_raw_nonzero().get())
}
/// Makes this process a subreaper: orphans below it are reparented to it.
pub fn set_child_subreaper() -> Result<()> {
    Ok(rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?)
}

pub fn umask(mask: u32) -> u32 {
    rustix::process::umask(Mode::from_bits_retain(mask)).bits()
}

pub fn chdir(path: &CStr) -> Result<()> {
    Ok(rustix::process::chdir(path)?)
}

pub fn fchdir(fd: Fd) -> Result<()> {
    Ok(rustix::process::fchdir(bfd(fd))?)
}

/// Raises the soft limit of `resource` to its hard limit (e.g. RLIMIT_NOFILE
/// for a scanner that holds two pipe ends per logged service).
pub fn raise_rlimit(resource: u32) -> Result<()> {
    let (_, hard) = getrlimit(resource)?;
    setrlimit(resource, hard, hard)
}

/// Raises the soft limit of `resource` to at least `want` (capped by the
/// hard limit), never lowering it: children inherit a modest limit, not
/// the hard one.
pub fn raise_rlimit_to(resource: u32, want: u64) -> Result<()> {
    let (soft, hard) = getrlimit(resource)?;
    if soft >= want {
        return Ok(());
    }
    setrlimit(resource, want.min(hard), hard)
}
