//! The logging script: s6-log's directives, read once at start-up into fixed
//! tables. Each line is initially selected; `+re` selects the lines that
//! match, `-re` deselects them; an action directive (`1`, `2`, `e`, `=file`,
//! or a directory) then handles the selected lines, and the selection and
//! the `t`/`T` timestamp choice start afresh after it. `n`, `s`, `S` and `!`
//! apply to every directory named after them.

use crate::regex::Regex;
use core::ffi::CStr;

/// Most action directives (`1`, `2`, `e`, `=file`, directories) in a script.
pub const MAX_ACTIONS: usize = 16;
/// Most selection directives (`+re`, `-re`) in a script.
pub const MAX_SELECTORS: usize = 16;
/// Most log directories in a script.
pub const MAX_LOGDIRS: usize = 8;
/// Most status files (`=file`) in a script.
pub const MAX_STATUS: usize = 4;

/// Archives kept when no `n` is given (s6-log's default).
pub const DEFAULT_ARCHIVES: u64 = 10;
/// Size of `current` that triggers a rotation when no `s` is given (s6-log's default).
pub const DEFAULT_FILESIZE: u64 = 99_999;

/// Timestamp prefixes of an action's lines, as bits: `t` (TAI64N) and
/// `T` (ISO 8601); with both, the TAI64N one comes first, as in s6-log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp(pub u8);

impl Stamp {
    pub const NONE: Stamp = Stamp(0);
    pub const TAI: Stamp = Stamp(1);
    pub const ISO: Stamp = Stamp(2);
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Logdir(usize),
    Stdout,
    Stderr,
    /// `e`: to stderr, prefixed `rinit-log: alert: ` (the program's name: `s6-log` when run by it).
    Alert,
    Status(usize),
}

#[derive(Clone, Copy)]
pub struct Action {
    pub target: Target,
    pub stamp: Stamp,
    /// The selectors that decide this action's lines: `selectors[sel.0..sel.1]`.
    pub sel: (usize, usize),
}

/// The flag first: it shares the page of the pattern's header.
#[repr(C)]
pub struct Selector {
    pub deselect: bool,
    pub re: Regex,
}

#[derive(Clone, Copy)]
pub struct LogdirSpec {
    pub path: &'static CStr,
    /// `n`: archives kept.
    pub archives: u64,
    /// `s`: rotate before `current` would grow past this.
    pub filesize: u64,
    /// `S`: archives' total size kept (0: no limit).
    pub totalsize: u64,
    /// `!`: run on each archive.
    pub processor: Option<&'static CStr>,
}

/// The small tables first, the patterns (16 KiB each, mostly untouched:
/// see `Regex`) last, so that what a script uses shares few pages.
#[repr(C)]
pub struct Script {
    pub actions: [Action; MAX_ACTIONS],
    pub n_actions: usize,
    pub n_selectors: usize,
    pub logdirs: [Option<LogdirSpec>; MAX_LOGDIRS],
    pub n_logdirs: usize,
    pub status: [Option<&'static CStr>; MAX_STATUS],
    pub n_status: usize,
    pub selectors: [Selector; MAX_SELECTORS],
}

/// Why a directive was refused: a message and the directive itself.
pub struct Error {
    pub what: &'static [u8],
    pub detail: &'static [u8],
    pub directive: &'static [u8],
}

impl Script {
    pub const fn new() -> Script {
        const A: Action = Action { target: Target::Logdir(0), stamp: Stamp::NONE, sel: (0, 0) };
        const S: Selector = Selector { deselect: false, re: Regex::new() };
        Script {
            actions: [A; MAX_ACTIONS],
            n_actions: 0,
            n_selectors: 0,
            logdirs: [None; MAX_LOGDIRS],
            n_logdirs: 0,
            status: [None; MAX_STATUS],
            n_status: 0,
            selectors: [S; MAX_SELECTORS],
        }
    }

    /// Reads the directives, in order.
    #[inline(never)]
    pub fn parse(&mut self, directives: impl Iterator<Item = &'static CStr>) -> Result<(), Error> {
        let mut archives = DEFAULT_ARCHIVES;
        let mut filesize = DEFAULT_FILESIZE;
        let mut totalsize = 0;
        let mut processor = None;
        let mut stamp = Stamp::NONE;
        let mut sel_from = 0;
        for d in directives {
            let b = d.to_bytes();
            let err = |what: &'static [u8], detail: &'static [u8]| Error { what, detail, directive: b };
            let (&c, rest) = b.split_first().ok_or(err(b"empty directive", b""))?;
            let target = match c {
                b'+' | b'-' => {
                    let Some(s) = self.selectors.get_mut(self.n_selectors) else {
                        return Err(err(b"too many selection directives (the most is 16)", b""));
                    };
                    s.deselect = c == b'-';
                    s.re.compile(rest).map_err(|e| err(b"bad pattern: ", e))?;
                    self.n_selectors += 1;
                    continue;
                }
                b'n' | b's' | b'S' => {
                    let v = base::fmt::parse_u64(rest).ok_or(err(b"bad number", b""))?;
                    match c {
                        b'n' => archives = v,
                        b's' if v == 0 => return Err(err(b"bad number", b" (s must be at least 1)")),
                        b's' => filesize = v,
                        _ => totalsize = v,
                    }
                    continue;
                }
                b'!' => {
                    // The C string after the `!`, which is still NUL-terminated.
                    processor = if rest.is_empty() { None } else { CStr::from_bytes_with_nul(d.to_bytes_with_nul().get(1..).unwrap_or_default()).ok() };
                    continue;
                }
                b't' | b'T' if rest.is_empty() => {
                    stamp.0 |= if c == b't' { Stamp::TAI.0 } else { Stamp::ISO.0 };
                    continue;
                }
                b'1' if rest.is_empty() => Target::Stdout,
                b'2' if rest.is_empty() => Target::Stderr,
                b'e' if rest.is_empty() => Target::Alert,
                b'=' if !rest.is_empty() => {
                    let Some(slot) = self.status.get_mut(self.n_status) else {
                        return Err(err(b"too many status files (the most is 4)", b""));
                    };
                    *slot = CStr::from_bytes_with_nul(d.to_bytes_with_nul().get(1..).unwrap_or_default()).ok();
                    self.n_status += 1;
                    Target::Status(self.n_status - 1)
                }
                b'/' | b'.' => {
                    let Some(slot) = self.logdirs.get_mut(self.n_logdirs) else {
                        return Err(err(b"too many log directories (the most is 8)", b""));
                    };
                    *slot = Some(LogdirSpec { path: d, archives, filesize, totalsize, processor });
                    self.n_logdirs += 1;
                    Target::Logdir(self.n_logdirs - 1)
                }
                _ => return Err(err(b"unrecognized directive", b"")),
            };
            let Some(slot) = self.actions.get_mut(self.n_actions) else {
                return Err(err(b"too many action directives (the most is 16)", b""));
            };
            *slot = Action { target, stamp, sel: (sel_from, self.n_selectors) };
            self.n_actions += 1;
            sel_from = self.n_selectors;
            stamp = Stamp::NONE;
        }
        if self.n_actions == 0 {
            return Err(Error { what: b"no action directive in the script", detail: b"", directive: b"" });
        }
        Ok(())
    }

    /// Is `line` selected for `action`?
    #[inline]
    pub fn selects(&self, action: &Action, line: &[u8]) -> bool {
        let mut on = true;
        for s in self.selectors.get(action.sel.0..action.sel.1).unwrap_or(&[]) {
            // A selector that cannot change the outcome is not run.
            if s.deselect == on && s.re.is_match(line) {
                on = !on;
            }
        }
        on
    }

    pub fn actions(&self) -> &[Action] {
        self.actions.get(..self.n_actions).unwrap_or(&[])
    }
}

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}
