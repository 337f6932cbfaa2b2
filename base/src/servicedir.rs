//! The files of a service directory, as a supervisor reads them: the one
//! reader of `down`, `notification-fd`, `timeout-kill`, `timeout-finish`,
//! `max-death-tally`, `down-signal`, `reload-signal`, `nosetsid`, `lock-fd`,
//! and rinit's `notify-socket`, `check-interval`, `timeout-ready`,
//! `timeout-watchdog`.
//! Each is read when it is needed, as s6 does, so editing one takes effect
//! at the next start or stop without restarting the supervisor.
//!
//! Every reader takes the service directory (`.` when the caller is in it)
//! and gives the file's value, or its default when the file is absent;
//! EINVAL when the content is not a valid value, the open error otherwise.

use crate::fmt;
use crate::sys::{self, errno, sig, Errno};
use core::ffi::CStr;

pub const RUN: &[u8] = b"run";
pub const FINISH: &[u8] = b"finish";
pub const DOWN: &[u8] = b"down";
pub const NOTIFICATION_FD: &[u8] = b"notification-fd";
pub const TIMEOUT_KILL: &[u8] = b"timeout-kill";
pub const TIMEOUT_FINISH: &[u8] = b"timeout-finish";
pub const MAX_DEATH_TALLY: &[u8] = b"max-death-tally";
pub const DOWN_SIGNAL: &[u8] = b"down-signal";
pub const RELOAD_SIGNAL: &[u8] = b"reload-signal";
pub const NOSETSID: &[u8] = b"nosetsid";
pub const LOCK_FD: &[u8] = b"lock-fd";
// rinit's own files (s6's tools ignore them).
pub const NOTIFY_SOCKET: &[u8] = b"notify-socket";
pub const CHECK: &[u8] = b"check";
pub const CHECK_INTERVAL: &[u8] = b"check-interval";
pub const TIMEOUT_READY: &[u8] = b"timeout-ready";
pub const TIMEOUT_WATCHDOG: &[u8] = b"timeout-watchdog";
/// rinit's pipeline wiring (rinit-rc-init writes them): `pipe-in`, a FIFO
/// that is `run`'s stdin, and `pipe-out`, a symlink to the consumer's
/// `pipe-in` that is `run`'s stdout.
pub const PIPE_IN: &CStr = c"pipe-in";
pub const PIPE_OUT: &CStr = c"pipe-out";

/// How long `finish` may run when `timeout-finish` is absent (ms).
pub const TIMEOUT_FINISH_DEFAULT: u64 = 5000;
/// Death records kept when `max-death-tally` is absent.
pub const MAX_DEATH_TALLY_DEFAULT: u64 = 100;
/// Most death records a `max-death-tally` may ask for (s6's cap).
pub const MAX_DEATH_TALLY_CAP: u64 = 4096;
/// Milliseconds between two runs of `check` when `check-interval` is absent.
pub const CHECK_INTERVAL_DEFAULT: u64 = 1000;
/// Longest content of a one-value file; longer is invalid.
pub const VALUE_MAX: usize = 32;

/// Longest service directory path the readers take (the supervisor's is
/// `.`); a longer one is ENAMETOOLONG.
pub const DIR_MAX: usize = 200;

/// Calls `f` on `dir/file`, built in a few hundred bytes of stack: the
/// supervisor keeps its stack to one page, and a PathBuf is 4 KiB.
fn at(dir: &[u8], file: &[u8], f: &mut dyn FnMut(&CStr) -> Result<usize, Errno>) -> Result<usize, Errno> {
    let mut b = [0u8; DIR_MAX + 24];
    let mut n = 0;
    for part in [dir, b"/", file] {
        match b.get_mut(n..n + part.len()) {
            Some(d) => d.copy_from_slice(part),
            None => return Err(errno::ENAMETOOLONG),
        }
        n += part.len();
    }
    f(sys::cstr(b.get(..=n).ok_or(errno::ENAMETOOLONG)?).ok_or(errno::EINVAL)?)
}

/// Does `dir/file` exist (as anything, following symlinks)?
pub fn has(dir: &[u8], file: &[u8]) -> Result<bool, Errno> {
    at(dir, file, &mut |p| sys::exists(p).map(usize::from)).map(|n| n != 0)
}

/// The trimmed content of a small file; None when absent. One read: these
/// files are a few bytes, and one that fills the buffer is invalid.
fn value<'a>(dir: &[u8], file: &[u8], buf: &'a mut [u8; VALUE_MAX]) -> Result<Option<&'a [u8]>, Errno> {
    const ABSENT: usize = usize::MAX;
    let n = at(dir, file, &mut |p| {
        let fd = match sys::open_read(p) {
            Ok(fd) => fd,
            Err(errno::ENOENT) => return Ok(ABSENT),
            Err(e) => return Err(e),
        };
        sys::read(fd.fd(), buf)
    })?;
    match n {
        ABSENT => Ok(None),
        VALUE_MAX => Err(errno::EINVAL),
        n => Ok(Some(fmt::trim(buf.get(..n).unwrap_or(&[])))),
    }
}

fn number(dir: &[u8], file: &[u8]) -> Result<Option<u64>, Errno> {
    let mut buf = [0u8; VALUE_MAX];
    match value(dir, file, &mut buf)? {
        None => Ok(None),
        Some(v) => fmt::parse_u64(v).map(Some).ok_or(errno::EINVAL),
    }
}

fn signal(dir: &[u8], file: &[u8], default: i32) -> Result<i32, Errno> {
    let mut buf = [0u8; VALUE_MAX];
    match value(dir, file, &mut buf)? {
        None => Ok(default),
        Some(v) => sig::parse(v).ok_or(errno::EINVAL),
    }
}

fn fd_number(dir: &[u8], file: &[u8]) -> Result<Option<u32>, Errno> {
    match number(dir, file)? {
        Some(n) if n > i32::MAX as u64 => Err(errno::EINVAL),
        n => Ok(n.map(|n| n as u32)),
    }
}

/// Does the service directory open as `dir` have a `notification-fd` (its
/// `run` notifies readiness)? Presence only: what a reader outside the
/// supervisor needs, without a path.
pub fn notifies_in(dir: sys::Fd) -> bool {
    sys::exists_in(dir, c"notification-fd")
}

/// Does the service start down (a `down` file)?
pub fn is_down(dir: &[u8]) -> Result<bool, Errno> {
    has(dir, DOWN)
}

/// Must `run` stay in the supervisor's session (a `nosetsid` file)?
pub fn nosetsid(dir: &[u8]) -> Result<bool, Errno> {
    has(dir, NOSETSID)
}

/// The descriptor `run` signals readiness on, if it does.
pub fn notification_fd(dir: &[u8]) -> Result<Option<u32>, Errno> {
    fd_number(dir, NOTIFICATION_FD)
}

/// The descriptor `run` gets its lock on, if any.
pub fn lock_fd(dir: &[u8]) -> Result<Option<u32>, Errno> {
    fd_number(dir, LOCK_FD)
}

/// Milliseconds after the down signal before KILL; 0 = never.
pub fn timeout_kill(dir: &[u8]) -> Result<u64, Errno> {
    Ok(number(dir, TIMEOUT_KILL)?.unwrap_or(0))
}

/// Milliseconds `finish` may run before KILL; 0 = forever.
pub fn timeout_finish(dir: &[u8]) -> Result<u64, Errno> {
    Ok(number(dir, TIMEOUT_FINISH)?.unwrap_or(TIMEOUT_FINISH_DEFAULT))
}

/// How many death records to keep (capped at MAX_DEATH_TALLY_CAP).
pub fn max_death_tally(dir: &[u8]) -> Result<u64, Errno> {
    Ok(number(dir, MAX_DEATH_TALLY)?.unwrap_or(MAX_DEATH_TALLY_DEFAULT).min(MAX_DEATH_TALLY_CAP))
}

/// The signal that asks `run` to stop (default TERM).
pub fn down_signal(dir: &[u8]) -> Result<i32, Errno> {
    signal(dir, DOWN_SIGNAL, sig::TERM)
}

/// The signal that asks `run` to reload (default HUP).
pub fn reload_signal(dir: &[u8]) -> Result<i32, Errno> {
    signal(dir, RELOAD_SIGNAL, sig::HUP)
}

/// Does `run` get an sd_notify socket (a `notify-socket` file)?
pub fn notify_socket(dir: &[u8]) -> Result<bool, Errno> {
    has(dir, NOTIFY_SOCKET)
}

/// Milliseconds between two runs of `check`; 0 is invalid (it would run
/// without pause).
pub fn check_interval(dir: &[u8]) -> Result<u64, Errno> {
    match number(dir, CHECK_INTERVAL)? {
        Some(0) => Err(errno::EINVAL),
        n => Ok(n.unwrap_or(CHECK_INTERVAL_DEFAULT)),
    }
}

/// Milliseconds `run` has to become ready; 0 = forever.
pub fn timeout_ready(dir: &[u8]) -> Result<u64, Errno> {
    Ok(number(dir, TIMEOUT_READY)?.unwrap_or(0))
}

/// Milliseconds a ready service may go without `WATCHDOG=1`; 0 = forever.
pub fn timeout_watchdog(dir: &[u8]) -> Result<u64, Errno> {
    Ok(number(dir, TIMEOUT_WATCHDOG)?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rinit-servicedir-{}-{name}", std::process::id()));
        // A leftover from an earlier run, or nothing.
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (f, c) in files {
            std::fs::write(d.join(f), c).unwrap();
        }
        d
    }

    #[test]
    fn absent_files_give_the_defaults() {
        let d = dir("empty", &[]);
        let b = d.to_str().unwrap().as_bytes();
        assert_eq!(is_down(b), Ok(false));
        assert_eq!(nosetsid(b), Ok(false));
        assert_eq!(notification_fd(b), Ok(None));
        assert_eq!(timeout_kill(b), Ok(0));
        assert_eq!(timeout_finish(b), Ok(TIMEOUT_FINISH_DEFAULT));
        assert_eq!(max_death_tally(b), Ok(MAX_DEATH_TALLY_DEFAULT));
        assert_eq!(down_signal(b), Ok(sig::TERM));
        assert_eq!(reload_signal(b), Ok(sig::HUP));
        assert_eq!(notify_socket(b), Ok(false));
        assert_eq!(check_interval(b), Ok(CHECK_INTERVAL_DEFAULT));
        assert_eq!(timeout_ready(b), Ok(0));
        assert_eq!(timeout_watchdog(b), Ok(0));
    }

    #[test]
    fn readiness_files_are_read() {
        let d = dir("ready", &[("notify-socket", ""), ("check-interval", "300\n"), ("timeout-ready", "2000"), ("timeout-watchdog", "500")]);
        let b = d.to_str().unwrap().as_bytes();
        assert_eq!(notify_socket(b), Ok(true));
        assert_eq!(check_interval(b), Ok(300));
        assert_eq!(timeout_ready(b), Ok(2000));
        assert_eq!(timeout_watchdog(b), Ok(500));
        let d = dir("ready0", &[("check-interval", "0")]);
        assert_eq!(check_interval(d.to_str().unwrap().as_bytes()), Err(errno::EINVAL));
    }

    #[test]
    fn present_files_are_read() {
        let d = dir(
            "full",
            &[
                ("down", ""),
                ("notification-fd", "3\n"),
                ("timeout-kill", " 250 \n"),
                ("max-death-tally", "99999"),
                ("down-signal", "SIGINT\n"),
                ("reload-signal", "USR1"),
            ],
        );
        let b = d.to_str().unwrap().as_bytes();
        assert_eq!(is_down(b), Ok(true));
        assert_eq!(notification_fd(b), Ok(Some(3)));
        assert_eq!(timeout_kill(b), Ok(250));
        assert_eq!(max_death_tally(b), Ok(MAX_DEATH_TALLY_CAP));
        assert_eq!(down_signal(b), Ok(sig::INT));
        assert_eq!(reload_signal(b), Ok(sig::USR1));
    }

    #[test]
    fn bad_contents_are_einval() {
        let long = "1".repeat(VALUE_MAX);
        let d = dir("bad", &[("notification-fd", "three"), ("down-signal", "SIGNOPE"), ("timeout-kill", &long)]);
        let b = d.to_str().unwrap().as_bytes();
        assert_eq!(notification_fd(b), Err(errno::EINVAL));
        assert_eq!(down_signal(b), Err(errno::EINVAL));
        assert_eq!(timeout_kill(b), Err(errno::EINVAL));
    }
}
