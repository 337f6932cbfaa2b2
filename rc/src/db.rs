//! The compiled database: the one writer and reader of `compiled/db`.
//!
//! One file, read in place (mapped) with no allocation and no parsing at
//! change time, packed: a router's flash and a container layer carry it.
//! Same input, same bytes: the services are sorted by name and every list
//! is written in index order. Integers are little-endian; a service index
//! is a u16 (`MAX_SERVICES` fits).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `RINITRC\0` |
//! | 8 | 4 | version (`VERSION`) |
//! | 12 | 4 | total length of the file |
//! | 16 | 8 | checksum: FNV-1a 64 of the whole file with these 8 bytes zero |
//! | 24 | 4 | n: number of services (bundles included), sorted by name |
//! | 28 | 4 | zero |
//! | 32 | n × 4 | u32 file offset of each service's record |
//! | … | … | the records, in index order, back to back |
//!
//! A record (see `Svc::walk`): a byte of kind, flags and which optional
//! parts follow; the reverse dependencies (u16 count, u16 indices); the
//! dependencies (same); the name and a NUL; `timeout-up` and
//! `timeout-down` (u32 each) when either is set; the pipeline part (u16
//! `producer-for` or `0xffff`, u16 count and indices of `consumer-for`,
//! `pipeline-name` and a NUL) when the service is in a pipeline; for a
//! oneshot, its `up` then its `down` argv (u16 word count, then each word
//! and a NUL). Dependencies are direct atomic dependencies (bundles
//! expanded); a bundle's "dependencies" are its contents, expanded to
//! atomic services. Reverse dependencies are kept for atomic services only.

/// Format version; a reader refuses any other.
pub const VERSION: u32 = 2;
/// The first 8 bytes of every database file.
pub const MAGIC: &[u8; 8] = b"RINITRC\0";
/// Bytes of the header, before the table of record offsets.
pub const HEADER_LEN: usize = 32;
/// "No such service" where an index may be absent.
pub const NONE: u32 = u32::MAX;
/// `NONE` as stored in a record's u16 `producer-for`.
const NONE16: u16 = u16::MAX;
/// Largest database a reader accepts (and the writer produces).
pub const MAX_DB_BYTES: usize = 16 << 20;
/// Most services (bundles included) in one database; an index is a u16.
pub const MAX_SERVICES: usize = 4096;

/// Record flag: `flag-essential`.
pub const F_ESSENTIAL: u32 = 1;
/// Record flag: the longrun reports readiness (`notification-fd`, or
/// rinit's `notify-socket` or `check`): wait for `U`.
pub const F_NOTIFY: u32 = 2;
/// Record flag: the oneshot has a `data/` directory (its working directory).
pub const F_DATA: u32 = 4;
/// Record flag: the oneshot has a `down` script.
pub const F_HAS_DOWN: u32 = 8;

// A record's first byte: the kind in bits 0-1, the `F_*` flags in bits
// 2-5, and which optional parts follow the name.
const B_FLAGS_SHIFT: u32 = 2;
const B_TIMEOUTS: u8 = 0x40;
const B_PIPELINE: u8 = 0x80;

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

fn rd16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off.wrapping_add(2)) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// The NUL-terminated bytes at `off`, without the NUL.
fn cstr_at(b: &[u8], off: usize) -> Option<&[u8]> {
    let s = b.get(off..)?;
    Some(&s[..s.iter().position(|&c| c == 0)?])
}

/// A validated database, read in place. Its counts and offsets are u32
/// (the file is at most `MAX_DB_BYTES`): every `Svc` and `List` carries a
/// copy, 16 bytes smaller, and the code that makes them with it.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    b: &'a [u8],
    n: u32,
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

    /// Checks the header, the checksum and the offset table's bounds only:
    /// the accessors stay inside the file, but a record may contradict
    /// itself and a service index read from it may be past `len()`. For a
    /// reader that only shows the database and checks each index at use
    /// (rinit-status), without the whole checker.
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
        if checksum(b) != stored_checksum(b).unwrap_or(0) {
            return Err(DbError::BadChecksum);
        }
        let n = rd32(b, 24) as usize;
        if n > MAX_SERVICES {
            return Err(DbError::Corrupt("corrupt database (too many services)"));
        }
        if HEADER_LEN + 4 * n > total {
            return Err(DbError::Corrupt("corrupt database (section sizes)"));
        }
        Ok(Db { b, n: n as u32 })
    }

    fn validate(&self) -> Result<(), DbError> {
        let bad = |s| Err(DbError::Corrupt(s));
        if self.n == 0 && self.b.len() != HEADER_LEN {
            return bad("corrupt database (section sizes)");
        }
        let mut prev: Option<&[u8]> = None;
        for i in 0..self.n {
            let s = self.svc(i);
            let w = s.walk();
            // Records tile the file exactly, each walked to its end: every
            // offset an accessor computes later is inside its record.
            let next = if i + 1 < self.n { self.rec(i + 1) } else { self.b.len() };
            if !w.ok || w.end != next || (i == 0 && self.rec(0) != HEADER_LEN + 4 * self.n as usize) {
                return bad("corrupt database (bad record)");
            }
            if Kind::from_u32((w.b0 & 3) as u32).is_none() {
                return bad("corrupt database (bad service type)");
            }
            let name = s.name();
            if name.is_empty() {
                return bad("corrupt database (bad name)");
            }
            if let Some(p) = prev
                && p >= name
            {
                return bad("corrupt database (names not sorted)");
            }
            prev = Some(name);
            for l in [s.deps(), s.rdeps(), s.consumer_for()] {
                if l.iter().any(|k| k >= self.n) {
                    return bad("corrupt database (bad service index)");
                }
            }
            if s.producer_for().is_some_and(|p| p >= self.n) {
                return bad("corrupt database (bad producer-for)");
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
        let atomic = |i: u32| Kind::from_u32((self.svc(i).head().1 & 3) as u32).is_some_and(|k| k != Kind::Bundle);
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

    /// Where service `i`'s record starts; past the end for an index out
    /// of range (a garbage index read from an unchecked database).
    fn rec(&self, i: u32) -> usize {
        if i < self.n { rd32(self.b, HEADER_LEN + 4 * i as usize) as usize } else { self.b.len() }
    }

    /// The string at file offset `off` with its NUL, ready for exec.
    pub fn cstr_nul(&self, off: u32) -> Option<&'a core::ffi::CStr> {
        core::ffi::CStr::from_bytes_until_nul(self.b.get(off as usize..)?).ok()
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

/// A list inside a record: service indices (u16 each), or argv words
/// (each NUL-terminated), which `get` and `iter` give as file offsets for
/// `Db::cstr_nul` and `Svc::word_str`.
#[derive(Clone, Copy)]
pub struct List<'a> {
    db: Db<'a>,
    at: u32,
    len: u32,
    words: bool,
}

impl<'a> List<'a> {
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, i: usize) -> u32 {
        match i < self.len() {
            false => NONE,
            true if !self.words => rd16(self.db.b, self.at as usize + 2 * i) as u32,
            true => self.iter().nth(i).unwrap_or(NONE),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let (b, words) = (self.db.b, self.words);
        let mut at = self.at as usize;
        (0..self.len).map(move |_| {
            let here = at;
            if words {
                at += cstr_at(b, at).map_or(b.len(), |w| w.len() + 1);
                here as u32
            } else {
                at += 2;
                rd16(b, here) as u32
            }
        })
    }
}

/// Where one record's parts sit, found by walking it (`Svc::walk`).
struct Walk {
    b0: u8,
    name: (usize, usize),
    timeouts: (u32, u32),
    producer: u16,
    consumers: (usize, usize),
    pipeline: (usize, usize),
    up: (usize, usize),
    down: (usize, usize),
    end: usize,
    /// Every part was inside the file.
    ok: bool,
}

/// A cursor over a record: a read past the end gives 0 and clears `ok`.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    ok: bool,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> usize {
        let here = self.at;
        match here.checked_add(n).filter(|&e| e <= self.b.len()) {
            Some(e) => self.at = e,
            None => {
                self.ok = false;
                self.at = self.b.len();
            }
        }
        here
    }
    fn u16(&mut self) -> usize {
        let at = self.take(2);
        if self.ok { rd16(self.b, at) as usize } else { 0 }
    }
    /// A u16 count and that many u16 indices: (start, count).
    fn indices(&mut self) -> (usize, usize) {
        let n = self.u16();
        (self.take(2 * n), if self.ok { n } else { 0 })
    }
    /// A string and its NUL: (start, length).
    fn cstr(&mut self) -> (usize, usize) {
        let len = cstr_at(self.b, self.at).map_or(usize::MAX, |s| s.len());
        (self.take(len.saturating_add(1)), if self.ok { len } else { 0 })
    }
    /// A u16 word count and the words: (start, count).
    fn words(&mut self) -> (usize, usize) {
        let n = self.u16();
        let at = self.at;
        for _ in 0..n {
            self.cstr();
        }
        (at, if self.ok { n } else { 0 })
    }
}

impl<'a> Svc<'a> {
    /// Walks the whole record from its first byte: what the name and the
    /// parts after it need. Out of line: most accessors use it.
    #[inline(never)]
    fn walk(&self) -> Walk {
        let b = self.db.b;
        let (mut c, b0) = self.head();
        c.indices();
        c.indices();
        let name = c.cstr();
        let mut w = Walk {
            b0,
            name,
            timeouts: (0, 0),
            producer: NONE16,
            consumers: (0, 0),
            pipeline: (0, 0),
            up: (0, 0),
            down: (0, 0),
            end: 0,
            ok: true,
        };
        if b0 & B_TIMEOUTS != 0 {
            let at = c.take(8);
            w.timeouts = (rd32(b, at), rd32(b, at + 4));
        }
        if b0 & B_PIPELINE != 0 {
            w.producer = c.u16() as u16;
            w.consumers = c.indices();
            w.pipeline = c.cstr();
        }
        if b0 & 3 == Kind::Oneshot as u8 {
            w.up = c.words();
            w.down = c.words();
        }
        w.end = c.at;
        w.ok = c.ok;
        w
    }
    /// The record's first byte, and a cursor just past it: what a change
    /// reads most (the kind, the flags, the two dependency lists) without
    /// the walk to the name and past it.
    fn head(&self) -> (Cursor<'a>, u8) {
        let b = self.db.b;
        let mut c = Cursor { b, at: self.db.rec(self.index), ok: true };
        let b0 = b.get(c.take(1)).copied().unwrap_or(0);
        (c, b0)
    }
    fn list(&self, (at, len): (usize, usize), words: bool) -> List<'a> {
        List { db: self.db, at: at as u32, len: len as u32, words }
    }
    pub fn kind(&self) -> Kind {
        Kind::from_u32((self.head().1 & 3) as u32).unwrap_or(Kind::Bundle)
    }
    pub fn name(&self) -> &'a [u8] {
        let (at, len) = self.walk().name;
        self.db.b.get(at..at + len).unwrap_or(b"")
    }
    pub fn flags(&self) -> u32 {
        (self.head().1 >> B_FLAGS_SHIFT) as u32 & 0xf
    }
    pub fn timeout_up(&self) -> u32 {
        self.walk().timeouts.0
    }
    pub fn timeout_down(&self) -> u32 {
        self.walk().timeouts.1
    }
    /// Direct atomic dependencies; for a bundle, its expanded contents.
    pub fn deps(&self) -> List<'a> {
        let mut c = self.head().0;
        c.indices();
        self.list(c.indices(), false)
    }
    /// Atomic services that depend directly on this one.
    pub fn rdeps(&self) -> List<'a> {
        self.list(self.head().0.indices(), false)
    }
    /// The `up` (oneshot) argv as file offsets; see `Db::cstr_nul`.
    pub fn up(&self) -> List<'a> {
        self.list(self.walk().up, true)
    }
    pub fn down(&self) -> List<'a> {
        self.list(self.walk().down, true)
    }
    pub fn producer_for(&self) -> Option<u32> {
        let p = self.walk().producer;
        if p == NONE16 { None } else { Some(p as u32) }
    }
    pub fn consumer_for(&self) -> List<'a> {
        self.list(self.walk().consumers, false)
    }
    pub fn pipeline_name(&self) -> Option<&'a [u8]> {
        let (at, len) = self.walk().pipeline;
        if len == 0 { None } else { self.db.b.get(at..at + len) }
    }
    pub fn word_str(&self, off: u32) -> &'a [u8] {
        cstr_at(self.db.b, off as usize).unwrap_or(b"")
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

impl SvcIn<'_> {
    fn in_pipeline(&self) -> bool {
        self.producer_for != NONE || !self.consumer_for.is_empty() || !self.pipeline_name.is_empty()
    }
    /// The record's length, with `nr` reverse dependencies.
    fn len(&self, nr: usize) -> usize {
        let mut n = 1 + 2 + 2 * nr + 2 + 2 * self.deps.len() + self.name.len() + 1;
        if self.timeout_up | self.timeout_down != 0 {
            n += 8;
        }
        if self.in_pipeline() {
            n += 2 + 2 + 2 * self.consumer_for.len() + self.pipeline_name.len() + 1;
        }
        if self.kind == Kind::Oneshot {
            n += 4 + words(self.up).chain(words(self.down)).map(|w| w.len() + 1).sum::<usize>();
        }
        n
    }
}

/// Why the writer stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WriteError {
    /// The output buffer (`MAX_DB_BYTES`) is too small, or an argv has
    /// more than 65535 words.
    TooBig,
    TooManyServices,
}

/// A write cursor over the output.
struct Out<'o> {
    b: &'o mut [u8],
    at: usize,
}

impl Out<'_> {
    fn put(&mut self, v: &[u8]) -> Result<(), WriteError> {
        let s = self.b.get_mut(self.at..self.at + v.len()).ok_or(WriteError::TooBig)?;
        s.copy_from_slice(v);
        self.at += v.len();
        Ok(())
    }
    fn put16(&mut self, v: usize) -> Result<(), WriteError> {
        let v = u16::try_from(v).map_err(|_| WriteError::TooBig)?;
        self.put(&v.to_le_bytes())
    }
    fn indices(&mut self, l: &[u32]) -> Result<(), WriteError> {
        self.put16(l.len())?;
        l.iter().try_for_each(|&d| self.put16(d as usize))
    }
    fn words(&mut self, script: &[u8]) -> Result<(), WriteError> {
        self.put16(words(script).count())?;
        words(script).try_for_each(|w| {
            self.put(w)?;
            self.put(&[0])
        })
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
    let rcount = &mut rcount[..n];
    rcount.fill(0);
    for i in 0..n {
        let s = get(i);
        if s.kind != Kind::Bundle {
            for &d in s.deps {
                *rcount.get_mut(d as usize).ok_or(WriteError::TooManyServices)? += 1;
            }
        }
    }
    // Every record's place, from the lengths; then the header, the table
    // and each record's reverse-dependency count, so that the records,
    // written in order, can fill the reverse lists of any other.
    let mut total = HEADER_LEN + 4 * n;
    for (i, &nr) in rcount.iter().enumerate() {
        let len = get(i).len(nr as usize);
        let rec = total;
        total += len;
        if total > out.len() || total > MAX_DB_BYTES {
            return Err(WriteError::TooBig);
        }
        out[HEADER_LEN + 4 * i..][..4].copy_from_slice(&(rec as u32).to_le_bytes());
    }
    let b = out.get_mut(..total).ok_or(WriteError::TooBig)?;
    b[..HEADER_LEN].fill(0);
    b[..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].copy_from_slice(&(total as u32).to_le_bytes());
    b[24..28].copy_from_slice(&(n as u32).to_le_bytes());
    for (i, nr) in rcount.iter_mut().enumerate() {
        let rec = rd32(b, HEADER_LEN + 4 * i) as usize;
        b[rec + 1..rec + 3].copy_from_slice(&(*nr as u16).to_le_bytes());
        *nr = 0;
    }
    for i in 0..n {
        let s = get(i);
        let rec = rd32(b, HEADER_LEN + 4 * i) as usize;
        let nr = rd16(b, rec + 1) as usize;
        let mut b0 = s.kind as u8 | ((s.flags & 0xf) << B_FLAGS_SHIFT) as u8;
        if s.timeout_up | s.timeout_down != 0 {
            b0 |= B_TIMEOUTS;
        }
        if s.in_pipeline() {
            b0 |= B_PIPELINE;
        }
        let mut o = Out { b: &mut *b, at: rec };
        o.put(&[b0])?;
        o.at += 2 + 2 * nr;
        o.indices(s.deps)?;
        o.put(s.name)?;
        o.put(&[0])?;
        if b0 & B_TIMEOUTS != 0 {
            o.put(&s.timeout_up.to_le_bytes())?;
            o.put(&s.timeout_down.to_le_bytes())?;
        }
        if b0 & B_PIPELINE != 0 {
            o.put16(if s.producer_for == NONE { NONE16 as usize } else { s.producer_for as usize })?;
            o.indices(s.consumer_for)?;
            o.put(s.pipeline_name)?;
            o.put(&[0])?;
        }
        if s.kind == Kind::Oneshot {
            o.words(s.up)?;
            o.words(s.down)?;
        }
        if s.kind != Kind::Bundle {
            // Append i to each dependency's reverse list.
            for &d in s.deps {
                let c = &mut rcount[d as usize];
                o.at = rd32(o.b, HEADER_LEN + 4 * d as usize) as usize + 3 + 2 * *c as usize;
                o.put16(i)?;
                *c += 1;
            }
        }
    }
    let sum = checksum(b);
    b[16..24].copy_from_slice(&sum.to_le_bytes());
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
