//! The compiled database: the one writer and reader of `compiled/db`.
//!
//! One file, every integer a little-endian u32, read in place (mapped) with
//! no allocation and no parsing at change time. Same input, same bytes: the
//! services are sorted by name and every list is written in index order.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `RINITRC\0` |
//! | 8 | 4 | version (`VERSION`) |
//! | 12 | 4 | total length of the file |
//! | 16 | 8 | checksum: FNV-1a 64 of the whole file with these 8 bytes zero |
//! | 24 | 4 | n: number of services (bundles included), sorted by name |
//! | 28 | 4 | number of u32 entries in the list area |
//! | 32 | 4 | length of the string area |
//! | 36 | 12 | zero |
//! | 48 | n × 80 | service records (20 u32 each, `R_*` below) |
//! | … | 4 × lists | list area: dependency, reverse-dependency, contents, argv lists |
//! | … | strings | NUL-terminated names and argv words |
//!
//! A record's lists are (start, count) in the list area. Dependencies are
//! direct atomic dependencies (bundles expanded); a bundle's "dependencies"
//! are its contents, expanded to atomic services. Reverse dependencies are
//! kept for atomic services only. An argv list holds string offsets.

/// Format version; a reader refuses any other.
pub const VERSION: u32 = 1;
/// The first 8 bytes of every database file.
pub const MAGIC: &[u8; 8] = b"RINITRC\0";
/// Bytes of the header, before the service records.
pub const HEADER_LEN: usize = 48;
/// u32 words per service record.
pub const REC_WORDS: usize = 20;
/// Bytes per service record.
pub const REC_LEN: usize = REC_WORDS * 4;
/// "No such service / string" in a record field.
pub const NONE: u32 = u32::MAX;
/// Largest database a reader accepts (and the writer produces).
pub const MAX_DB_BYTES: usize = 16 << 20;
/// Most services (bundles included) in one database.
pub const MAX_SERVICES: usize = 4096;

const R_KIND: usize = 0;
const R_FLAGS: usize = 1;
const R_NAME: usize = 2;
const R_NAME_LEN: usize = 3;
const R_TIMEOUT_UP: usize = 4;
const R_TIMEOUT_DOWN: usize = 5;
const R_DEPS: usize = 6; // + count at 7
const R_RDEPS: usize = 8; // + 9
const R_UP: usize = 10; // + 11
const R_DOWN: usize = 12; // + 13
const R_PRODUCER_FOR: usize = 14;
const R_CONSUMERS: usize = 15; // + 16: the services this one consumes from
const R_PIPELINE: usize = 17;

/// Record flag: `flag-essential`.
pub const F_ESSENTIAL: u32 = 1;
/// Record flag: the longrun reports readiness (`notification-fd`, or
/// rinit's `notify-socket` or `check`): wait for `U`.
pub const F_NOTIFY: u32 = 2;
/// Record flag: the oneshot has a `data/` directory (its working directory).
pub const F_DATA: u32 = 4;
/// Record flag: the oneshot has a `down` script.
pub const F_HAS_DOWN: u32 = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Oneshot = 0,
    Longrun = 1,
    Bundle = 2,
}

impl Kind {
    pub fn name(self) -> &'static [u8] {
        match self {
            Kind::Oneshot => b"oneshot",
            Kind::Longrun => b"longrun",
            Kind::Bundle => b"bundle",
        }
    }
    fn from_u32(v: u32) -> Option<Kind> {
        match v {
            0 => Some(Kind::Oneshot),
            1 => Some(Kind::Longrun),
            2 => Some(Kind::Bundle),
            _ => None,
        }
    }
}

/// Why a database was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DbError {
    Truncated,
    BadMagic,
    BadVersion,
    BadChecksum,
    TooBig,
    /// Checksum fine but the content contradicts itself (a writer bug).
    Corrupt(&'static str),
}

impl DbError {
    pub fn text(self) -> &'static [u8] {
        match self {
            DbError::Truncated => b"truncated database",
            DbError::BadMagic => b"not a rinit-rc database (bad magic)",
            DbError::BadVersion => b"unsupported database version",
            DbError::BadChecksum => b"corrupt database (checksum mismatch)",
            DbError::TooBig => b"database too large",
            DbError::Corrupt(s) => s.as_bytes(),
        }
    }
}

/// FNV-1a 64 of `b`, treating bytes 16..24 (the checksum field) as zero.
pub fn checksum(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in b.iter().enumerate() {
        let c = if (16..24).contains(&i) { 0 } else { c };
        h = (h ^ c as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The checksum field of a database whose first bytes are `head`: what
/// names one database among others (a oneshot's result is recorded in a
/// live state only while its database is the one it ran from).
pub fn stored_checksum(head: &[u8]) -> Option<u64> {
    let f = head.get(16..24)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(f);
    Some(u64::from_le_bytes(a))
}

fn rd32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// A validated database, read in place. Its counts and offsets are u32
/// (the file is at most `MAX_DB_BYTES`): every `Svc` and `List` carries a
/// copy, 16 bytes smaller, and the code that makes them with it.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    b: &'a [u8],
    n: u32,
    lists_off: u32,
    nlists: u32,
    str_off: u32,
}

/// One service's record.
#[derive(Clone, Copy)]
pub struct Svc<'a> {
    db: Db<'a>,
    pub index: u32,
}

impl<'a> Db<'a> {
    /// Checks everything a reader relies on, so that the accessors never
    /// see an offset out of bounds.
    pub fn open(b: &'a [u8]) -> Result<Db<'a>, DbError> {
        let db = Db::open_to_show(b)?;
        db.validate()?;
        Ok(db)
    }

    /// Checks the header, the checksum and the sections' bounds only: the
    /// accessors stay inside the file, but a service index read from it
    /// may be past `len()`. For a reader that only shows the database and
    /// checks each index at use (rinit-status), without the whole checker.
    pub fn open_to_show(b: &'a [u8]) -> Result<Db<'a>, DbError> {
        if b.len() < HEADER_LEN {
            return Err(DbError::Truncated);
        }
        if &b[..8] != MAGIC {
            return Err(DbError::BadMagic);
        }
        if rd32(b, 8) != VERSION {
            return Err(DbError::BadVersion);
        }
        let total = rd32(b, 12) as usize;
        if total > MAX_DB_BYTES {
            return Err(DbError::TooBig);
        }
        if b.len() < total {
            return Err(DbError::Truncated);
        }
        if b.len() > total {
            return Err(DbError::Corrupt("corrupt database (trailing bytes)"));
        }
        let sum = rd32(b, 16) as u64 | (rd32(b, 20) as u64) << 32;
        if checksum(b) != sum {
            return Err(DbError::BadChecksum);
        }
        let n = rd32(b, 24) as usize;
        let nlists = rd32(b, 28) as usize;
        let nstr = rd32(b, 32) as usize;
        if n > MAX_SERVICES {
            return Err(DbError::Corrupt("corrupt database (too many services)"));
        }
        let lists_off = HEADER_LEN + n * REC_LEN;
        let str_off = lists_off
            .checked_add(nlists.checked_mul(4).ok_or(DbError::TooBig)?)
            .ok_or(DbError::TooBig)?;
        if str_off.checked_add(nstr) != Some(total) {
            return Err(DbError::Corrupt("corrupt database (section sizes)"));
        }
        Ok(Db {
            b,
            n: n as u32,
            lists_off: lists_off as u32,
            nlists: nlists as u32,
            str_off: str_off as u32,
        })
    }

    fn validate(&self) -> Result<(), DbError> {
        let bad = |s| Err(DbError::Corrupt(s));
        let mut prev: Option<&[u8]> = None;
        for i in 0..self.n as usize {
            let s = self.svc(i as u32);
            if Kind::from_u32(s.word(R_KIND)).is_none() {
                return bad("corrupt database (bad service type)");
            }
            let name = match self.cstr(s.word(R_NAME)) {
                Some(x) => x,
                None => return bad("corrupt database (bad name offset)"),
            };
            if name.len() != s.word(R_NAME_LEN) as usize || name.is_empty() {
                return bad("corrupt database (bad name)");
            }
            if let Some(p) = prev
                && p >= name
            {
                return bad("corrupt database (names not sorted)");
            }
            prev = Some(name);
            for w in [R_DEPS, R_RDEPS, R_CONSUMERS] {
                let Some((a, c)) = self.range(s.word(w), s.word(w + 1)) else {
                    return bad("corrupt database (bad list)");
                };
                for k in a..a + c {
                    if self.list(k) >= self.n {
                        return bad("corrupt database (bad service index)");
                    }
                }
            }
            for w in [R_UP, R_DOWN] {
                let Some((a, c)) = self.range(s.word(w), s.word(w + 1)) else {
                    return bad("corrupt database (bad argv)");
                };
                for k in a..a + c {
                    if self.cstr(self.list(k)).is_none() {
                        return bad("corrupt database (bad argv word)");
                    }
                }
            }
            let p = s.word(R_PRODUCER_FOR);
            if p != NONE && p >= self.n {
                return bad("corrupt database (bad producer-for)");
            }
            let p = s.word(R_PIPELINE);
            if p != NONE && self.cstr(p).is_none() {
                return bad("corrupt database (bad pipeline name)");
            }
        }
        // A change counts, for each service, the dependencies it waits for
        // and is woken through the reverse ones: a reverse list that is not
        // the exact inverse, or a cycle, would make it wait for ever.
        if !self.reverse_deps_match() {
            return bad("corrupt database (reverse dependencies)");
        }
        if !self.acyclic() {
            return bad("corrupt database (dependency cycle)");
        }
        Ok(())
    }

    /// Every atomic service's dependencies are atomic and list it among
    /// their reverse dependencies, and each reverse dependency lists back.
    fn reverse_deps_match(&self) -> bool {
        let atomic = |i: u32| Kind::from_u32(self.svc(i).word(R_KIND)).is_some_and(|k| k != Kind::Bundle);
        (0..self.n).all(|i| {
            let s = self.svc(i);
            let (deps, rdeps) = (s.deps(), s.rdeps());
            if !atomic(i) {
                return rdeps.is_empty() && deps.iter().all(atomic);
            }
            deps.iter().all(|d| atomic(d) && self.svc(d).rdeps().iter().any(|r| r == i))
                && rdeps.iter().all(|r| atomic(r) && self.svc(r).deps().iter().any(|d| d == i))
        })
    }

    /// No dependency cycle: services whose dependencies are all settled
    /// are settled, pass after pass (as many passes as the longest chain);
    /// a pass that settles none leaves only cycles.
    fn acyclic(&self) -> bool {
        let mut settled = [false; MAX_SERVICES];
        let mut left = self.n as usize;
        while left > 0 {
            let before = left;
            for i in 0..self.n as usize {
                let ready = self.svc(i as u32).deps().iter().all(|d| settled.get(d as usize) == Some(&true));
                if let Some(s) = settled.get_mut(i).filter(|s| !**s && ready) {
                    *s = true;
                    left -= 1;
                }
            }
            if left == before {
                return false;
            }
        }
        true
    }

    fn range(&self, start: u32, count: u32) -> Option<(usize, usize)> {
        let (a, c) = (start as usize, count as usize);
        if a.checked_add(c)? <= self.nlists as usize {
            Some((a, c))
        } else {
            None
        }
    }

    fn list(&self, k: usize) -> u32 {
        rd32(self.b, self.lists_off as usize + 4 * k)
    }

    /// The NUL-terminated string at offset `off` of the string area, without its NUL.
    fn cstr(&self, off: u32) -> Option<&'a [u8]> {
        let s = self.b.get(self.str_off as usize..)?.get(off as usize..)?;
        let end = s.iter().position(|&c| c == 0)?;
        Some(&s[..end])
    }

    /// The string at `off` with its NUL, ready for exec.
    pub fn cstr_nul(&self, off: u32) -> Option<&'a core::ffi::CStr> {
        let s = self.b.get(self.str_off as usize..)?.get(off as usize..)?;
        core::ffi::CStr::from_bytes_until_nul(s).ok()
    }

    pub fn len(&self) -> usize {
        self.n as usize
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    // Out of line: a call is shorter than the copy of the Db it makes.
    #[inline(never)]
    pub fn svc(&self, i: u32) -> Svc<'a> {
        Svc {
            db: *self,
            index: i,
        }
    }

    /// Binary search by name.
    pub fn find(&self, name: &[u8]) -> Option<Svc<'a>> {
        let (mut lo, mut hi) = (0usize, self.n as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let s = self.svc(mid as u32);
            match s.name().cmp(name) {
                core::cmp::Ordering::Equal => return Some(s),
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

/// A list of service indices or string offsets inside the database.
#[derive(Clone, Copy)]
pub struct List<'a> {
    db: Db<'a>,
    start: usize,
    len: usize,
}

impl<'a> List<'a> {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, i: usize) -> u32 {
        if i < self.len {
            self.db.list(self.start + i)
        } else {
            NONE
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let me = *self;
        (0..me.len).map(move |i| me.get(i))
    }
}

impl<'a> Svc<'a> {
    fn word(&self, w: usize) -> u32 {
        rd32(
            self.db.b,
            HEADER_LEN + self.index as usize * REC_LEN + 4 * w,
        )
    }
    fn list_at(&self, w: usize) -> List<'a> {
        match self.db.range(self.word(w), self.word(w + 1)) {
            Some((start, len)) => List {
                db: self.db,
                start,
                len,
            },
            None => List {
                db: self.db,
                start: 0,
                len: 0,
            },
        }
    }
    pub fn kind(&self) -> Kind {
        Kind::from_u32(self.word(R_KIND)).unwrap_or(Kind::Bundle)
    }
    pub fn name(&self) -> &'a [u8] {
        self.db.cstr(self.word(R_NAME)).unwrap_or(b"")
    }
    pub fn flags(&self) -> u32 {
        self.word(R_FLAGS)
    }
    pub fn timeout_up(&self) -> u32 {
        self.word(R_TIMEOUT_UP)
    }
    pub fn timeout_down(&self) -> u32 {
        self.word(R_TIMEOUT_DOWN)
    }
    /// Direct atomic dependencies; for a bundle, its expanded contents.
    pub fn deps(&self) -> List<'a> {
        self.list_at(R_DEPS)
    }
    /// Atomic services that depend directly on this one.
    pub fn rdeps(&self) -> List<'a> {
        self.list_at(R_RDEPS)
    }
    /// The `up` (oneshot) argv as string offsets; see `Db::cstr_nul`.
    pub fn up(&self) -> List<'a> {
        self.list_at(R_UP)
    }
    pub fn down(&self) -> List<'a> {
        self.list_at(R_DOWN)
    }
    pub fn producer_for(&self) -> Option<u32> {
        let p = self.word(R_PRODUCER_FOR);
        if p == NONE { None } else { Some(p) }
    }
    pub fn consumer_for(&self) -> List<'a> {
        self.list_at(R_CONSUMERS)
    }
    pub fn pipeline_name(&self) -> Option<&'a [u8]> {
        let p = self.word(R_PIPELINE);
        if p == NONE { None } else { self.db.cstr(p) }
    }
    pub fn word_str(&self, off: u32) -> &'a [u8] {
        self.db.cstr(off).unwrap_or(b"")
    }
}

// ---------------------------------------------------------------- writer

/// What the writer needs of one service (already sorted by name, lists
/// resolved to indices). Argv scripts are words each followed by a NUL.
pub struct SvcIn<'a> {
    pub kind: Kind,
    pub flags: u32,
    pub name: &'a [u8],
    pub timeout_up: u32,
    pub timeout_down: u32,
    pub deps: &'a [u32],
    pub up: &'a [u8],
    pub down: &'a [u8],
    pub producer_for: u32,
    pub consumer_for: &'a [u32],
    pub pipeline_name: &'a [u8],
}

/// Why the writer stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WriteError {
    /// The output buffer (`MAX_DB_BYTES`) is too small.
    TooBig,
    TooManyServices,
}

struct Out<'o> {
    b: &'o mut [u8],
}

impl Out<'_> {
    fn put32(&mut self, off: usize, v: u32) -> Result<(), WriteError> {
        let s = self.b.get_mut(off..off + 4).ok_or(WriteError::TooBig)?;
        s.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn put(&mut self, off: usize, v: &[u8]) -> Result<(), WriteError> {
        let s = self
            .b
            .get_mut(off..off + v.len())
            .ok_or(WriteError::TooBig)?;
        s.copy_from_slice(v);
        Ok(())
    }
}

fn words(script: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = script.strip_suffix(b"\0").unwrap_or(script);
    let empty = script.is_empty();
    body.split(|&c| c == 0).filter(move |_| !empty)
}

/// Writes the database for `n` services (`get(i)` describes service i) into
/// `out`; returns its length. `rcount` is scratch of at least `n` entries.
pub fn write<'a>(
    n: usize,
    get: &dyn Fn(usize) -> SvcIn<'a>,
    rcount: &mut [u32],
    out: &mut [u8],
) -> Result<usize, WriteError> {
    if n > MAX_SERVICES || rcount.len() < n {
        return Err(WriteError::TooManyServices);
    }
    // Sizes first: lists and strings.
    let mut nlists = 0usize;
    let mut nstr = 0usize;
    for c in rcount[..n].iter_mut() {
        *c = 0;
    }
    for i in 0..n {
        let s = get(i);
        nlists += 2 * s.deps.len() + s.consumer_for.len();
        nstr += s.name.len() + 1;
        for w in words(s.up).chain(words(s.down)) {
            nlists += 1;
            nstr += w.len() + 1;
        }
        if !s.pipeline_name.is_empty() {
            nstr += s.pipeline_name.len() + 1;
        }
        if s.kind != Kind::Bundle {
            for &d in s.deps {
                if let Some(c) = rcount.get_mut(d as usize) {
                    *c += 1;
                }
            }
        }
    }
    let lists_off = HEADER_LEN + n * REC_LEN;
    let str_off = lists_off + 4 * nlists;
    let total = str_off + nstr;
    if total > out.len() || total > MAX_DB_BYTES {
        return Err(WriteError::TooBig);
    }
    let mut o = Out {
        b: &mut out[..total],
    };
    for x in o.b.iter_mut() {
        *x = 0;
    }
    o.put(0, MAGIC)?;
    o.put32(8, VERSION)?;
    o.put32(12, total as u32)?;
    o.put32(24, n as u32)?;
    o.put32(28, nlists as u32)?;
    o.put32(32, nstr as u32)?;

    // Reverse dependencies get one block each, laid out by index: turn the
    // counts into start positions (the fill cursor advances them).
    let mut lcur = 0usize; // list cursor
    let mut rstart = 0usize;
    // Deps and other lists come after all reverse-dependency blocks.
    let rtotal: usize = rcount[..n].iter().map(|&c| c as usize).sum();
    for (i, count) in rcount[..n].iter_mut().enumerate() {
        let c = *count as usize;
        let rec = HEADER_LEN + i * REC_LEN;
        o.put32(rec + 4 * R_RDEPS, rstart as u32)?;
        o.put32(rec + 4 * (R_RDEPS + 1), 0)?;
        *count = rstart as u32;
        rstart += c;
    }
    lcur += rtotal;
    let mut scur = 0usize; // string cursor
    for i in 0..n {
        let s = get(i);
        let rec = HEADER_LEN + i * REC_LEN;
        o.put32(rec + 4 * R_KIND, s.kind as u32)?;
        o.put32(rec + 4 * R_FLAGS, s.flags)?;
        o.put32(rec + 4 * R_NAME, scur as u32)?;
        o.put32(rec + 4 * R_NAME_LEN, s.name.len() as u32)?;
        o.put(str_off + scur, s.name)?;
        scur += s.name.len() + 1;
        o.put32(rec + 4 * R_TIMEOUT_UP, s.timeout_up)?;
        o.put32(rec + 4 * R_TIMEOUT_DOWN, s.timeout_down)?;
        o.put32(rec + 4 * R_DEPS, lcur as u32)?;
        o.put32(rec + 4 * (R_DEPS + 1), s.deps.len() as u32)?;
        for &d in s.deps {
            o.put32(lists_off + 4 * lcur, d)?;
            lcur += 1;
            if s.kind != Kind::Bundle {
                // Append i to d's reverse-dependency block.
                let pos = rcount
                    .get(d as usize)
                    .copied()
                    .ok_or(WriteError::TooManyServices)? as usize;
                o.put32(lists_off + 4 * pos, i as u32)?;
                rcount[d as usize] += 1;
                let drec = HEADER_LEN + d as usize * REC_LEN + 4 * (R_RDEPS + 1);
                let cnt = rd32(o.b, drec);
                o.put32(drec, cnt + 1)?;
            }
        }
        for (w, script) in [(R_UP, s.up), (R_DOWN, s.down)] {
            o.put32(rec + 4 * w, lcur as u32)?;
            let mut c = 0u32;
            for word in words(script) {
                o.put32(lists_off + 4 * lcur, scur as u32)?;
                o.put(str_off + scur, word)?;
                scur += word.len() + 1;
                lcur += 1;
                c += 1;
            }
            o.put32(rec + 4 * (w + 1), c)?;
        }
        o.put32(rec + 4 * R_PRODUCER_FOR, s.producer_for)?;
        o.put32(rec + 4 * R_CONSUMERS, lcur as u32)?;
        o.put32(rec + 4 * (R_CONSUMERS + 1), s.consumer_for.len() as u32)?;
        for &c in s.consumer_for {
            o.put32(lists_off + 4 * lcur, c)?;
            lcur += 1;
        }
        if s.pipeline_name.is_empty() {
            o.put32(rec + 4 * R_PIPELINE, NONE)?;
        } else {
            o.put32(rec + 4 * R_PIPELINE, scur as u32)?;
            o.put(str_off + scur, s.pipeline_name)?;
            scur += s.pipeline_name.len() + 1;
        }
    }
    let sum = checksum(o.b);
    o.put32(16, sum as u32)?;
    o.put32(20, (sum >> 32) as u32)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        // a (oneshot) <- b (longrun) ; bundle c = {a, b}
        let deps_b = [0u32];
        let contents = [0u32, 1];
        let get = |i: usize| match i {
            0 => SvcIn {
                kind: Kind::Oneshot,
                flags: F_HAS_DOWN,
                name: b"a",
                timeout_up: 5,
                timeout_down: 0,
                deps: &[],
                up: b"echo\0hi there\0",
                down: b"true\0",
                producer_for: NONE,
                consumer_for: &[],
                pipeline_name: b"",
            },
            1 => SvcIn {
                kind: Kind::Longrun,
                flags: F_NOTIFY,
                name: b"b",
                timeout_up: 0,
                timeout_down: 7,
                deps: &deps_b,
                up: b"",
                down: b"",
                producer_for: NONE,
                consumer_for: &[],
                pipeline_name: b"",
            },
            _ => SvcIn {
                kind: Kind::Bundle,
                flags: 0,
                name: b"c",
                timeout_up: 0,
                timeout_down: 0,
                deps: &contents,
                up: b"",
                down: b"",
                producer_for: NONE,
                consumer_for: &[],
                pipeline_name: b"",
            },
        };
        let mut out = vec![0u8; 4096];
        let mut rc = vec![0u32; 3];
        let n = write(3, &get, &mut rc, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn writes_and_reads_back() {
        let b = sample();
        let db = Db::open(&b).unwrap();
        assert_eq!(db.len(), 3);
        let a = db.find(b"a").unwrap();
        assert_eq!(a.kind(), Kind::Oneshot);
        assert_eq!(a.timeout_up(), 5);
        let up: Vec<&[u8]> = a.up().iter().map(|o| a.word_str(o)).collect();
        assert_eq!(up, vec![&b"echo"[..], b"hi there"]);
        assert_eq!(a.rdeps().iter().collect::<Vec<_>>(), vec![1]);
        let b_ = db.find(b"b").unwrap();
        assert_eq!(b_.deps().iter().collect::<Vec<_>>(), vec![0]);
        assert_eq!(b_.rdeps().len(), 0);
        assert_eq!(
            db.find(b"c").unwrap().deps().iter().collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(db.find(b"d").is_none());
        assert_eq!(db.cstr_nul(up_off(&a)).unwrap().to_bytes(), b"echo");
    }

    fn up_off(s: &Svc) -> u32 {
        s.up().get(0)
    }

    #[test]
    fn refuses_every_truncation() {
        let b = sample();
        for len in 0..b.len() {
            assert!(
                Db::open(&b[..len]).is_err(),
                "accepted a database cut at {len}"
            );
        }
    }

    #[test]
    fn refuses_every_single_byte_corruption() {
        let b = sample();
        for i in 0..b.len() {
            for x in [1u8, 0x80, 0xff] {
                let mut c = b.clone();
                c[i] ^= x;
                assert!(Db::open(&c).is_err(), "accepted byte {i} ^ {x}");
            }
        }
    }

    /// Opened only to be shown, a database that contradicts itself is
    /// accepted, and still every accessor stays inside the file.
    #[test]
    fn opened_to_show_reads_garbage_without_going_out_of_bounds() {
        let base = sample();
        assert_eq!(Db::open_to_show(&base).unwrap().len(), 3);
        for len in 0..base.len() {
            assert!(Db::open_to_show(&base[..len]).is_err(), "accepted a database cut at {len}");
        }
        let mut seed = 0x0fed_cba9_8765_4321u64;
        for _ in 0..2000 {
            let mut c = base.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = HEADER_LEN + (seed as usize % (c.len() - HEADER_LEN));
                c[i] = (seed >> 32) as u8;
            }
            let sum = checksum(&c);
            c[16..20].copy_from_slice(&(sum as u32).to_le_bytes());
            c[20..24].copy_from_slice(&((sum >> 32) as u32).to_le_bytes());
            let db = Db::open_to_show(&c).unwrap();
            for i in 0..db.len() as u32 + 2 {
                let s = db.svc(i);
                // Reading every field, past the end too, without a panic is the test.
                let _ = (s.kind(), s.name(), s.pipeline_name(), s.producer_for());
                for l in [s.deps(), s.rdeps(), s.consumer_for(), s.up(), s.down()] {
                    for k in 0..l.len() + 1 {
                        let _ = db.svc(l.get(k)).name(); // as above
                    }
                }
                let _ = crate::live::log_of(&db, i); // as above
            }
        }
    }

    /// Random garbage with a valid header and checksum must be refused or
    /// read without going out of bounds (the accessors never panic).
    #[test]
    fn survives_random_content_with_valid_checksum() {
        let base = sample();
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let mut c = base.clone();
            let k = 1 + (rnd() % 8) as usize;
            for _ in 0..k {
                let i = HEADER_LEN + (rnd() as usize % (c.len() - HEADER_LEN));
                c[i] = rnd() as u8;
            }
            let sum = checksum(&c);
            c[16..20].copy_from_slice(&(sum as u32).to_le_bytes());
            c[20..24].copy_from_slice(&((sum >> 32) as u32).to_le_bytes());
            if let Ok(db) = Db::open(&c) {
                for i in 0..db.len() as u32 {
                    let s = db.svc(i);
                    // Reading every field is the test.
                    let _ = (s.kind(), s.name(), s.pipeline_name(), s.producer_for());
                    for l in [s.deps(), s.rdeps(), s.consumer_for()] {
                        for d in l.iter() {
                            assert!((d as usize) < db.len());
                        }
                    }
                    for o in s.up().iter().chain(s.down().iter()) {
                        assert!(db.cstr_nul(o).is_some());
                    }
                }
            }
        }
    }
}
