//! Line selection patterns: a POSIX extended regular expression subset,
//! compiled without allocation into a position (Glushkov) automaton whose
//! states are the bits of one `u64`, and matched anywhere in a line
//! (unanchored, as regexec does).
//!
//! Supported: literal bytes, `.`, bracket expressions `[abc]`, `[a-z]`,
//! `[^...]` (a leading `]` and a leading or trailing `-` are literal), the
//! repetitions `*`, `+`, `?`, the anchors `^` and `$`, alternation `|`,
//! groups `( )`, and `\` before any special character to make it literal.
//! Anything else (intervals `{n,m}`, character classes `[:alpha:]`,
//! collating elements, back-references, `\w`-style escapes) is refused when
//! the script is read, so a pattern never silently means something else.

/// Most positions (literals, `.`, bracket expressions, anchors) in one pattern.
pub const MAX_POSITIONS: usize = 64;
/// Deepest nesting of groups in one pattern.
pub const MAX_DEPTH: usize = 32;

fn byte_set(c: u8) -> [u64; 4] {
    let mut set = [0u64; 4];
    set[(c >> 6) as usize & 3] |= 1 << (c & 63);
    set
}

/// The start of the line, seen by `^` positions only.
const BOL: usize = 256;
/// The end of the line, seen by `$` positions only.
const EOL: usize = 257;
const SYMBOLS: usize = 258;

/// A compiled pattern: for each input symbol the set of positions it can
/// take, and for each position the positions that may follow it.
pub struct Regex {
    accepts: [u64; SYMBOLS],
    follow: [u64; MAX_POSITIONS],
    first: u64,
    last: u64,
    nullable: bool,
    /// When every match starts with this one byte: where the search skips to.
    lead: Option<u8>,
}

/// What a sub-expression contributes: can it match empty, where can a match
/// of it start, and where can it end.
#[derive(Clone, Copy)]
struct Frag {
    nullable: bool,
    first: u64,
    last: u64,
}

const EMPTY: Frag = Frag { nullable: true, first: 0, last: 0 };

struct Parser<'a> {
    re: &'a mut Regex,
    pat: &'a [u8],
    at: usize,
    positions: usize,
    depth: usize,
}

/// Why a pattern was refused.
pub type Error = &'static [u8];

impl Default for Regex {
    fn default() -> Self {
        Self::new()
    }
}

impl Regex {
    /// A pattern that matches nothing (all zeros, so tables of them live in .bss).
    pub const fn new() -> Regex {
        Regex { accepts: [0; SYMBOLS], follow: [0; MAX_POSITIONS], first: 0, last: 0, nullable: false, lead: None }
    }

    /// Compiles `pat` in place (the tables are large: no copy on the stack).
    #[inline(never)]
    pub fn compile(&mut self, pat: &[u8]) -> Result<(), Error> {
        *self = Regex::new();
        let mut p = Parser { re: self, pat, at: 0, positions: 0, depth: 0 };
        let f = p.alternation()?;
        if p.at < pat.len() {
            return Err(b"unmatched )");
        }
        self.first = f.first;
        self.last = f.last;
        self.nullable = f.nullable;
        let mut starts = self.accepts.iter().enumerate().filter(|(_, a)| **a & f.first != 0).map(|(s, _)| s);
        self.lead = match (starts.next(), starts.next()) {
            (Some(s), None) if s < 256 => Some(s as u8),
            _ => None,
        };
        Ok(())
    }

    /// Does the pattern match somewhere in `line` (which holds no newline)?
    pub fn is_match(&self, line: &[u8]) -> bool {
        if self.nullable {
            return true;
        }
        let mut d = self.first & self.accepts[BOL];
        if d & self.last != 0 {
            return true;
        }
        let mut i = 0;
        while i < line.len() {
            if d == 0 {
                // No match in progress: skip to where one can start.
                if let Some(b) = self.lead {
                    match crate::batch::find_byte(line.get(i..).unwrap_or(&[]), b) {
                        Some(k) => i += k,
                        None => return false,
                    }
                }
            }
            let Some(&c) = line.get(i) else { break };
            d = self.step(d) & self.accepts[c as usize];
            if d & self.last != 0 {
                return true;
            }
            i += 1;
        }
        self.step(d) & self.accepts[EOL] & self.last != 0
    }

    /// The positions reachable after `d`, plus a fresh start (unanchored search).
    #[inline]
    fn step(&self, mut d: u64) -> u64 {
        let mut next = self.first;
        while d != 0 {
            next |= self.follow[(d.trailing_zeros() as usize) & (MAX_POSITIONS - 1)];
            d &= d - 1;
        }
        next
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.pat.get(self.at).copied()
    }

    fn alternation(&mut self) -> Result<Frag, Error> {
        let mut f = self.concatenation()?;
        while self.peek() == Some(b'|') {
            self.at += 1;
            let g = self.concatenation()?;
            f = Frag { nullable: f.nullable || g.nullable, first: f.first | g.first, last: f.last | g.last };
        }
        Ok(f)
    }

    fn concatenation(&mut self) -> Result<Frag, Error> {
        let mut acc = EMPTY;
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let f = self.repetition()?;
            self.link(acc.last, f.first);
            acc = Frag {
                nullable: acc.nullable && f.nullable,
                first: acc.first | if acc.nullable { f.first } else { 0 },
                last: f.last | if f.nullable { acc.last } else { 0 },
            };
        }
        Ok(acc)
    }

    fn repetition(&mut self) -> Result<Frag, Error> {
        let mut f = self.atom()?;
        while let Some(c) = self.peek() {
            match c {
                b'*' => {
                    self.link(f.last, f.first);
                    f.nullable = true;
                }
                b'+' => self.link(f.last, f.first),
                b'?' => f.nullable = true,
                b'{' => return Err(b"intervals {n,m} are not supported"),
                _ => break,
            }
            self.at += 1;
        }
        Ok(f)
    }

    fn atom(&mut self) -> Result<Frag, Error> {
        let Some(c) = self.peek() else { return Err(b"unexpected end") };
        self.at += 1;
        match c {
            b'(' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(b"groups nested too deeply");
                }
                let f = self.alternation()?;
                if self.peek() != Some(b')') {
                    return Err(b"unmatched (");
                }
                self.at += 1;
                self.depth -= 1;
                Ok(f)
            }
            b'*' | b'+' | b'?' => Err(b"nothing to repeat"),
            b'{' => Err(b"intervals {n,m} are not supported"),
            b'.' => {
                let mut set = [!0u64; 4];
                set[0] &= !(1 << b'\n');
                self.position(set, 0)
            }
            b'^' => self.position([0; 4], 1 << (BOL - 256)),
            b'$' => self.position([0; 4], 1 << (EOL - 256)),
            b'[' => self.bracket(),
            b'\\' => {
                let Some(e) = self.peek() else { return Err(b"trailing backslash") };
                if !b".[]()*+?{}|^$\\/-".contains(&e) {
                    return Err(b"unsupported escape");
                }
                self.at += 1;
                self.position(byte_set(e), 0)
            }
            _ => self.position(byte_set(c), 0),
        }
    }

    /// `[...]`: the set of bytes, then one position for it.
    fn bracket(&mut self) -> Result<Frag, Error> {
        let mut set = [0u64; 4];
        let negate = self.peek() == Some(b'^');
        if negate {
            self.at += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else { return Err(b"unmatched [") };
            self.at += 1;
            if c == b']' && !first {
                break;
            }
            first = false;
            if c == b'[' && matches!(self.peek(), Some(b':' | b'=' | b'.')) {
                return Err(b"[:class:], [=equiv=] and [.coll.] are not supported");
            }
            let mut hi = c;
            if self.peek() == Some(b'-') && self.pat.get(self.at + 1).is_some_and(|&n| n != b']') {
                hi = self.pat[self.at + 1];
                self.at += 2;
                if hi < c {
                    return Err(b"range out of order");
                }
            }
            for b in c..=hi {
                set[(b >> 6) as usize & 3] |= 1 << (b & 63);
            }
        }
        if negate {
            set.iter_mut().for_each(|w| *w = !*w);
        }
        set[0] &= !(1 << b'\n');
        self.position(set, 0)
    }

    /// A new position accepting the bytes of `set` (a 256-bit map) and the
    /// line-edge symbols of `edges` (bit 0 start, bit 1 end).
    fn position(&mut self, set: [u64; 4], edges: u8) -> Result<Frag, Error> {
        if self.positions >= MAX_POSITIONS {
            return Err(b"pattern too long (more than 64 positions)");
        }
        let bit = 1u64 << self.positions;
        self.positions += 1;
        for (s, a) in self.re.accepts.iter_mut().enumerate() {
            let on = if s < 256 { set[(s >> 6) & 3] >> (s & 63) & 1 != 0 } else { edges >> (s - 256) & 1 != 0 };
            if on {
                *a |= bit;
            }
        }
        Ok(Frag { nullable: false, first: bit, last: bit })
    }

    /// Every position of `from` may be followed by every position of `to`.
    fn link(&mut self, mut from: u64, to: u64) {
        while from != 0 {
            self.re.follow[(from.trailing_zeros() as usize) & (MAX_POSITIONS - 1)] |= to;
            from &= from - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, line: &str) -> bool {
        let mut r = Box::new(Regex::new());
        r.compile(pat.as_bytes()).unwrap();
        r.is_match(line.as_bytes())
    }

    fn refused(pat: &str) -> bool {
        let mut r = Box::new(Regex::new());
        r.compile(pat.as_bytes()).is_err()
    }

    #[test]
    fn literals_match_anywhere() {
        assert!(m("error", "an error here"));
        assert!(!m("error", "an eror here"));
        assert!(m("", "anything"));
    }

    #[test]
    fn anchors() {
        assert!(m("^ab", "abc"));
        assert!(!m("^ab", "cab"));
        assert!(m("ab$", "cab"));
        assert!(!m("ab$", "abc"));
        assert!(m("^$", ""));
        assert!(!m("^$", "x"));
        assert!(m("^a|b$", "xb"));
        assert!(!m("a^b", "ab"));
    }

    #[test]
    fn repetitions_and_groups() {
        assert!(m("^a*$", ""));
        assert!(m("^a*$", "aaa"));
        assert!(!m("^a+$", ""));
        assert!(m("^(ab)+$", "ababab"));
        assert!(!m("^(ab)+$", "ababa"));
        assert!(m("^colou?r$", "color"));
        assert!(m("^colou?r$", "colour"));
        assert!(m("^(foo|bar)baz$", "barbaz"));
        assert!(!m("^(foo|bar)baz$", "quxbaz"));
        assert!(m("x(a|b)*y", "..xababby.."));
        assert!(m("ERROR", "svc: ERROR request"));
        assert!(m("ERROR", "EERRORR"));
        assert!(!m("ERROR", "ERRO ERRORS".replace("ERRORS", "ERRXR").as_str()));
        assert!(m("ab|ac", "xxac"));
        assert!(m("^(a|)$", ""));
    }

    #[test]
    fn dot_and_brackets() {
        assert!(m("^a.c$", "abc"));
        assert!(!m("^a.c$", "ac"));
        assert!(m("^[a-c]+$", "abcab"));
        assert!(!m("^[a-c]+$", "abd"));
        assert!(m("^[^0-9]*$", "abc"));
        assert!(!m("^[^0-9]*$", "ab1"));
        assert!(m("[]]", "a]"));
        assert!(m("^[a-]$", "-"));
        assert!(m("^[-a]$", "-"));
        assert!(m("\\.\\*", "a.*b"));
        assert!(!m("\\.", "ab"));
    }

    #[test]
    fn unsupported_is_refused() {
        assert!(refused("a{2}"));
        assert!(refused("[[:alpha:]]"));
        assert!(refused("\\w"));
        assert!(refused("(ab"));
        assert!(refused("ab)"));
        assert!(refused("[ab"));
        assert!(refused("*a"));
        assert!(refused("[z-a]"));
        assert!(refused(&"a".repeat(65)));
        assert!(!refused(&"a".repeat(64)));
        assert!(refused(&"(".repeat(40)));
    }
}
