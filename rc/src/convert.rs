//! The conversion file of rinit-rc-update (`-f`, as s6-rc-update's): one
//! line per atomic service of the live database, its name first, then in
//! any order `-> NEWNAME` (the service is called NEWNAME in the new
//! database) and `restart` (restart it even if its definition did not
//! change). Words are read as in execline scripts (`"..."` quotes, `#`
//! comments), one line at a time; blank lines are ignored.

use crate::db::{Db, Kind, MAX_SERVICES};
use crate::execline;
use base::fmt::Buf;
use base::sys::{self, Errno, errno};

/// Largest conversion file accepted.
pub const MAX_CONV_BYTES: usize = 64 << 10;

/// Exit code for a name that is no service of its database (s6-rc-update's).
pub const EXIT_UNKNOWN: i32 = 3;
/// Exit code for a bundle named where an atomic service must be (s6-rc-update's).
pub const EXIT_WRONG_TYPE: i32 = 5;

/// The conversion file, read and checked against both databases.
pub struct Conv {
    text: [u8; MAX_CONV_BYTES],
    /// Each line's words, each followed by a NUL; a line's words are never
    /// more bytes than the line and its newline.
    words: [u8; MAX_CONV_BYTES + 1],
    /// By old index: where its new name is in `words` (start, length; 0:
    /// the same name).
    to: [(u32, u32); MAX_SERVICES],
    /// By old index: 1 when named in the file, 2 when also `restart`.
    seen: [u8; MAX_SERVICES],
}

/// Why a conversion file is refused: `line` 0 for the file as a whole.
pub struct Bad {
    pub line: usize,
    pub why: &'static [u8],
    pub name: Buf<160>,
    pub code: i32,
    pub e: Option<Errno>,
}

fn bad(line: usize, why: &'static [u8], name: &[u8], code: i32) -> Bad {
    let mut b = Buf::new();
    b.push(name);
    Bad { line, why, name: b, code, e: None }
}

impl Conv {
    pub const fn new() -> Conv {
        Conv {
            text: [0; MAX_CONV_BYTES],
            words: [0; MAX_CONV_BYTES + 1],
            to: [(0, 0); MAX_SERVICES],
            seen: [0; MAX_SERVICES],
        }
    }

    /// Reads `path` and checks every name: the first word of a line is an
    /// atomic service of `old`, named once; `->`'s word a service of `new`.
    pub fn read(&mut self, path: &core::ffi::CStr, old: &Db, new: &Db) -> Result<(), Bad> {
        let len = match sys::read_file(path, &mut self.text) {
            Ok(t) => t.len(),
            Err(e) if e == errno::EOVERFLOW => {
                return Err(bad(0, b"larger than 64 KiB", b"", base::err::EXIT_USAGE));
            }
            Err(e) => {
                let mut b = bad(0, b"unable to read it", b"", base::err::EXIT_SYS);
                b.e = Some(e);
                return Err(b);
            }
        };
        let mut at = 0usize;
        let text = self.text.get(..len).unwrap_or(&[]);
        for (k, line) in text.split(|&c| c == b'\n').enumerate() {
            let ln = k + 1;
            let out = self.words.get_mut(at..).unwrap_or(&mut []);
            let used = match execline::tokenize(line, out) {
                Ok((used, _)) => used,
                Err(execline::Error::Empty) => continue,
                Err(e) => return Err(bad(ln, e.text(), b"", base::err::EXIT_USAGE)),
            };
            let start = at;
            at += used;
            // A line has at most its name, `->`, a new name and `restart`.
            let mut place = [(0usize, 0usize); 4];
            let mut n = 0usize;
            let mut from = start;
            for k in start..at {
                if self.words.get(k) == Some(&0) {
                    if k > from {
                        let Some(p) = place.get_mut(n) else {
                            return Err(bad(ln, b"too many words", b"", base::err::EXIT_USAGE));
                        };
                        *p = (from, k - from);
                        n += 1;
                    }
                    from = k + 1;
                }
            }
            let words = &self.words;
            let word = |k: usize| {
                let (o, l) = place.get(k).copied().unwrap_or((0, 0));
                words.get(o..o + l).unwrap_or(&[])
            };
            let name = word(0);
            let Some(s) = old.find(name) else {
                return Err(bad(ln, b"no service of the live database is called ", name, EXIT_UNKNOWN));
            };
            if s.kind() == Kind::Bundle {
                return Err(bad(ln, b"only atomic services are converted, not the bundle ", name, EXIT_WRONG_TYPE));
            }
            let i = s.index as usize;
            if self.seen.get(i).copied().unwrap_or(0) != 0 {
                return Err(bad(ln, b"a second line for ", name, base::err::EXIT_USAGE));
            }
            let mut seen = 1u8;
            let mut k = 1;
            while k < n {
                match word(k) {
                    b"restart" => seen = 2,
                    b"->" if k + 1 < n => {
                        k += 1;
                        let to = word(k);
                        if new.find(to).is_none() {
                            return Err(bad(ln, b"no service of the new database is called ", to, EXIT_UNKNOWN));
                        }
                        let (o, l) = place.get(k).copied().unwrap_or((0, 0));
                        if let Some(t) = self.to.get_mut(i) {
                            *t = (o as u32, l as u32);
                        }
                    }
                    b"->" => return Err(bad(ln, b"no new name after -> for ", name, base::err::EXIT_USAGE)),
                    other => return Err(bad(ln, b"unknown word ", other, base::err::EXIT_USAGE)),
                }
                k += 1;
            }
            if let Some(x) = self.seen.get_mut(i) {
                *x = seen;
            }
        }
        Ok(())
    }

    /// Old service `i`'s name in the new database.
    pub fn new_name<'a>(&'a self, old: &Db<'a>, i: u32) -> &'a [u8] {
        match self.to.get(i as usize) {
            Some(&(off, len)) if len != 0 => self
                .words
                .get(off as usize..(off + len) as usize)
                .unwrap_or(&[]),
            _ => old.svc(i).name(),
        }
    }

    /// Does the file ask for old service `i` to be restarted?
    pub fn restart(&self, i: u32) -> bool {
        self.seen.get(i as usize) == Some(&2)
    }
}

impl Default for Conv {
    fn default() -> Self {
        Self::new()
    }
}
