//! Putting longruns into the scan directory and taking them out: what
//! rinit-rc-init and rinit-rc-update do to the supervision tree.
//!
//! A longrun goes in as `.NAME.new` (the scanner skips dot names) with a
//! `down` file (the supervisor must not start it: rinit-rc does), plus its
//! wired consumer as `log/`, and only then is renamed to `NAME`. It goes out
//! the other way: renamed to `.NAME.old` (so no rescan brings it back), its
//! supervisors told to exit (`x`), and removed once they are gone.

use crate::copy::{self, Fail};
use crate::db::{Db, Kind};
use crate::live;
use base::control;
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, errno};

fn p(a: &[u8], parts: &[&[u8]]) -> Result<PathBuf, Fail> {
    PathBuf::join(a, parts).map_err(|e| {
        let mut path = Buf::new();
        path.push(a);
        Fail {
            what: b"build path ",
            path,
            e,
        }
    })
}

fn mark_down(dir: &PathBuf) -> Result<(), Fail> {
    copy::write_file(&p(dir.as_bytes(), &[b"/down"])?, b"", 0o644)
}

/// Is longrun `i` one that gets its own directory in the scan dir (not a
/// wired consumer living as its producer's `log/`)?
pub fn is_top(db: &Db, i: u32) -> bool {
    db.svc(i).kind() == Kind::Longrun && live::log_of(db, i).is_none()
}

/// Installs longrun `i` (a top one) from `servicedirs` into `scandir`.
/// Returns true when it is a pipeline member left unwired.
pub fn install(db: &Db, servicedirs: &[u8], scandir: &[u8], i: u32) -> Result<bool, Fail> {
    let s = db.svc(i);
    let mut from = p(servicedirs, &[b"/", s.name()])?;
    let mut tmp = p(scandir, &[b"/.", s.name(), b".new"])?;
    let fin = p(scandir, &[b"/", s.name()])?;
    if sys::lstat(fin.as_cstr()).is_ok() {
        let mut path = Buf::new();
        path.push(fin.as_bytes());
        return Err(Fail {
            what: b"install (it already exists) ",
            path,
            e: errno::EEXIST,
        });
    }
    // A leftover temporary tree: the next install removes it.
    let _ = copy::remove_tree(&mut tmp);
    copy::copy_tree(&mut from, &mut tmp, &|_| false)?;
    mark_down(&tmp)?;
    let mut unwired = false;
    if let Some(c) = live::logger_of(db, i) {
        let mut from = p(servicedirs, &[b"/", db.svc(c).name()])?;
        let mut log = p(tmp.as_bytes(), &[b"/log"])?;
        copy::copy_tree(&mut from, &mut log, &|_| false)?;
        mark_down(&log)?;
    } else if s.producer_for().is_some() || !s.consumer_for().is_empty() {
        unwired = true;
    }
    sys::rename(tmp.as_cstr(), fin.as_cstr()).map_err(|e| {
        let mut path = Buf::new();
        path.push(fin.as_bytes());
        Fail {
            what: b"rename to ",
            path,
            e,
        }
    })?;
    Ok(unwired)
}

/// Is the longrun at `dir` supervised, with its event fifodir and first
/// status written?
pub fn ready(dir: &[u8]) -> bool {
    let ok = |rel: &[u8]| {
        PathBuf::join(dir, &[rel])
            .map(|q| sys::stat(q.as_cstr()).is_ok())
            .unwrap_or(false)
    };
    matches!(control::is_supervised(dir), Ok(true)) && ok(b"/event") && ok(b"/supervise/status")
}

/// Waits until longrun `i` is supervised; Err(its dir) past `end_ns`
/// (monotonic; 0 = forever).
pub fn wait_supervised(db: &Db, scandir: &[u8], i: u32, end_ns: u64) -> Result<(), PathBuf> {
    let Ok(dir) = live::service_dir(db, scandir, i) else {
        return Ok(());
    };
    while !ready(dir.as_bytes()) {
        if end_ns != 0 && sys::now_mono_ns() > end_ns {
            return Err(dir);
        }
        sys::sleep_ms(2);
    }
    Ok(())
}

/// Takes longrun `i` (a top one, already down) and its wired logger out of
/// the scan directory.
pub fn uninstall(db: &Db, scandir: &[u8], i: u32, end_ns: u64) -> Result<(), Fail> {
    let s = db.svc(i);
    let fin = p(scandir, &[b"/", s.name()])?;
    let mut old = p(scandir, &[b"/.", s.name(), b".old"])?;
    // Usually absent: a leftover of an interrupted replacement.
    let _ = copy::remove_tree(&mut old);
    if let Err(e) = sys::rename(fin.as_cstr(), old.as_cstr()) {
        if e == errno::ENOENT {
            return Ok(());
        }
        let mut path = Buf::new();
        path.push(fin.as_bytes());
        return Err(Fail {
            what: b"rename ",
            path,
            e,
        });
    }
    let log = p(old.as_bytes(), &[b"/log"])?;
    // Supervisors gone already: nothing to stop.
    let _ = control::send(old.as_bytes(), b"x");
    let _ = control::send(log.as_bytes(), b"x");
    // The scanner rescans on its own at its next change; no scanner, no one to tell.
    let _ = control::send_scanner(scandir, b"a");
    // The supervisors are gone when nobody reads their control FIFOs.
    while supervised(old.as_bytes()) || supervised(log.as_bytes()) {
        if end_ns != 0 && sys::now_mono_ns() > end_ns {
            break;
        }
        sys::sleep_ms(2);
    }
    copy::remove_tree(&mut old)
}

fn supervised(dir: &[u8]) -> bool {
    matches!(control::is_supervised(dir), Ok(true))
}
