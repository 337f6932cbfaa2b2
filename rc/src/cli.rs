//! What the rc programs share at their edge: paths built from the command
//! line, the database they are pointed at, the live directory's lock, and
//! the lines they print. Each ends the program with one `fatal:` line when
//! it cannot do its part.

use crate::db::Db;
use crate::live;
use base::err;
use base::fmt::parse_u64;
use base::options::Opt;
use base::path::PathBuf;
use base::sys::{self, Fd};

/// `-v verbosity`, `-t timeout` (ms, 0: none), `-n` (dry run), `-l live`:
/// the options rinit-rc and rinit-rc-update share.
pub struct Common {
    pub verbosity: u32,
    pub timeout_ms: u64,
    pub dry: bool,
    pub live_dir: &'static [u8],
}

impl Common {
    pub const fn new() -> Common {
        Common {
            verbosity: 1,
            timeout_ms: 0,
            dry: false,
            live_dir: live::DEFAULT_LIVE,
        }
    }

    /// Takes `o` if it is one of the shared options (a bad value is a
    /// usage error); gives it back otherwise.
    pub fn take(&mut self, o: Opt, usage: &[u8]) -> Option<Opt> {
        match o {
            Opt::Value(b'v', v) => {
                self.verbosity = parse_u64(v).unwrap_or_else(|| err::usage(usage)) as u32
            }
            Opt::Value(b't', v) => {
                self.timeout_ms = parse_u64(v).unwrap_or_else(|| err::usage(usage))
            }
            Opt::Value(b'l', v) => self.live_dir = v,
            Opt::Flag(b'n') => self.dry = true,
            other => return Some(other),
        }
        None
    }
}

impl Default for Common {
    fn default() -> Self {
        Self::new()
    }
}

/// The monotonic time (ns) `timeout_ms` from now; 0 (no deadline) for 0.
pub fn deadline(timeout_ms: u64) -> u64 {
    if timeout_ms == 0 {
        0
    } else {
        sys::now_mono_ns().saturating_add(timeout_ms.saturating_mul(1_000_000))
    }
}

/// `a` followed by `parts`; a path longer than `base::path::PATH_MAX` is a
/// usage error.
pub fn path(a: &[u8], parts: &[&[u8]]) -> PathBuf {
    match PathBuf::join(a, parts) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_USAGE, &[b"use path ", a], e),
    }
}

/// The database of the compiled directory `compiled`, mapped in place.
pub fn open_db(compiled: &[u8]) -> Db<'static> {
    match live::open_db(compiled) {
        Ok(db) => db,
        Err(e) => err::fatal(
            err::EXIT_SYS,
            &[b"unable to read database ", compiled, b"/db: ", e.words()],
        ),
    }
}

/// Takes the live directory's lock, or ends: one change at a time.
pub fn lock(live_dir: &[u8]) -> Fd {
    match live::lock(live_dir) {
        Ok(Some(fd)) => fd,
        Ok(None) => err::fatal(
            err::EXIT_SYS,
            &[
                b"live directory ",
                live_dir,
                b" is locked by another rinit-rc",
            ],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"lock ", live_dir, b"/lock"], e),
    }
}

/// Prints `parts` and a newline on stdout (any length: written in parts).
pub fn line(parts: &[&[u8]]) {
    for p in parts.iter().chain(&[&b"\n"[..]]) {
        // A closed stdout: nothing left to print to.
        let _ = sys::write_all(sys::STDOUT, p);
    }
}
