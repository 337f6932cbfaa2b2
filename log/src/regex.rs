//! Line selection patterns: POSIX extended regular expressions as s6-log
//! takes them (glibc's `regcomp(REG_EXTENDED)` in the C locale), compiled
//! once, without allocation, into a position (Glushkov) automaton whose
//! states are the bits of a fixed-size set, and matched anywhere in a line
//! (unanchored, as regexec does).
//!
//! Taken: literal bytes, `.`, bracket expressions (`[abc]`, `[a-z]`,
//! `[^...]`, a leading `]`, a leading or trailing `-`, the classes
//! `[:alnum:]` `[:alpha:]` `[:blank:]` `[:cntrl:]` `[:digit:]` `[:graph:]`
//! `[:lower:]` `[:print:]` `[:punct:]` `[:space:]` `[:upper:]` `[:xdigit:]`,
//! one-byte `[=c=]` and `[.c.]`), the repetitions `*`, `+`, `?`, the
//! intervals `{n}`, `{n,}`, `{n,m}` and `{,m}`, alternation `|` (empty
//! branches included), groups `( )`, the anchors `^` and `$` anywhere, an
//! unmatched `)` as a literal, glibc's `\w` `\W` `\s` `\S` `` \` `` `\'`,
//! and `\` before any other byte to make it literal.
//!
//! Refused, each with its reason: what glibc refuses too (a repetition with
//! nothing to repeat, an unmatched `(` or `[`, a bad interval, an unknown
//! class, a range out of order...), and what this automaton cannot do:
//! back-references (`\1`), word boundaries (`\b` `\B` `\<` `\>`), and
//! patterns past the capacities below (an interval is expanded into copies
//! of what it repeats).

/// Most positions (literals, `.`, bracket expressions, anchors) in one
/// pattern, once its intervals are expanded: `[[:alnum:]]{1,32}` takes 32.
pub const MAX_POSITIONS: usize = 256;
/// Deepest nesting of groups in one pattern.
pub const MAX_DEPTH: usize = 32;
/// Largest count in an interval (glibc's RE_DUP_MAX is 32767: a larger one
/// is refused by both; between the two, `MAX_POSITIONS` decides).
pub const MAX_REPEAT: u32 = 32767;

/// u64 words of a position set.
const WORDS: usize = MAX_POSITIONS / 64;
type Set = [u64; WORDS];
const NONE: Set = [0; WORDS];

/// The start of the line, seen by `^` positions only.
const BOL: usize = 256;
/// The end of the line, seen by `$` positions only.
const EOL: usize = 257;
const SYMBOLS: usize = 258;

/// A compiled pattern: for each input symbol the set of positions it can
/// take, and for each position the positions that may follow it. The
/// small fields come first and the tables are kept one set word at a time
/// (`Word`), so that a pattern of up to 64 positions (most) touches about
/// 2 KiB of its 16: the rest stays untouched zeroed data, which costs a
/// logger no memory.
#[repr(C)]
pub struct Regex {
    first: Set,
    last: Set,
    nullable: bool,
    /// Words of the sets in use (positions / 64, rounded up).
    words: usize,
    /// Words of the tables written to since the last clearing.
    dirty: usize,
    /// When every match starts with this one byte: where the search skips to.
    lead: Option<u8>,
    /// Every match starts at the line's start (`^...`).
    anchored: bool,
    /// The bytes a match can start with (a 256-bit map).
    starts: Bytes,
    tables: [Word; WORDS],
}

/// Word `w` of every set of the tables: positions `64w..64w+63`.
#[repr(C)]
struct Word {
    accepts: [u64; SYMBOLS],
    follow: [u64; MAX_POSITIONS],
}

/// What a sub-expression contributes: can it match empty, where can a match
/// of it start, and where can it end.
#[derive(Clone, Copy)]
struct Frag {
    nullable: bool,
    first: Set,
    last: Set,
    /// It is a lone anchor: glibc refuses a repetition right after one.
    anchor: bool,
}

const EMPTY: Frag = Frag { nullable: true, first: NONE, last: NONE, anchor: false };

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

fn or(a: Set, b: Set) -> Set {
    let mut r = a;
    for (x, y) in r.iter_mut().zip(b.iter()) {
        *x |= y;
    }
    r
}

fn meets(a: &Set, b: &Set) -> bool {
    a.iter().zip(b.iter()).any(|(x, y)| x & y != 0)
}

/// The bits of `s`, one position index at a time.
fn each(s: Set, mut f: impl FnMut(usize)) {
    for (w, mut bits) in s.into_iter().enumerate() {
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

impl Regex {
    /// A pattern that matches nothing (all zeros, so tables of them live in .bss).
    pub const fn new() -> Regex {
        const W: Word = Word { accepts: [0; SYMBOLS], follow: [0; MAX_POSITIONS] };
        Regex {
            first: NONE,
            last: NONE,
            nullable: false,
            words: 0,
            dirty: 0,
            lead: None,
            anchored: false,
            starts: [0; 4],
            tables: [W; WORDS],
        }
    }

    /// The positions taking symbol `s`, in the words in use.
    fn accepts(&self, s: usize) -> Set {
        let mut r = NONE;
        for (x, t) in r.iter_mut().zip(self.tables.iter()).take(self.words) {
            *x = t.accepts.get(s).copied().unwrap_or(0);
        }
        r
    }

    /// Compiles `pat` in place. Only the words a previous pattern wrote are
    /// cleared: a fresh one (all of a script's) is written, never zeroed,
    /// and nothing as large as the tables goes through the stack.
    #[inline(never)]
    pub fn compile(&mut self, pat: &[u8]) -> Result<(), Error> {
        for t in self.tables.iter_mut().take(self.dirty) {
            t.accepts.fill(0);
            t.follow.fill(0);
        }
        (self.first, self.last, self.nullable, self.dirty, self.lead, self.anchored, self.starts) = (NONE, NONE, false, 0, None, false, [0; 4]);
        // Until the pattern is read, every word may be looked at.
        self.words = WORDS;
        let mut p = Parser { re: self, pat, at: 0, positions: 0, depth: 0 };
        let f = p.alternation()?;
        if p.at < pat.len() {
            return Err(b"unmatched )");
        }
        let words = p.positions.div_ceil(64).max(1);
        self.words = words;
        self.first = f.first;
        self.last = f.last;
        self.nullable = f.nullable;
        // The line's edges count too: `$|a` must not skip lines without `a`.
        let mut starts = (0..SYMBOLS).filter(|&s| meets(&self.accepts(s), &f.first));
        self.lead = match (starts.next(), starts.next()) {
            (Some(s), None) if s < 256 => Some(s as u8),
            _ => None,
        };
        self.anchored = (0..SYMBOLS).filter(|&s| s != BOL).all(|s| !meets(&self.accepts(s), &f.first));
        for c in 0..=255u8 {
            if meets(&self.accepts(c as usize), &f.first) {
                add_range(&mut self.starts, c, c);
            }
        }
        Ok(())
    }

    /// Does the pattern match somewhere in `line` (which holds no newline)?
    pub fn is_match(&self, line: &[u8]) -> bool {
        if self.nullable {
            return true;
        }
        // The sets as short as the pattern needs: one word up to 64 positions.
        if self.words <= 1 { self.scan::<1>(line) } else { self.scan::<WORDS>(line) }
    }

    fn scan<const W: usize>(&self, line: &[u8]) -> bool {
        let cut = |s: &Set| -> [u64; W] {
            let mut r = [0u64; W];
            for (x, y) in r.iter_mut().zip(s.iter()) {
                *x = *y;
            }
            r
        };
        let (first, last) = (cut(&self.first), cut(&self.last));
        let hit = |d: &[u64; W]| d.iter().zip(last.iter()).any(|(x, y)| x & y != 0);
        // The positions reachable after `d` (plus a fresh start: unanchored
        // search) that take symbol `c`.
        let step = |d: &[u64; W], c: usize| -> [u64; W] {
            let mut next = first;
            for (w, &bits) in d.iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    let p = w * 64 + bits.trailing_zeros() as usize;
                    for (n, t) in next.iter_mut().zip(self.tables.iter()) {
                        *n |= t.follow.get(p).copied().unwrap_or(0);
                    }
                    bits &= bits - 1;
                }
            }
            for (n, t) in next.iter_mut().zip(self.tables.iter()) {
                *n &= t.accepts.get(c).copied().unwrap_or(0);
            }
            next
        };
        // Anchors take no room: `^^a` is `^a`, so the line's start is seen
        // by as many `^` in a row as the pattern has.
        let mut d = cut(&self.edge(self.first, BOL, line.is_empty()));
        if hit(&d) {
            return true;
        }
        let mut i = 0;
        while i < line.len() {
            if d == [0; W] {
                // No match in progress: none can start past the line's start,
                // or skip to where one can.
                if self.anchored {
                    return false;
                }
                if let Some(b) = self.lead {
                    match crate::batch::find_byte(line.get(i..).unwrap_or(&[]), b) {
                        Some(k) => i += k,
                        None => return false,
                    }
                } else {
                    while line.get(i).is_some_and(|&c| self.starts[(c >> 6) as usize & 3] >> (c & 63) & 1 == 0) {
                        i += 1;
                    }
                }
            }
            let Some(&c) = line.get(i) else { break };
            d = step(&d, c as usize);
            if hit(&d) {
                return true;
            }
            i += 1;
        }
        let mut end = NONE;
        for (x, y) in end.iter_mut().zip(step(&d, EOL).iter()) {
            *x = *y;
        }
        let end = cut(&self.edge(end, EOL, line.is_empty()));
        hit(&end)
    }

    /// `d` restricted to the positions taking the line's edge `e` (`BOL`,
    /// `EOL`, or on an empty line both: each anchor that holds there), then
    /// grown by the followers that take it too.
    fn edge(&self, d: Set, e: usize, empty: bool) -> Set {
        let mut acc = self.accepts(e);
        if empty {
            acc = or(self.accepts(BOL), self.accepts(EOL));
        }
        let mut r = NONE;
        for (x, (y, a)) in r.iter_mut().zip(d.iter().zip(acc.iter())) {
            *x = y & a;
        }
        loop {
            let mut grown = r;
            each(r, |p| {
                for (g, (t, a)) in grown.iter_mut().zip(self.tables.iter().zip(acc.iter())).take(self.words) {
                    *g |= t.follow.get(p).copied().unwrap_or(0) & a;
                }
            });
            if grown == r {
                return r;
            }
            r = grown;
        }
    }
}

/// The C locale's classes (s6-log never calls setlocale), as byte ranges.
const CLASSES: &[(&[u8], &[(u8, u8)])] = &[
    (b"alnum", &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')]),
    (b"alpha", &[(b'A', b'Z'), (b'a', b'z')]),
    (b"blank", &[(b'\t', b'\t'), (b' ', b' ')]),
    (b"cntrl", &[(0, 31), (127, 127)]),
    (b"digit", &[(b'0', b'9')]),
    (b"graph", &[(33, 126)]),
    (b"lower", &[(b'a', b'z')]),
    (b"print", &[(32, 126)]),
    (b"punct", &[(33, 47), (58, 64), (91, 96), (123, 126)]),
    (b"space", SPACE),
    (b"upper", &[(b'A', b'Z')]),
    (b"xdigit", &[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')]),
];
/// glibc's `\w` (and, negated, `\W`).
const WORD: &[(u8, u8)] = &[(b'0', b'9'), (b'A', b'Z'), (b'_', b'_'), (b'a', b'z')];
/// `[:space:]`, glibc's `\s` (and, negated, `\S`).
const SPACE: &[(u8, u8)] = &[(9, 13), (b' ', b' ')];

/// A 256-bit byte map.
type Bytes = [u64; 4];

fn add_range(set: &mut Bytes, lo: u8, hi: u8) {
    for c in lo..=hi {
        set[(c >> 6) as usize & 3] |= 1 << (c & 63);
    }
}

fn bytes_of(ranges: &[(u8, u8)], negate: bool) -> Bytes {
    let mut set = [0u64; 4];
    for &(lo, hi) in ranges {
        add_range(&mut set, lo, hi);
    }
    if negate {
        set.iter_mut().for_each(|w| *w = !*w);
    }
    set
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
            f = Frag { nullable: f.nullable || g.nullable, first: or(f.first, g.first), last: or(f.last, g.last), anchor: false };
        }
        Ok(f)
    }

    fn concatenation(&mut self) -> Result<Frag, Error> {
        let mut acc = EMPTY;
        while let Some(c) = self.peek() {
            // An unmatched `)` is a literal (glibc); a matched one ends the group.
            if c == b'|' || (c == b')' && self.depth > 0) {
                break;
            }
            let start = self.at;
            let f = self.atom()?;
            let f = self.repetitions(start, f, usize::MAX)?;
            acc = self.then(acc, f);
        }
        Ok(acc)
    }

    /// `acc` followed by `f`.
    fn then(&mut self, acc: Frag, f: Frag) -> Frag {
        self.link(acc.last, f.first);
        Frag {
            nullable: acc.nullable && f.nullable,
            first: if acc.nullable { or(acc.first, f.first) } else { acc.first },
            last: if f.nullable { or(f.last, acc.last) } else { f.last },
            anchor: false,
        }
    }

    /// The repetition operators after the atom that starts at `start`
    /// (parsed as `f`), up to `end`.
    fn repetitions(&mut self, start: usize, mut f: Frag, end: usize) -> Result<Frag, Error> {
        while self.at < end {
            let Some(c) = self.peek() else { break };
            if matches!(c, b'*' | b'+' | b'?' | b'{') && f.anchor {
                return Err(b"nothing to repeat (after an anchor)");
            }
            match c {
                b'*' => {
                    self.link(f.last, f.first);
                    f.nullable = true;
                }
                b'+' => self.link(f.last, f.first),
                b'?' => f.nullable = true,
                b'{' => {
                    let here = self.at;
                    let (n, m) = self.interval()?;
                    let after = self.at;
                    f = self.repeat(start, here, f, n, m)?;
                    self.at = after;
                    continue;
                }
                _ => break,
            }
            self.at += 1;
        }
        Ok(f)
    }

    /// `{n}`, `{n,}`, `{n,m}`, `{,m}`: (n, Some(m)) or (n, None) for no upper bound.
    fn interval(&mut self) -> Result<(u32, Option<u32>), Error> {
        self.at += 1;
        let n = self.number()?;
        let m = if self.peek() == Some(b',') {
            self.at += 1;
            self.number()?
        } else {
            Some(n.unwrap_or(0))
        };
        if self.peek() != Some(b'}') || (n.is_none() && self.pat.get(self.at - 1) == Some(&b'{')) {
            return Err(b"bad interval (want {n}, {n,}, {n,m} or {,m})");
        }
        self.at += 1;
        let n = n.unwrap_or(0);
        if m.is_some_and(|m| m < n) {
            return Err(b"bad interval (its maximum is below its minimum)");
        }
        Ok((n, m))
    }

    fn number(&mut self) -> Result<Option<u32>, Error> {
        let mut v: Option<u32> = None;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            let x = v.unwrap_or(0) * 10 + (c - b'0') as u32;
            if x > MAX_REPEAT {
                return Err(b"interval count too large (the most is 32767)");
            }
            v = Some(x);
            self.at += 1;
        }
        Ok(v)
    }

    /// The unit `pat[start..here]` (an atom and its earlier repetitions,
    /// already parsed once as `f`) repeated n to m times: copies of it in a
    /// row, the first n required, the others optional (the language is
    /// what matters, not which copy matched).
    fn repeat(&mut self, start: usize, here: usize, f: Frag, n: u32, m: Option<u32>) -> Result<Frag, Error> {
        let copies = match m {
            Some(0) => return Ok(EMPTY), // its positions stay unreachable
            Some(m) => m,
            None => n.max(1),
        };
        let mut acc = EMPTY;
        for k in 0..copies {
            let mut g = if k == 0 {
                f
            } else {
                self.at = start;
                let a = self.atom()?;
                self.repetitions(start, a, here)?
            };
            if k >= n {
                g.nullable = true;
            }
            if m.is_none() && k + 1 == copies {
                self.link(g.last, g.first);
            }
            acc = self.then(acc, g);
        }
        Ok(acc)
    }

    fn atom(&mut self) -> Result<Frag, Error> {
        let Some(c) = self.peek() else { return Err(b"unexpected end") };
        self.at += 1;
        match c {
            b'(' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(b"groups nested too deeply (capacity MAX_DEPTH = 32)");
                }
                let f = self.alternation()?;
                if self.peek() != Some(b')') {
                    return Err(b"unmatched (");
                }
                self.at += 1;
                self.depth -= 1;
                Ok(Frag { anchor: false, ..f })
            }
            b'*' | b'+' | b'?' => Err(b"nothing to repeat"),
            b'{' => Err(b"nothing to repeat ({ opens an interval)"),
            b'.' => self.position([!0u64; 4], 0),
            b'^' => self.anchor(BOL),
            b'$' => self.anchor(EOL),
            b'[' => self.bracket(),
            b'\\' => {
                let Some(e) = self.peek() else { return Err(b"trailing backslash") };
                self.at += 1;
                match e {
                    b'1'..=b'9' => Err(b"back-references are not supported"),
                    b'b' | b'B' | b'<' | b'>' => Err(b"word boundaries (\\b \\B \\< \\>) are not supported"),
                    b'w' | b'W' => self.position(bytes_of(WORD, e == b'W'), 0),
                    b's' | b'S' => self.position(bytes_of(SPACE, e == b'S'), 0),
                    b'`' => self.anchor(BOL),
                    b'\'' => self.anchor(EOL),
                    _ => self.literal(e),
                }
            }
            _ => self.literal(c),
        }
    }

    fn literal(&mut self, c: u8) -> Result<Frag, Error> {
        self.position(bytes_of(&[(c, c)], false), 0)
    }

    fn anchor(&mut self, edge: usize) -> Result<Frag, Error> {
        let f = self.position([0; 4], 1 << (edge - 256))?;
        Ok(Frag { anchor: true, ..f })
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
            if c == b']' && !first {
                self.at += 1;
                break;
            }
            first = false;
            let lo = match self.element()? {
                Element::Byte(b) => b,
                Element::Class(r) => {
                    set.iter_mut().zip(bytes_of(r, false)).for_each(|(s, b)| *s |= b);
                    if self.peek() == Some(b'-') && self.pat.get(self.at + 1) != Some(&b']') {
                        return Err(b"bad range (a class cannot end one)");
                    }
                    continue;
                }
            };
            let mut hi = lo;
            if self.peek() == Some(b'-') && self.pat.get(self.at + 1).is_some_and(|&n| n != b']') {
                self.at += 1;
                hi = match self.element()? {
                    Element::Byte(b) => b,
                    Element::Class(_) => return Err(b"bad range (a class cannot end one)"),
                };
                if hi < lo {
                    return Err(b"bad range (out of order)");
                }
                // `[a-c-e]`: a range cannot start where one ended.
                if self.peek() == Some(b'-') && self.pat.get(self.at + 1).is_some_and(|&n| n != b']') {
                    return Err(b"bad range (two ranges share an end)");
                }
            }
            add_range(&mut set, lo, hi);
        }
        if negate {
            set.iter_mut().for_each(|w| *w = !*w);
        }
        self.position(set, 0)
    }

    /// One element of a bracket expression: a byte, `[.c.]`, `[=c=]` or
    /// `[:class:]`.
    fn element(&mut self) -> Result<Element, Error> {
        let Some(c) = self.peek() else { return Err(b"unmatched [") };
        self.at += 1;
        let kind = match (c, self.peek()) {
            (b'[', Some(k @ (b':' | b'=' | b'.'))) => k,
            _ => return Ok(Element::Byte(c)),
        };
        self.at += 1;
        let from = self.at;
        let rest = self.pat.get(from..).unwrap_or(&[]);
        let Some(len) = rest.windows(2).position(|w| w[0] == kind && w[1] == b']') else {
            return Err(b"unmatched [: [. or [=");
        };
        self.at = from + len + 2;
        let name = rest.get(..len).unwrap_or(&[]);
        match (kind, name) {
            (b':', _) => CLASSES
                .iter()
                .find(|c| c.0 == name)
                .map(|c| Element::Class(c.1))
                .ok_or(b"unknown character class"),
            (_, &[b]) => Ok(Element::Byte(b)),
            _ => Err(b"unknown collating element (only single bytes)"),
        }
    }

    /// A new position accepting the bytes of `set` (a 256-bit map) and the
    /// line-edge symbols of `edges` (bit 0 start, bit 1 end).
    fn position(&mut self, set: Bytes, edges: u8) -> Result<Frag, Error> {
        let p = self.positions;
        let (w, bit) = (p / 64, 1u64 << (p % 64));
        let Some(t) = self.re.tables.get_mut(w) else {
            return Err(b"pattern too long (capacity MAX_POSITIONS = 256 positions, intervals expanded)");
        };
        self.positions += 1;
        self.re.dirty = self.re.dirty.max(w + 1);
        for (s, a) in t.accepts.iter_mut().enumerate() {
            let on = if s < 256 { set[(s >> 6) & 3] >> (s & 63) & 1 != 0 } else { edges >> (s - 256) & 1 != 0 };
            if on {
                *a |= bit;
            }
        }
        let mut one = NONE;
        if let Some(x) = one.get_mut(w) {
            *x = bit;
        }
        Ok(Frag { nullable: false, first: one, last: one, anchor: false })
    }

    /// Every position of `from` may be followed by every position of `to`.
    fn link(&mut self, from: Set, to: Set) {
        let tables = &mut self.re.tables;
        each(from, |p| {
            // Words with no position of `to` are not written: untouched, they stay free.
            for (t, &x) in tables.iter_mut().zip(to.iter()).filter(|(_, x)| **x != 0) {
                if let Some(f) = t.follow.get_mut(p) {
                    *f |= x;
                }
            }
        });
    }
}

enum Element {
    Byte(u8),
    Class(&'static [(u8, u8)]),
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
        assert!(m("^^a", "a"));
        assert!(m("a$$", "ba"));
        assert!(m("(^)*a", "ba"));
        assert!(m("x*^a", "a"));
        assert!(m("\\`a\\'", "a"));
        assert!(m("$^", ""));
        assert!(!m("$^", "a"));
        assert!(m("($^)(a|){0}a?", ""));
        assert!(m("$|a", "xyz"));
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
        assert!(m("ab|ac", "xxac"));
        assert!(m("^(a|)$", ""));
        assert!(m("a||b", "zzz"));
        assert!(m("ab)", "xab)"));
    }

    #[test]
    fn intervals_expand() {
        assert!(m("^a{2}$", "aa"));
        assert!(!m("^a{2}$", "aaa"));
        assert!(m("^a{2,}$", "aaaaa"));
        assert!(!m("^a{2,}$", "a"));
        assert!(m("^a{1,3}$", "aaa"));
        assert!(!m("^a{1,3}$", "aaaa"));
        assert!(m("^a{,2}$", ""));
        assert!(m("^x(ab){0}y$", "xy"));
        assert!(m("^(a|bc){2}$", "bca"));
        assert!(m("^a{1}{2}$", "aa"));
        assert!(m("^(a{2}b){2}$", "aabaab"));
        assert!(m("^a+{2}$", "aaa"));
        assert!(!m("^[0-9]{3}-[0-9]{4}$", "12-1234"));
        assert!(m("^[0-9]{3}-[0-9]{4}$", "123-1234"));
        // Past one word of positions.
        assert!(m("^a{100}$", &"a".repeat(100)));
        assert!(!m("^a{100}$", &"a".repeat(99)));
        assert!(m("x[0-9]{70,80}y", &format!("..x{}y..", "7".repeat(75))));
        assert!(!m("x[0-9]{70,80}y", &format!("..x{}y..", "7".repeat(81))));
        assert!(m("(b{70}|c)$", "zzc"));
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
        assert!(m("^[[:alnum:]]*\\.err:", "daemon.err: x"));
        assert!(!m("^[[:alnum:]]*\\.err:", "daemon.info: x"));
        assert!(m("^[[:space:]]+$", " \t"));
        assert!(m("[[:punct:]]", "a,b"));
        assert!(!m("[[:print:]]", "\u{e9}"));
        assert!(m("^[[.-.]a]$", "-"));
        assert!(m("^[[=]=]]$", "]"));
        assert!(m("[\\]", "\\"));
        assert!(m("^\\w+\\s\\W$", "ab_1 ."));
    }

    #[test]
    fn what_glibc_refuses_is_refused() {
        for p in [
            "*a", "a|*b", "(*a)", "a|?", "^*a", "$*", "{a", "a{", "a{1", "a{1,2", "a{ 1}", "a{1,2,3}", "a{2,1}",
            "a{32768}", "(ab", "[ab", "[]", "[z-a]", "[a-c-e]", "[[:alpha:]-z]", "[[:foo:]]", "[[.space.]]", "\\",
        ] {
            assert!(refused(p), "{p}");
        }
    }

    #[test]
    fn what_this_automaton_cannot_do_is_refused() {
        for p in ["(a)\\1", "\\ba", "a\\>"] {
            assert!(refused(p), "{p}");
        }
        assert!(refused(&"a".repeat(257)));
        assert!(!refused(&"a".repeat(256)));
        assert!(refused("a{257}"));
        assert!(!refused("[[:alnum:]]{1,200}"));
        assert!(refused(&"(".repeat(40)));
    }

    #[test]
    fn a_pattern_compiled_over_another_forgets_it() {
        let mut r = Box::new(Regex::new());
        r.compile(b"x{100}y|abc").unwrap();
        assert!(r.is_match(format!("{}y", "x".repeat(100)).as_bytes()));
        r.compile(b"ab").unwrap();
        assert!(r.is_match(b"cab"));
        assert!(!r.is_match(b"abc".get(1..).unwrap()));
        assert!(!r.is_match("x".repeat(100).as_bytes()));
        assert!(r.compile(b"(a").is_err());
        r.compile(b"^q$").unwrap();
        assert!(r.is_match(b"q"));
        assert!(!r.is_match(b"ab"));
    }
}
