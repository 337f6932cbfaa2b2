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

/// Cuts what is read from the FIFO into request lines whatever the sizes
/// of the reads: a request split over two reads is one request, and a line
/// longer than `LINE_MAX` is refused whole, never parsed in pieces.
pub struct Lines {
    buf: [u8; LINE_MAX],
    len: usize,
    too_long: bool,
}

impl Default for Lines {
    fn default() -> Self {
        Lines { buf: [0; LINE_MAX], len: 0, too_long: false }
    }
}

impl Lines {
    /// Hands each line that `bytes` completes to `f`, without its newline;
    /// None for a line that was too long. An unfinished line is kept.
    pub fn feed(&mut self, bytes: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) {
        for &c in bytes {
            if c == b'\n' {
                f(if self.too_long { None } else { self.buf.get(..self.len) });
                self.len = 0;
                self.too_long = false;
            } else if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = c;
                self.len += 1;
            } else {
                self.too_long = true;
            }
        }
    }
}

/// Hands `r` to the shutdown daemon. ENXIO: it is not running (nobody reads
/// its FIFO); ENOENT: no such FIFO (not booted by rinit).
pub fn send(r: &Request) -> Result<(), Errno> {
    let fd = sys::open(layout::SHUTDOWND_FIFO, Open::WRONLY | Open::NONBLOCK, 0)?;
    
    sys::write_all(fd.fd(), r.encode().as_bytes())
}

/// Like `send`, retrying while the daemon is not up yet, for `patience_ms`.
pub fn send_patiently(r: &Request, patience_ms: u64) -> Result<(), Errno> {
    let end = sys::now_mono_ns().saturating_add(patience_ms.saturating_mul(1_000_000));
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
    let res = sys::write_all(fd.fd(), r.encode().as_bytes());
    drop(fd);
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
    #[test]
    fn lines_are_framed_across_reads_and_too_long_ones_refused_whole() {
        let mut l = Lines::default();
        let mut got: std::vec::Vec<Option<std::vec::Vec<u8>>> = std::vec::Vec::new();
        let mut f = |x: Option<&[u8]>| got.push(x.map(|s| s.to_vec()));
        l.feed(b"p 0 ", &mut f);
        l.feed(b"1000\nr 1", &mut f);
        l.feed(&[b'9'; LINE_MAX], &mut f);
        l.feed(b"\nc 0 0\n", &mut f);
        assert_eq!(got, [Some(b"p 0 1000".to_vec()), None, Some(b"c 0 0".to_vec())]);
    }
}
