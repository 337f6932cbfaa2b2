//! The live state directory (s6-rc's `live`), made by rinit-rc-init:
//!
//! - `lock`: held (flock, exclusive) by whoever changes the state;
//! - `compiled`: a symlink to the compiled database directory (`db`,
//!   `servicedirs/`), which must stay in place while it is live;
//! - `scandir`: a symlink to the scanner's directory (absolute);
//! - `state`: one byte per service of the database, `1` up, `0` down,
//!   replaced atomically.
//! - `compiled.next`, `state.next`, `pending`: a switch to another
//!   database under way (see `switch`); taking the lock finishes or undoes
//!   it.
//! - `timeline`: when each service's last transition started, came up and
//!   was ready, on the monotonic clock (`Stamp`, below), replaced
//!   atomically after each change. A live directory made before timelines
//!   were recorded has none: `timeline` says so, and the next change
//!   starts one.

use crate::copy;
use crate::db::{Db, DbError, MAX_SERVICES};
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, Errno, Fd, Open, OwnedFd, errno};
use core::ffi::CStr;

/// Default live directory (as s6-rc's `/run/s6-rc`).
pub const DEFAULT_LIVE: &[u8] = b"/run/rinit-rc";
/// Default compiled database directory (as s6-rc's `/etc/s6-rc/compiled`).
pub const DEFAULT_COMPILED: &[u8] = b"/etc/rinit-rc/compiled";

/// Why the database could not be opened.
pub enum OpenError {
    Sys(Errno),
    Db(DbError),
}

impl OpenError {
    /// One line's worth: `unable to open DB: why`.
    pub fn words(&self) -> &'static [u8] {
        match self {
            OpenError::Sys(e) => base::err::strerror(*e),
            OpenError::Db(d) => d.text(),
        }
    }
}

/// Maps and checks `<compiled>/db`.
pub fn open_db(compiled: &[u8]) -> Result<Db<'static>, OpenError> {
    Db::open(map_db(compiled, b"/db")?).map_err(OpenError::Db)
}

/// What `open_to_show` could not read, and why.
pub enum ShowError {
    /// `compiled/db`.
    Db(OpenError),
    /// `state` (or `state.next`).
    State(Errno),
}

impl ShowError {
    /// The file, from the live directory: `/compiled/db` or `/state`.
    pub fn file(&self) -> &'static [u8] {
        match self {
            ShowError::Db(_) => b"/compiled/db",
            ShowError::State(_) => b"/state",
        }
    }

    /// Why, in words.
    pub fn words(&self) -> &'static [u8] {
        match self {
            ShowError::Db(e) => e.words(),
            ShowError::State(e) => base::err::strerror(*e),
        }
    }
}

/// The live directory `live` for a reader that only shows it
/// (rinit-status): its database, checked only as `Db::open_to_show` does,
/// and every service's up/down byte into `state`, both read relative to
/// one descriptor of the directory.
pub fn open_to_show(live: &CStr, state: &mut [u8; MAX_SERVICES]) -> Result<Db<'static>, ShowError> {
    let dir = sys::open_dir(live).map_err(|e| ShowError::Db(OpenError::Sys(e)))?;
    let db = sys::open_regular_at(dir.fd(), c"compiled/db", Open::RDONLY, 0)
        .map_err(OpenError::Sys)
        .and_then(map_open)
        .and_then(|b| Db::open_to_show(b).map_err(OpenError::Db))
        .map_err(ShowError::Db)?;
    read_state_in(dir.fd(), db.len(), state).map_err(ShowError::State)?;
    Ok(db)
}

/// Maps `<dir><db>`.
fn map_db(dir: &[u8], db: &[u8]) -> Result<&'static [u8], OpenError> {
    let p = PathBuf::join(dir, &[db]).map_err(OpenError::Sys)?;
    map_open(sys::open_read(p.as_cstr()).map_err(OpenError::Sys)?)
}

/// Maps the database open as `fd`, a regular file: its end is its size.
fn map_open(fd: OwnedFd) -> Result<&'static [u8], OpenError> {
    match sys::seek_end(fd.fd()) {
        Ok(size) if size > crate::db::MAX_DB_BYTES as u64 => Err(OpenError::Db(DbError::TooBig)),
        Ok(size) => sys::map_replaced_file(fd.fd(), size as usize).map_err(OpenError::Sys),
        Err(e) => Err(OpenError::Sys(e)),
    }
}

/// `<live>/<rel>`.
pub fn path(live: &[u8], rel: &[u8]) -> Result<PathBuf, Errno> {
    PathBuf::join(live, &[b"/", rel])
}

/// Takes the live directory's lock; Ok(None) when someone else holds it.
pub fn lock(live: &[u8]) -> Result<Option<OwnedFd>, Errno> {
    let p = path(live, b"lock")?;
    // 0600: whoever can open a lock can take it and hold every change.
    let fd = sys::open(p.as_cstr(), Open::WRONLY | Open::CREATE, 0o600)?;
    if !sys::lock_exclusive_nb(fd.fd())? {
        return Ok(None);
    }
    // The holder of the lock sees no half-done switch of databases.
    in_dir(live, crate::switch::recover)?;
    Ok(Some(fd))
}

/// `f` on the live directory, opened for it.
pub fn in_dir<T>(live: &[u8], f: impl FnOnce(Fd) -> Result<T, Errno>) -> Result<T, Errno> {
    let p = PathBuf::join(live, &[])?;
    let dir = sys::open_dir(p.as_cstr())?;
    f(dir.fd())
}

/// The up/down byte of every service into `state` (n bytes): the
/// committed database's, `state.next` while a switch is not settled.
pub fn read_state(live: &[u8], n: usize, state: &mut [u8; MAX_SERVICES]) -> Result<(), Errno> {
    in_dir(live, |d| read_state_in(d, n, state))
}

/// `read_state` of the live directory open as `dir`.
fn read_state_in(dir: Fd, n: usize, state: &mut [u8; MAX_SERVICES]) -> Result<(), Errno> {
    let name = if crate::switch::committed_unsettled(dir) { crate::switch::NEXT_STATE } else { c"state" };
    let fd = sys::open_regular_at(dir, name, Open::RDONLY, 0)?;
    // Read in place: a file of other than n bytes is refused whole.
    let buf = state.get_mut(..n).ok_or(errno::EPROTO)?;
    if sys::read_full(fd.fd(), buf)? != n || sys::read(fd.fd(), &mut [0u8; 1])? != 0 {
        return Err(errno::EPROTO);
    }
    for s in buf.iter_mut() {
        *s = match *s {
            b'0' => 0,
            b'1' => 1,
            // Garbage is not "down": the services may well be up.
            _ => return Err(errno::EPROTO),
        };
    }
    Ok(())
}

/// Replaces `<live>/state` atomically.
pub fn write_state(live: &[u8], n: usize, state: &[u8; MAX_SERVICES]) -> Result<(), copy::Fail> {
    write_state_as(live, b"state", n, state)
}

/// Replaces `<live>/<name>` atomically with a state (`state.next`: the
/// next database's, see `switch`).
pub fn write_state_as(live: &[u8], name: &[u8], n: usize, state: &[u8; MAX_SERVICES]) -> Result<(), copy::Fail> {
    let mut buf = [0u8; MAX_SERVICES];
    for (b, &s) in buf.iter_mut().zip(state.iter()).take(n) {
        *b = if s != 0 { b'1' } else { b'0' };
    }
    let p = path(live, name).map_err(|e| copy::Fail {
        what: b"write ",
        path: Buf::new(),
        e,
    })?;
    copy::write_file_atomic(&p, buf.get(..n).unwrap_or(&[]), 0o644)
}

/// Sets service `i`'s byte in `<live>/state` (`up`), under the live lock,
/// if the live database is still the one of checksum `sum` and `n`
/// services (else the result belongs to a database that is gone: nothing
/// is written). Ok(false) when another holds the lock: try again later.
pub fn record(live: &[u8], sum: u64, n: u32, i: u32, up: bool) -> Result<bool, Errno> {
    let Some(lock) = lock(live)? else { return Ok(false) };
    let r = record_locked(live, sum, n as usize, i, up);
    // The lock is released (closed) only once the state is written.
    drop(lock);
    r.map(|_| true)
}

fn record_locked(live: &[u8], sum: u64, n: usize, i: u32, up: bool) -> Result<(), Errno> {
    let p = path(live, b"compiled/db")?;
    let fd = sys::open_read(p.as_cstr())?;
    let mut head = [0u8; 24];
    let got = sys::read_full(fd.fd(), &mut head);
    drop(fd);
    if got? != head.len() || crate::db::stored_checksum(&head) != Some(sum) || n > MAX_SERVICES {
        return Ok(());
    }
    let mut state = [0u8; MAX_SERVICES];
    read_state(live, n, &mut state)?;
    let Some(s) = state.get_mut(i as usize).filter(|_| (i as usize) < n) else { return Ok(()) };
    *s = up as u8;
    write_state(live, n, &state).map_err(|f| f.e)
}

/// `dir` made absolute (relative to the working directory).
pub fn absolute(dir: &[u8]) -> Result<PathBuf, Errno> {
    if dir.first() == Some(&b'/') {
        return PathBuf::join(dir, &[]);
    }
    let mut cwd = [0u8; 4096];
    let n = sys::getcwd(&mut cwd)?;
    PathBuf::join(cwd.get(..n).unwrap_or(b"/"), &[b"/", dir])
}

/// The producer whose `log` longrun `s` is, when `s` is wired as one: `s`
/// consumes from exactly one producer, feeds nobody, and that producer
/// consumes from nobody. Such a pair is installed as `scandir/P` and
/// `scandir/P/log`, so the scanner's log pairing holds the pipe between
/// them. The members of longer pipelines and funnels are installed on
/// their own, wired by their `pipe-in` and `pipe-out` (see `install`).
pub fn log_of(db: &Db, s: u32) -> Option<u32> {
    let c = db.svc(s);
    if c.kind() != crate::db::Kind::Longrun
        || c.consumer_for().len() != 1
        || c.producer_for().is_some()
    {
        return None;
    }
    let p = c.consumer_for().get(0);
    // A database opened only to be shown may hold an index past the end.
    if p as usize >= db.len() {
        return None;
    }
    let ps = db.svc(p);
    if ps.producer_for() == Some(s) && ps.consumer_for().is_empty() {
        Some(p)
    } else {
        None
    }
}

/// The longrun wired as `p`'s `log`, if any.
pub fn logger_of(db: &Db, p: u32) -> Option<u32> {
    let c = db.svc(p).producer_for()?;
    if log_of(db, c) == Some(p) {
        Some(c)
    } else {
        None
    }
}

/// Where longrun `s` lives under the scan directory: `scandir/NAME`, or
/// `scandir/PRODUCER/log` for a wired consumer.
pub fn service_dir(db: &Db, scandir: &[u8], s: u32) -> Result<PathBuf, Errno> {
    match log_of(db, s) {
        Some(p) => PathBuf::join(scandir, &[b"/", db.svc(p).name(), b"/log"]),
        None => PathBuf::join(scandir, &[b"/", db.svc(s).name()]),
    }
}

/// The first bytes of `<live>/timeline`; a file without them is refused.
pub const TIMELINE_MAGIC: &[u8; 8] = b"RINITTL1";
/// Bytes of one `Stamp` in the file: `start`, `up`, `ready` (u64 each),
/// `waited` (1 + index, 0: none), `flags` (u32 each), little-endian.
pub const STAMP_LEN: usize = 32;

/// Stamp flag: the transition went up (else down).
pub const T_UP: u32 = 1;
/// Stamp flag: it failed (or timed out).
pub const T_FAILED: u32 = 2;

/// One service's last transition, in monotonic nanoseconds (0: never).
/// `up` is when a longrun's `run` started (`u`) or a oneshot ended, `ready`
/// when the transition was done (`U` for a longrun with readiness
/// notification); `waited` is 1 + the index of the dependency whose end
/// let it start last, 0 when it waited for none (so that a table of
/// `NEVER` is all zero bytes, in .bss, not in the file).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Stamp {
    pub start: u64,
    pub up: u64,
    pub ready: u64,
    pub waited: u32,
    pub flags: u32,
}

impl Stamp {
    pub const NEVER: Stamp = Stamp { start: 0, up: 0, ready: 0, waited: 0, flags: 0 };

    /// The dependency it waited for last, if any.
    pub fn waited_for(&self) -> Option<u32> {
        self.waited.checked_sub(1)
    }

    fn encode(&self) -> [u8; STAMP_LEN] {
        let mut b = [0u8; STAMP_LEN];
        let fields = [self.start, self.up, self.ready, self.waited as u64 | (self.flags as u64) << 32];
        for (chunk, v) in b.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8]) -> Stamp {
        let mut f = [0u64; 4];
        for (v, chunk) in f.iter_mut().zip(b.chunks_exact(8)) {
            let mut a = [0u8; 8];
            a.copy_from_slice(chunk);
            *v = u64::from_le_bytes(a);
        }
        let [start, up, ready, last] = f;
        Stamp { start, up, ready, waited: last as u32, flags: (last >> 32) as u32 }
    }
}

/// Records encoded per write or read.
const STAMPS_PER_IO: usize = 128;

/// Replaces `<live>/timeline` with the stamps of the `n` services
/// (`timeline.new`, then rename).
pub fn write_timeline(live: &[u8], stamps: &[Stamp]) -> Result<(), Errno> {
    let p = path(live, b"timeline")?;
    let tmp = path(live, b"timeline.new")?;
    let fd = sys::open(tmp.as_cstr(), Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    let mut r = sys::write_all(fd.fd(), TIMELINE_MAGIC);
    let mut buf = [0u8; STAMP_LEN * STAMPS_PER_IO];
    for group in stamps.chunks(STAMPS_PER_IO) {
        for (dst, s) in buf.chunks_exact_mut(STAMP_LEN).zip(group) {
            dst.copy_from_slice(&s.encode());
        }
        r = r.and_then(|_| sys::write_all(fd.fd(), buf.get(..group.len() * STAMP_LEN).unwrap_or(&[])));
    }
    drop(fd);
    r.and_then(|_| sys::rename(tmp.as_cstr(), p.as_cstr()))
}

/// Reads `<live>/timeline` into `stamps` (one per service of the
/// database). EPROTO when it is not a timeline of that many services.
pub fn read_timeline(live: &[u8], stamps: &mut [Stamp]) -> Result<(), Errno> {
    let p = path(live, b"timeline")?;
    let fd = sys::open_read(p.as_cstr())?;
    
    read_stamps(fd.fd(), stamps)
}

fn read_stamps(fd: Fd, stamps: &mut [Stamp]) -> Result<(), Errno> {
    let mut magic = [0u8; 8];
    if sys::read_full(fd, &mut magic)? != magic.len() || &magic != TIMELINE_MAGIC {
        return Err(errno::EPROTO);
    }
    let mut buf = [0u8; STAMP_LEN * STAMPS_PER_IO];
    for group in stamps.chunks_mut(STAMPS_PER_IO) {
        let want = group.len() * STAMP_LEN;
        let chunk = buf.get_mut(..want).unwrap_or(&mut []);
        if sys::read_full(fd, chunk)? != want {
            return Err(errno::EPROTO);
        }
        for (s, b) in group.iter_mut().zip(chunk.chunks_exact(STAMP_LEN)) {
            *s = Stamp::decode(b);
        }
    }
    // A dependency that is not a service of this database: garbage.
    if stamps.iter().any(|s| s.waited as usize > stamps.len()) {
        return Err(errno::EPROTO);
    }
    // Not one byte more: a timeline of a bigger database is not this one's.
    if sys::read(fd, &mut magic)? != 0 {
        return Err(errno::EPROTO);
    }
    Ok(())
}

/// Longrun `s`'s supervisor announced (event `F`) that it cannot spawn
/// `run`: tells it to stop trying (`d`) and finds out why, for the
/// message: `run` missing or not executable, or its `#!` interpreter.
pub fn cannot_spawn(db: &Db, scandir: &[u8], s: u32) -> (&'static [u8], Errno) {
    let Ok(dir) = service_dir(db, scandir, s) else {
        return (b"unable to spawn run", errno::ENAMETOOLONG);
    };
    // Best effort: a supervisor that is gone retries nothing anyway.
    let _ = base::control::send(dir.as_bytes(), b"d");
    let Ok(run) = PathBuf::join(dir.as_bytes(), &[b"/run"]) else {
        return (b"unable to spawn run", errno::ENAMETOOLONG);
    };
    if let Err(e) = sys::access_exec(run.as_cstr()) {
        return (b"unable to spawn run", e);
    }
    let mut head = [0u8; 128];
    let n = match sys::open_read(run.as_cstr()) {
        Ok(fd) => {
            
            sys::read(fd.fd(), &mut head).unwrap_or(0)
        }
        Err(e) => return (b"unable to spawn run", e),
    };
    let head = head.get(..n).unwrap_or(&[]);
    if let Some(rest) = head.strip_prefix(b"#!") {
        let rest = rest.split(|&c| c == b'\n').next().unwrap_or(&[]);
        let interp = rest
            .split(|&c| c == b' ' || c == b'\t')
            .find(|w| !w.is_empty())
            .unwrap_or(&[]);
        match PathBuf::join(interp, &[]) {
            Ok(p) => {
                if let Err(e) = sys::access_exec(p.as_cstr()) {
                    return (b"unable to spawn run: bad interpreter", e);
                }
            }
            Err(e) => return (b"unable to spawn run: bad interpreter", e),
        }
    }
    (b"unable to spawn run", errno::ENOEXEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rinit-live-{}-{name}", std::process::id()));
        // Absent the first time: nothing to remove.
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_result_is_recorded_under_the_lock_and_only_for_the_live_database() {
        let d = dir("record");
        let live = d.to_str().unwrap().as_bytes();
        let mut db = vec![0u8; 48];
        db[16..24].copy_from_slice(&7u64.to_le_bytes());
        std::fs::create_dir_all(d.join("compiled")).unwrap();
        std::fs::write(d.join("compiled/db"), &db).unwrap();
        std::fs::write(d.join("state"), b"000").unwrap();
        let state = || std::fs::read(d.join("state")).unwrap();
        assert_eq!(record(live, 7, 3, 1, true), Ok(true));
        assert_eq!(state(), b"010");
        // Another database's service: nothing is written.
        assert_eq!(record(live, 8, 3, 2, true), Ok(true));
        assert_eq!(state(), b"010");
        // The lock held by another: try again later.
        let held = lock(live).unwrap().unwrap();
        assert_eq!(record(live, 7, 3, 2, true), Ok(false));
        assert_eq!(state(), b"010");
        drop(held);
        assert_eq!(record(live, 7, 3, 1, false), Ok(true));
        assert_eq!(state(), b"000");
    }

    #[test]
    fn a_timeline_reads_back_and_refuses_what_is_not_one_of_this_database() {
        let d = dir("timeline");
        let live = d.to_str().unwrap().as_bytes();
        let stamps: Vec<Stamp> = (0..300u64)
            .map(|i| Stamp { start: i + 1, up: i + 2, ready: u64::MAX - i, waited: (i % 7) as u32, flags: T_UP | T_FAILED })
            .collect();
        write_timeline(live, &stamps).unwrap();
        let mut back = vec![Stamp::NEVER; 300];
        read_timeline(live, &mut back).unwrap();
        assert_eq!(back, stamps);
        assert_eq!(back[8].waited_for(), Some(0));
        assert_eq!(back[7].waited_for(), None);
        // Another database's (more or fewer services), a bad magic, a
        // dependency out of range: refused.
        assert_eq!(read_timeline(live, &mut back[..299]), Err(errno::EPROTO));
        assert_eq!(read_timeline(live, &mut vec![Stamp::NEVER; 301]), Err(errno::EPROTO));
        write_timeline(live, &[Stamp { waited: 2, ..Stamp::NEVER }]).unwrap();
        assert_eq!(read_timeline(live, &mut [Stamp::NEVER]), Err(errno::EPROTO));
        std::fs::write(d.join("timeline"), b"RINITTL0").unwrap();
        assert_eq!(read_timeline(live, &mut []), Err(errno::EPROTO));
        std::fs::remove_file(d.join("timeline")).unwrap();
        assert_eq!(read_timeline(live, &mut []), Err(errno::ENOENT));
    }
}
