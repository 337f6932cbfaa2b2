//! Cutting input into lines and routing them: one batch of lines goes to
//! every action's output buffer, so that each destination gets one write per
//! batch. A batch ends where a log directory must rotate first, where an
//! output buffer is full, or where the input ends in the middle of a line.

use crate::script::{Script, Stamp, Target, MAX_ACTIONS, MAX_LOGDIRS, MAX_STATUS};
use crate::stamp::Prefixes;
use base::err;

/// Output buffer of one destination: the most bytes it gets per batch.
pub const OUT_CAP: usize = 64 * 1024;
/// Bytes past which a destination takes no further line in the batch (its
/// first line may be longer, up to OUT_CAP): about what the input window
/// holds, so that timestamped lines keep as few pages of the buffer
/// resident as the input they come from.
pub const OUT_BATCH: usize = 8 * 1024;
/// Longest line limit (`-l`); longer lines are split into pieces this long.
pub const LINE_MAX: usize = 32 * 1024;
/// Line limit when no `-l` is given (s6-log's default).
pub const LINE_DEFAULT: usize = 8192;
/// Destinations with a buffer: the log directories, then stdout and stderr.
pub const N_OUTS: usize = MAX_LOGDIRS + 2;
pub const OUT_STDOUT: usize = MAX_LOGDIRS;
pub const OUT_STDERR: usize = MAX_LOGDIRS + 1;

/// After the program's name (`rinit-log`, or `s6-log` when run by that name).
const ALERT: &[u8] = b": alert: ";

/// One destination's bytes for the batch being built. Lines that go out
/// exactly as they came in are not copied one by one: a run of them is
/// kept as a range of the input, copied in one go when something else
/// follows, or written straight from the input when it is all there is.
pub struct Out {
    pub buf: &'static mut [u8; OUT_CAP],
    /// Bytes of the batch, the pending run included.
    pub len: usize,
    /// Bytes already in `buf`.
    copied: usize,
    /// The pending run: a range of the input.
    run: (usize, usize),
}

impl Out {
    pub fn new(buf: &'static mut [u8; OUT_CAP]) -> Out {
        Out { buf, len: 0, copied: 0, run: (0, 0) }
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.copied = 0;
        self.run = (0, 0);
    }

    /// The batch's bytes, given the input it was cut from.
    pub fn bytes<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        if self.copied == 0 { data.get(self.run.0..self.run.1).unwrap_or(&[]) } else { &self.buf[..self.copied] }
    }

    /// Input bytes `from..to` (whole lines with their newlines), as they are.
    #[inline]
    fn take(&mut self, data: &[u8], from: usize, to: usize) {
        if self.run.1 != from || self.run.0 == self.run.1 {
            self.flush(data);
            self.run.0 = from;
        }
        self.run.1 = to;
        self.len += to - from;
    }

    /// Copies the pending run into the buffer.
    #[inline(never)]
    fn flush(&mut self, data: &[u8]) {
        let (a, b) = self.run;
        if let (Some(src), Some(dst)) = (data.get(a..b), self.buf.get_mut(self.copied..self.copied + (b - a))) {
            dst.copy_from_slice(src);
            self.copied += b - a;
        }
        self.run = (0, 0);
    }

    /// A line made of `parts`.
    fn put(&mut self, data: &[u8], parts: [&[u8]; 5]) {
        self.flush(data);
        for p in parts {
            if let Some(dst) = self.buf.get_mut(self.copied..self.copied + p.len()) {
                dst.copy_from_slice(p);
                self.copied += p.len();
                self.len += p.len();
            }
        }
    }

    /// Ends the batch: a run after copied bytes joins them.
    fn finish(&mut self, data: &[u8]) {
        if self.copied > 0 {
            self.flush(data);
        }
    }
}

/// What a log directory's `current` can still take before it must rotate.
#[derive(Clone, Copy, Default)]
pub struct Room {
    pub size: u64,
    pub filesize: u64,
}

/// The outcome of cutting one batch.
pub struct Cut {
    /// Input bytes covered by the batch.
    pub consumed: usize,
    /// Log directories (bit i) that must rotate before the next line.
    pub rotate: u32,
    /// The last line (offset, length, stamp) selected for each status file.
    pub status: [Option<(usize, usize, Stamp)>; MAX_STATUS],
}

/// Offset of the first newline in `s`.
#[inline]
pub fn find_newline(s: &[u8]) -> Option<usize> {
    find_byte(s, b'\n')
}

/// Offset of the first `b` in `s`, eight bytes at a time.
#[inline]
pub fn find_byte(s: &[u8], b: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pat = ONES * b as u64;
    let mut i = 0;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        // A plain 8-byte load (copy_from_slice would call memcpy).
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default()) ^ pat;
        let z = x.wrapping_sub(ONES) & !x & HIGHS;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    chunks.remainder().iter().position(|&c| c == b).map(|p| i + p)
}

/// Cuts the next batch from `data` into `outs`. `line_max` is the line
/// limit; `eof` says no more input will follow `data`.
#[inline(never)]
pub fn cut(
    script: &Script,
    data: &[u8],
    eof: bool,
    line_max: usize,
    pre: &Prefixes,
    room: &[Room; MAX_LOGDIRS],
    outs: &mut [Out; N_OUTS],
) -> Cut {
    let mut cut = Cut { consumed: 0, rotate: 0, status: [None; MAX_STATUS] };
    let actions = script.actions();
    let mut pos = 0;
    let mut chosen = [false; MAX_ACTIONS];
    while pos < data.len() {
        let rest = data.get(pos..).unwrap_or_default();
        let window = rest.get(..line_max + 1).unwrap_or(rest);
        let (len, next) = match find_newline(window) {
            Some(i) => (i, i + 1),
            None if rest.len() > line_max => (line_max, line_max),
            None if eof => (rest.len(), rest.len()),
            None => break,
        };
        let line = rest.get(..len).unwrap_or_default();
        // First decide, for every action, whether it takes the line and whether it fits.
        let mut fits = true;
        for (a, c) in actions.iter().zip(chosen.iter_mut()) {
            *c = script.selects(a, line);
            let Some(out) = outs.get(out_of(a.target)).filter(|_| *c) else { continue };
            let add = len + 1 + pre.get(a.stamp).len() + if a.target == Target::Alert { err::prog().len() + ALERT.len() } else { 0 };
            if let Target::Logdir(i) = a.target {
                let r = room.get(i).copied().unwrap_or_default();
                let pending = r.size + out.len as u64;
                if pending > 0 && pending + add as u64 > r.filesize {
                    cut.rotate |= 1 << i;
                    fits = false;
                }
            }
            if out.len + add > if out.len == 0 { OUT_CAP } else { OUT_BATCH } {
                fits = false;
            }
        }
        if !fits {
            break;
        }
        for (a, _) in actions.iter().zip(chosen.iter()).filter(|(_, c)| **c) {
            let p = pre.get(a.stamp);
            if let Target::Status(i) = a.target {
                if let Some(s) = cut.status.get_mut(i) {
                    *s = Some((pos, len, a.stamp));
                }
            }
            let (name, alert) = if a.target == Target::Alert { (err::prog(), ALERT) } else { (&b""[..], &b""[..]) };
            let Some(o) = outs.get_mut(out_of(a.target)) else { continue };
            if p.is_empty() && alert.is_empty() && next == len + 1 {
                o.take(data, pos, pos + next);
            } else {
                o.put(data, [name, alert, p, line, b"\n"]);
            }
        }
        pos += next;
    }
    cut.consumed = pos;
    outs.iter_mut().for_each(|o| o.finish(data));
    cut
}

/// The output buffer an action writes to (none for a status file).
fn out_of(t: Target) -> usize {
    match t {
        Target::Logdir(i) => i,
        Target::Stdout => OUT_STDOUT,
        Target::Stderr | Target::Alert => OUT_STDERR,
        Target::Status(_) => N_OUTS,
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn finds_newlines() {
        for n in 0..40 {
            let mut v = vec![b'x'; 40];
            assert_eq!(find_newline(&v[..n]), None);
            if n < 40 {
                v[n] = b'\n';
                assert_eq!(find_newline(&v), Some(n));
            }
        }
        assert_eq!(find_newline(b"\xff\x8a\n"), Some(2));
    }
}
