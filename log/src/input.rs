//! Standard input, read so that a logger killed at any instant loses no line.
//!
//! When stdin is a pipe (the supervision tree's case, where the scanner holds
//! the pipe across logger restarts), the data is *looked at* with tee(2) and
//! left in the pipe; only after a batch of lines has been written to every
//! log directory are exactly those bytes taken out of the pipe. A logger
//! killed before that leaves them in the pipe for its successor, partial last
//! line included. Writing and taking out cannot be one atomic step, so each
//! log directory records its intent first (`Logdir::intent`, kept in `lock`): the size of
//! `current` before the batch and a hash of the batch's input. A successor
//! that finds the same bytes still at the head of the pipe knows the batch
//! was not taken out and cuts `current` back, so the lines are neither lost
//! nor written twice. (The one ambiguity: the writer sending the very same
//! bytes again right after a batch that was taken out, with the kill landing
//! between the take-out and the next intent; those bytes would then be
//! logged once instead of twice.) Copies to stdout, stderr and status files
//! are made before the take-out: after a kill they may show a batch twice.
//!
//! Any other stdin (a file, a terminal, a pipe too small to look into) is
//! read the ordinary way: what was read and not yet written is lost if the
//! logger is killed.

use base::sys::{self, OwnedFd, Result, STDIN};

/// Input buffer: the most bytes looked at in one go.
pub const IN_CAP: usize = 64 * 1024;

/// Bytes looked at in one go while lines fit in fewer: the buffer's pages
/// past it are never touched, so a logger keeps 8 KiB of input resident,
/// not 64, for a few more (and still large) reads. A line that does not
/// end within it widens the look, from then on, to the line limit and one
/// byte more (up to IN_CAP; see `widen`): only a logger given such lines
/// keeps their pages.
pub const WINDOW: usize = 8 * 1024;

/// Capacity asked for the stdin pipe.
pub const PIPE_SIZE: usize = 256 * 1024;

pub struct Input {
    buf: &'static mut [u8; IN_CAP],
    len: usize,
    /// The pipe that tee(2) copies into: (read end, write end).
    peek: Option<(OwnedFd, OwnedFd)>,
    eof: bool,
    line_max: usize,
    /// The most bytes looked at in one go (see WINDOW).
    window: usize,
    /// What `window` widens to: the line limit and one byte more.
    wide: usize,
}

static BUF: sys::StaticCell<[u8; IN_CAP]> = sys::StaticCell::new([0; IN_CAP]);

impl Input {
    /// Sets stdin up: peek mode when it is a pipe. Pipes may be small (a
    /// user past the kernel's pipe-user-pages-soft gets 8 KiB pipes): a
    /// line must fit in one look, so the line limit may be lowered to what
    /// the pipes hold (see `line_max`).
    pub fn new(line_max: usize) -> Option<Input> {
        let buf = BUF.take()?;
        let mut input = Input { buf, len: 0, peek: None, eof: false, line_max, window: IN_CAP, wide: IN_CAP };
        if matches!(sys::fstat(STDIN), Ok(st) if st.kind == sys::FileType::Fifo) {
            input.peek_pipe();
        }
        input.wide = (input.line_max + 1).max(WINDOW).min(IN_CAP);
        input.window = WINDOW.min(input.wide);
        Some(input)
    }

    fn peek_pipe(&mut self) {
        // A bigger pipe lets the writer run ahead while a batch is written.
        // EPERM (above the unprivileged maximum): the pipe keeps its size.
        let _ = sys::set_pipe_size(STDIN, PIPE_SIZE);
        let Ok(cap) = sys::pipe_size(STDIN) else { return };
        let Ok((r, w)) = sys::pipe() else { return };
        // As many slots as stdin's pipe: tee(2) then never runs out of room.
        // EPERM (above the unprivileged maximum): the pipe keeps its size.
        let _ = sys::set_pipe_size(w.fd(), cap);
        let usable = cap.min(sys::pipe_size(w.fd()).unwrap_or(0)).min(IN_CAP);
        // The first page of the pipe may be partly taken out already.
        if usable < 8192 {
            return;
        }
        self.line_max = self.line_max.min(usable - 4097);
        self.peek = Some((r, w));
    }

    /// The line limit in effect: longer lines are split.
    pub fn line_max(&self) -> usize {
        self.line_max
    }

    /// When what is held fills the window without a line's end: looks
    /// wider from now on, so that the line (up to the limit) fits. Is
    /// there more to look at?
    pub fn widen(&mut self) -> bool {
        if self.len < self.window || self.window >= self.wide {
            return false;
        }
        self.window = self.wide;
        true
    }

    /// Is stdin read in peek mode (kill-safe)?
    pub fn is_peeking(&self) -> bool {
        self.peek.is_some()
    }

    /// Gets what stdin holds now, after the bytes kept from before.
    /// Ok(false) when nothing new could be had (empty pipe, or end of input).
    pub fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        match self.peek.as_ref().map(|(r, w)| (r.fd(), w.fd())) {
            Some((r, w)) => {
                // The pipe still holds everything not taken out: look again from its head.
                let n = match sys::tee(STDIN, w, self.window) {
                    Ok(n) => n,
                    Err(sys::errno::EAGAIN) => return Ok(false),
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    self.eof = true;
                    return Ok(false);
                }
                let got = sys::read_full(r, self.buf.get_mut(..n).unwrap_or_default())?;
                let grew = got > self.len;
                self.len = got;
                Ok(grew)
            }
            None => {
                let room = self.buf.get_mut(self.len..self.window).unwrap_or_default();
                if room.is_empty() {
                    return Ok(false);
                }
                match sys::read(STDIN, room) {
                    Ok(0) => {
                        self.eof = true;
                        Ok(false)
                    }
                    Ok(n) => {
                        self.len += n;
                        Ok(true)
                    }
                    Err(sys::errno::EAGAIN) => Ok(false),
                    Err(e) => Err(e),
                }
            }
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Treats what is held as the end of the input (its last line is taken
    /// even without a newline).
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// When what is held ends in the middle of a line (peek mode): has the
    /// writer gone? Then the pipe's content is final, and its end the end of
    /// the input (the last line is taken without its newline).
    pub fn writer_gone(&mut self) -> bool {
        if self.peek.is_none() || self.eof || !sys::is_hung_up(STDIN) {
            return false;
        }
        // Bytes written just before the writer went may not have been seen yet.
        self.len = 0;
        if self.fill().is_ok() && self.len < self.window {
            self.eof = true;
        }
        true
    }

    /// No more input will come.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// The first `n` bytes are logged: take them out of the pipe.
    pub fn consume(&mut self, n: usize) -> Result<()> {
        let n = n.min(self.len);
        match self.peek {
            Some(_) => {
                // They are still the head of the pipe; read them over their own copy.
                let got = sys::read_full(STDIN, &mut self.buf[..n])?;
                if got != n {
                    return Err(sys::errno::EIO);
                }
                // The rest is looked at again, from the pipe, by the next fill.
                self.len = 0;
            }
            None => {
                self.buf.copy_within(n..self.len, 0);
                self.len -= n;
            }
        }
        Ok(())
    }

    /// The first `n` bytes at the head of the pipe, if it holds that many
    /// (peek mode only): what a successor checks an intent against.
    pub fn head(&mut self, n: usize) -> Option<&[u8]> {
        let (r, w) = self.peek.as_ref().map(|(r, w)| (r.fd(), w.fd()))?;
        if n == 0 || n > IN_CAP {
            return None;
        }
        let got = sys::tee(STDIN, w, n).ok()?;
        let got = sys::read_full(r, &mut self.buf[..got]).ok()?;
        self.len = 0;
        if got == n { Some(&self.buf[..n]) } else { None }
    }
}

/// A fast 64-bit hash of a batch's input (not cryptographic: it tells a
/// batch from the different bytes that follow it in the pipe).
pub fn hash(data: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = data.len() as u64 ^ K;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default())).wrapping_mul(K).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(K).rotate_left(29);
    }
    h ^ (h >> 31)
}
