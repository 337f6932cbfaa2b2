//! `supervise/death_tally`: the service's recent deaths, oldest first, as
//! s6 keeps them: 14-byte records of a TAI64N stamp, the exit code (128 +
//! signal when killed) and the signal number (0 when it exited).
//! Written by the supervisor only; at most `max-death-tally` records.

use base::sys::{self, errno, Errno, Fd, Open, WaitStatus};
use base::tai64n::{Tai64n, PACKED_LEN};

pub const FILE: &core::ffi::CStr = c"supervise/death_tally";
const TMP: &core::ffi::CStr = c"supervise/death_tally.new";

/// Bytes of one record.
pub const RECORD_LEN: usize = PACKED_LEN + 2;

/// One death, encoded.
pub fn record(when: Tai64n, ws: WaitStatus) -> [u8; RECORD_LEN] {
    let mut r = [0u8; RECORD_LEN];
    r[..PACKED_LEN].copy_from_slice(&when.pack());
    let (code, sig) = match ws.signaled() {
        Some(s) => (128u8.wrapping_add(s), s),
        None => (ws.exited().unwrap_or(0), 0),
    };
    r[PACKED_LEN] = code;
    r[PACKED_LEN + 1] = sig;
    r
}

/// Empties the tally (a new supervisor starts a new history).
pub fn clear() -> Result<(), Errno> {
    let fd = sys::open(FILE, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    drop(fd);
    Ok(())
}

/// Adds `rec` as the newest record, dropping the oldest beyond `max`. The
/// file is rewritten (`death_tally.new`, then rename) so readers never see
/// half of it.
#[inline(never)]
pub fn add(rec: &[u8; RECORD_LEN], max: u64) -> Result<(), Errno> {
    if max == 0 {
        return Ok(());
    }
    let new = sys::open(TMP, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    let r = match sys::open(FILE, Open::RDONLY, 0) {
        Ok(old) => {
            
            copy_newest(old.fd(), new.fd(), max - 1)
        }
        Err(errno::ENOENT) => Ok(()),
        Err(e) => Err(e),
    };
    let r = r.and_then(|_| sys::write_all(new.fd(), rec));
    drop(new);
    r.and_then(|_| sys::rename(TMP, FILE))
}

/// Copies the last `keep` records of `from` to `to`, through a small buffer.
fn copy_newest(from: Fd, to: Fd, keep: u64) -> Result<(), Errno> {
    let count = sys::seek_end(from)? / RECORD_LEN as u64;
    let mut at = count.saturating_sub(keep) * RECORD_LEN as u64;
    let mut buf = [0u8; RECORD_LEN * 16];
    loop {
        let n = sys::pread(from, &mut buf, at)?;
        if n == 0 {
            return Ok(());
        }
        at += n as u64;
        sys::write_all(to, buf.get(..n).unwrap_or(&[]))?;
    }
}

/// What a reader learns from a service's tally: how many deaths it holds
/// and the newest one's exit code and signal (0 when it exited).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Summary {
    pub deaths: u64,
    pub last: Option<(u8, u8)>,
}

/// Reads `supervise/death_tally` of the service directory open as `dir`:
/// an absent file is no deaths (an older s6-supervise keeps none). EPROTO
/// when its size is not a whole number of records.
pub fn summary_in(dir: Fd) -> Result<Summary, Errno> {
    let fd = match sys::open_regular_at(dir, FILE, Open::RDONLY, 0) {
        Ok(fd) => fd,
        Err(errno::ENOENT) => return Ok(Summary::default()),
        Err(e) => return Err(e),
    };
    
    summary_of(fd.fd())
}

fn summary_of(fd: Fd) -> Result<Summary, Errno> {
    let size = sys::seek_end(fd)?;
    if size % RECORD_LEN as u64 != 0 {
        return Err(errno::EPROTO);
    }
    let deaths = size / RECORD_LEN as u64;
    if deaths == 0 {
        return Ok(Summary { deaths, last: None });
    }
    let mut r = [0u8; RECORD_LEN];
    if sys::pread(fd, &mut r, size - RECORD_LEN as u64)? != RECORD_LEN {
        return Err(errno::EPROTO);
    }
    let [.., code, sig] = r;
    Ok(Summary { deaths, last: Some((code, sig)) })
}
