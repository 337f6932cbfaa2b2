//! `supervise/status`: the one reader and writer of s6's 35-byte status
//! record. The supervisor writes it (atomically: `status.new`, then rename);
//! svstat, svwait, svc and rc read it.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 12 | stamp: TAI64N of the last up/down change |
//! | 12 | 12 | readystamp: TAI64N it became ready |
//! | 24 | 8 | pid, big-endian, 0 when down |
//! | 32 | 2 | wstat, big-endian, last wait status of `run` |
//! | 34 | 1 | flags: 1 paused, 2 finishing, 4 want up, 8 ready |

use crate::path::PathBuf;
use crate::sys::{self, Errno, Open};
use crate::tai64n::Tai64n;

/// Bytes of the status file (s6's layout, above).
pub const STATUS_LEN: usize = 35;

const PAUSED: u8 = 1;
const FINISHING: u8 = 2;
const WANT_UP: u8 = 4;
const READY: u8 = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Status {
    pub stamp: Tai64n,
    pub readystamp: Tai64n,
    pub pid: u64,
    pub wstat: u16,
    pub paused: bool,
    pub finishing: bool,
    pub want_up: bool,
    pub ready: bool,
}

impl Status {
    pub fn encode(&self) -> [u8; STATUS_LEN] {
        let mut b = [0u8; STATUS_LEN];
        b[0..12].copy_from_slice(&self.stamp.pack());
        b[12..24].copy_from_slice(&self.readystamp.pack());
        b[24..32].copy_from_slice(&self.pid.to_be_bytes());
        b[32..34].copy_from_slice(&self.wstat.to_be_bytes());
        b[34] = (self.paused as u8 * PAUSED)
            | (self.finishing as u8 * FINISHING)
            | (self.want_up as u8 * WANT_UP)
            | (self.ready as u8 * READY);
        b
    }

    pub fn decode(b: &[u8]) -> Option<Status> {
        if b.len() != STATUS_LEN {
            return None;
        }
        let t = |o: usize| {
            let mut a = [0u8; 12];
            a.copy_from_slice(&b[o..o + 12]);
            Tai64n::unpack(&a)
        };
        let mut pid = [0u8; 8];
        pid.copy_from_slice(&b[24..32]);
        Some(Status {
            stamp: t(0),
            readystamp: t(12),
            pid: u64::from_be_bytes(pid),
            wstat: u16::from_be_bytes([b[32], b[33]]),
            paused: b[34] & PAUSED != 0,
            finishing: b[34] & FINISHING != 0,
            want_up: b[34] & WANT_UP != 0,
            ready: b[34] & READY != 0,
        })
    }

    pub fn is_up(&self) -> bool {
        self.pid != 0 && !self.finishing
    }

    pub fn wait_status(&self) -> sys::WaitStatus {
        sys::WaitStatus(self.wstat as i32)
    }
}

/// Reads `<dir>/supervise/status`. EPROTO when the file is not 35 bytes.
pub fn read(dir: &[u8]) -> Result<Status, Errno> {
    let p = PathBuf::join(dir, &[b"/supervise/status"])?;
    let mut buf = [0u8; STATUS_LEN + 1];
    let got = sys::read_file(p.as_cstr(), &mut buf).map_err(|e| {
        if e == sys::errno::EOVERFLOW { sys::errno::EPROTO } else { e }
    })?;
    Status::decode(got).ok_or(sys::errno::EPROTO)
}

/// Reads `supervise/status` of the service directory open as `dir`.
/// EPROTO when the file is not 35 bytes.
pub fn read_in(dir: sys::Fd) -> Result<Status, Errno> {
    let fd = sys::open_regular_at(dir, c"supervise/status", Open::RDONLY, 0)?;
    let mut buf = [0u8; STATUS_LEN + 1];
    let n = sys::read_full(fd.fd(), &mut buf);
    Status::decode(buf.get(..n?).unwrap_or(&[])).ok_or(sys::errno::EPROTO)
}

/// Writes `<dir>/supervise/status` atomically (`status.new` + rename), `dir`
/// may be `.` when the caller already is in the service directory.
pub fn write(dir: &[u8], st: &Status) -> Result<(), Errno> {
    // Through a descriptor of `supervise/`: one 4 KiB PathBuf instead of
    // two, stack a long-lived supervisor would keep resident.
    let mut p = PathBuf::new();
    p.push(dir)?.push(b"/supervise")?;
    write_in(sys::open_dir(p.as_cstr())?.fd(), st)
}

/// `write` from inside the service directory (the supervisor): no 4 KiB
/// path buffer on its stack.
pub fn write_here(st: &Status) -> Result<(), Errno> {
    write_in(sys::open_dir(c"supervise")?.fd(), st)
}

/// Writes through a descriptor of the `supervise/` directory.
fn write_in(supervise: sys::Fd, st: &Status) -> Result<(), Errno> {
    let fd = sys::open_at(supervise, c"status.new", Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    let r = sys::write_all(fd.fd(), &st.encode());
    drop(fd);
    r.and_then(|_| sys::rename_in(supervise, c"status.new", c"status"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trips_every_field() {
        let s = Status {
            stamp: Tai64n::from_unix(1, 2),
            readystamp: Tai64n::from_unix(3, 4),
            pid: 4242,
            wstat: 0x0f00,
            paused: false,
            finishing: true,
            want_up: true,
            ready: true,
        };
        let b = s.encode();
        assert_eq!(b[34], 2 | 4 | 8);
        assert_eq!(&b[24..32], &4242u64.to_be_bytes());
        assert_eq!(Status::decode(&b), Some(s));
        assert_eq!(Status::decode(&b[..34]), None);
    }
}
