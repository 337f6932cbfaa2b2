//! The live state directory (s6-rc's `live`), made by rinit-rc-init:
//!
//! - `lock`: held (flock, exclusive) by whoever changes the state;
//! - `compiled`: a symlink to the compiled database directory (`db`,
//!   `servicedirs/`), which must stay in place while it is live;
//! - `scandir`: a symlink to the scanner's directory (absolute);
//! - `state`: one byte per service of the database, `1` up, `0` down,
//!   replaced atomically.

use crate::copy;
use crate::db::{Db, DbError, MAX_SERVICES};
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, Errno, Fd, Open, errno};

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
    let p = PathBuf::join(compiled, &[b"/db"]).map_err(OpenError::Sys)?;
    let fd = sys::open_read(p.as_cstr()).map_err(OpenError::Sys)?;
    let st = sys::fstat(fd);
    let r = match st {
        Ok(st) if st.size as usize > crate::db::MAX_DB_BYTES => Err(OpenError::Db(DbError::TooBig)),
        Ok(st) => sys::map_file(fd, st.size as usize).map_err(OpenError::Sys),
        Err(e) => Err(OpenError::Sys(e)),
    };
    sys::close(fd);
    Db::open(r?).map_err(OpenError::Db)
}

/// `<live>/<rel>`.
pub fn path(live: &[u8], rel: &[u8]) -> Result<PathBuf, Errno> {
    PathBuf::join(live, &[b"/", rel])
}

/// Takes the live directory's lock; Ok(None) when someone else holds it.
pub fn lock(live: &[u8]) -> Result<Option<Fd>, Errno> {
    let p = path(live, b"lock")?;
    // 0600: whoever can open a lock can take it and hold every change.
    let fd = sys::open(p.as_cstr(), Open::WRONLY | Open::CREATE, 0o600)?;
    if sys::lock_exclusive_nb(fd)? {
        Ok(Some(fd))
    } else {
        sys::close(fd);
        Ok(None)
    }
}

/// The up/down byte of every service into `state` (n bytes).
pub fn read_state(live: &[u8], n: usize, state: &mut [u8; MAX_SERVICES]) -> Result<(), Errno> {
    let p = path(live, b"state")?;
    let mut buf = [0u8; MAX_SERVICES + 1];
    let got = sys::read_file(p.as_cstr(), &mut buf)?;
    if got.len() != n {
        return Err(errno::EPROTO);
    }
    for (s, &b) in state.iter_mut().zip(got.iter()) {
        *s = match b {
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
    let mut buf = [0u8; MAX_SERVICES];
    for (b, &s) in buf.iter_mut().zip(state.iter()).take(n) {
        *b = if s != 0 { b'1' } else { b'0' };
    }
    let p = path(live, b"state").map_err(|e| copy::Fail {
        what: b"write ",
        path: Buf::new(),
        e,
    })?;
    copy::write_file_atomic(&p, buf.get(..n).unwrap_or(&[]), 0o644)
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
/// them. Longer pipelines and funnels are recorded in the database but
/// each of their longruns is installed on its own, unwired.
pub fn log_of(db: &Db, s: u32) -> Option<u32> {
    let c = db.svc(s);
    if c.kind() != crate::db::Kind::Longrun
        || c.consumer_for().len() != 1
        || c.producer_for().is_some()
    {
        return None;
    }
    let p = c.consumer_for().get(0);
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
