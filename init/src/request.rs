//! A shutdown request, as `rinit-shutdown` (halt, poweroff, reboot,
//! shutdown, the scanner's signal handlers) writes it to the shutdown
//! daemon's FIFO and as the daemon hands it to pid 1's last stage in
//! `/run/rinit/action`: one line `ACTION GRACE_MS DELAY_MS`, ACTION one of
//! `h` (halt), `p` (power off), `r` (reboot), `c` (cancel a pending one).

use crate::layout;
use base::fmt;
use base::sys::{self, errno, Errno, Open};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    Halt,
    PowerOff,
    Reboot,
    Cancel,
}

impl Action {
    pub fn letter(self) -> u8 {
        match self {
            Action::Halt => b'h',
            Action::PowerOff => b'p',
            Action::Reboot => b'r',
            Action::Cancel => b'c',
        }
    }
    pub fn from_letter(c: u8) -> Option<Action> {
        match c {
            b'h' => Some(Action::Halt),
            b'p' => Some(Action::PowerOff),
            b'r' => Some(Action::Reboot),
            b'c' => Some(Action::Cancel),
            _ => None,
        }
    }
    pub fn name(self) -> &'static [u8] {
        match self {
            Action::Halt => b"halt",
            Action::PowerOff => b"poweroff",
            Action::Reboot => b"reboot",
            Action::Cancel => b"cancel",
        }
    }
}

/// `grace_ms` of a request that leaves the grace time to the shutdown
/// daemon (the basedir's `conf/grace`).
pub const GRACE_DEFAULT: u64 = u64::MAX;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Request {
    pub action: Action,
    /// Time between TERM and KILL to every process, or `GRACE_DEFAULT`.
    pub grace_ms: u64,
    /// Wait this long before starting (delayed shutdown).
    pub delay_ms: u64,
}

/// Length of the longest encoded request.
pub const LINE_MAX: usize = 48;

impl Request {
    pub fn encode(&self) -> crate::Line {
        let mut b = crate::Line::new();
        b.byte(self.action.letter()).byte(b' ').u64(self.grace_ms).byte(b' ').u64(self.delay_ms).byte(b'\n');
        b
    }

    /// One line, without its newline.
    pub fn parse(line: &[u8]) -> Option<Request> {
        let mut f = fmt::trim(line).split(|&c| c == b' ');
        let a = f.next()?;
        let action = match a {
            [c] => Action::from_letter(*c)?,
            _ => return None,
        };
        let grace_ms = fmt::parse_u64(f.next()?)?;
        let delay_ms = fmt::parse_u64(f.next()?)?;
        if f.next().is_some() {
            return None;
        }
        Some(Request { action, grace_ms, delay_ms })
    }
}

/// Hands `r` to the shutdown daemon. ENXIO: it is not running (nobody reads
/// its FIFO); ENOENT: no such FIFO (not booted by rinit).
pub fn send(r: &Request) -> Result<(), Errno> {
    let fd = sys::open(layout::SHUTDOWND_FIFO, Open::WRONLY | Open::NONBLOCK, 0)?;
    let res = sys::write_all(fd, r.encode().as_bytes());
    sys::close(fd);
    res
}

/// Like `send`, retrying while the daemon is not up yet, for `patience_ms`.
pub fn send_patiently(r: &Request, patience_ms: u64) -> Result<(), Errno> {
    let end = sys::now_mono_ns() + patience_ms * 1_000_000;
    loop {
        match send(r) {
            Err(errno::ENXIO | errno::ENOENT) if sys::now_mono_ns() < end => sys::sleep_ms(20),
            other => return other,
        }
    }
}

/// Records what pid 1's last stage must do (written atomically).
pub fn write_action(r: &Request) -> Result<(), Errno> {
    let fd = sys::open(layout::ACTION_NEW, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    let res = sys::write_all(fd, r.encode().as_bytes());
    sys::close(fd);
    res?;
    sys::rename(layout::ACTION_NEW, layout::ACTION)
}

/// What the shutdown daemon asked for, if it did.
pub fn read_action() -> Option<Request> {
    let mut buf = [0u8; LINE_MAX];
    let t = sys::read_file(layout::ACTION, &mut buf).ok()?;
    Request::parse(t.split(|&c| c == b'\n').next()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trips() {
        let r = Request { action: Action::Reboot, grace_ms: 2000, delay_ms: 60000 };
        let b = r.encode();
        assert_eq!(b.as_bytes(), b"r 2000 60000\n");
        assert_eq!(Request::parse(&b.as_bytes()[..b.len() - 1]), Some(r));
        assert_eq!(Request::parse(b"x 1 2"), None);
        assert_eq!(Request::parse(b"p 1"), None);
    }
}
