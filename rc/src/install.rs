//! Putting longruns into the scan directory and taking them out: what
//! rinit-rc-init and rinit-rc-update do to the supervision tree.
//!
//! A longrun goes in as `.NAME.new` (the scanner skips dot names) with a
//! `down` file (the supervisor must not start it: rinit-rc does), plus its
//! wired consumer as `log/` (a producer/consumer pair) or its pipeline
//! ends (`pipe-in`, `pipe-out`: longer pipelines and funnels), and only
//! then is renamed to `NAME`. It goes out the other way: renamed to
//! `.NAME.old` (so no rescan brings it back), its supervisors told to exit
//! (`x`), and removed once they are gone.

use crate::copy::{self, Fail};
use crate::db::{Db, Kind};
use crate::live;
use base::control;
use base::servicedir as sd;
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, Errno, errno};

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
pub fn install(db: &Db, servicedirs: &[u8], scandir: &[u8], i: u32) -> Result<(), Fail> {
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
    copy::copy_tree(&mut from, &mut tmp, &|_| false, &[])?;
    mark_down(&tmp)?;
    if let Some(c) = live::logger_of(db, i) {
        let mut from = p(servicedirs, &[b"/", db.svc(c).name()])?;
        let mut log = p(tmp.as_bytes(), &[b"/log"])?;
        copy::copy_tree(&mut from, &mut log, &|_| false, &[])?;
        mark_down(&log)?;
    } else {
        wire(db, &tmp, i)?;
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
    Ok(())
}

/// The pipeline ends of longrun `i` outside a producer/consumer pair: a
/// consumer's `pipe-in` is one FIFO for all its producers (a funnel), a
/// producer's `pipe-out` a relative symlink to its consumer's, so it
/// holds while both are in the scan directory. Their supervisors open
/// them to read and write and keep them for their life (s6-rc keeps the
/// pipes in an fd holder): no line in a pipe is lost when a member
/// restarts. Private: the FIFO is 0600.
fn wire(db: &Db, dir: &PathBuf, i: u32) -> Result<(), Fail> {
    let s = db.svc(i);
    if !s.consumer_for().is_empty() {
        let fifo = p(dir.as_bytes(), &[b"/", sd::PIPE_IN.to_bytes()])?;
        sys::mkfifo(fifo.as_cstr(), 0o600).map_err(|e| copy::fail(b"make FIFO ", &fifo, e))?;
    }
    if let Some(c) = s.producer_for() {
        let link = p(dir.as_bytes(), &[b"/", sd::PIPE_OUT.to_bytes()])?;
        let target = p(b"../", &[db.svc(c).name(), b"/", sd::PIPE_IN.to_bytes()])?;
        sys::symlink(target.as_cstr(), link.as_cstr()).map_err(|e| copy::fail(b"make symlink ", &link, e))?;
    }
    Ok(())
}

/// Where the oneshot runner's program is: beside this program's own
/// executable, else in the first directory of `PATH` that has it.
pub fn runner_program() -> Result<PathBuf, Errno> {
    let name = crate::oneshot::RUNNER;
    let mut exe = [0u8; base::path::PATH_MAX];
    if let Ok(own) = sys::readlink(c"/proc/self/exe", &mut exe)
        && let Some(i) = own.iter().rposition(|&c| c == b'/')
        && let Ok(q) = PathBuf::join(own.get(..i).unwrap_or(b""), &[b"/", name])
        && sys::access_exec(q.as_cstr()).is_ok()
    {
        return Ok(q);
    }
    let path = sys::getenv(b"PATH").map_or(&b"/usr/bin:/bin"[..], |p| p.to_bytes());
    path.split(|&c| c == b':')
        .filter(|d| d.first() == Some(&b'/'))
        .filter_map(|d| PathBuf::join(d, &[b"/", name]).ok())
        .find(|q| sys::access_exec(q.as_cstr()).is_ok())
        .ok_or(errno::ENOENT)
}

/// Installs the oneshot runner's service as `scandir/rinit-oneshot-runner`,
/// up (the scanner starts it at once): `run` a link to `program`, `live` a
/// link to the live directory (absolute), `notification-fd` 3. A runner
/// already there (of an earlier live directory on this scan directory) is
/// pointed at this one and told to restart (`t`).
pub fn runner(scandir: &[u8], live: &[u8], program: &[u8]) -> Result<(), Fail> {
    let name = crate::oneshot::RUNNER;
    let fin = p(scandir, &[b"/", name])?;
    let link = |dir: &PathBuf, rel: &[u8], target: &[u8]| -> Result<(), Fail> {
        let l = p(dir.as_bytes(), &[b"/", rel])?;
        let tmp = p(dir.as_bytes(), &[b"/.", rel, b".new"])?;
        let t = p(target, &[])?;
        // A leftover of an interrupted install, usually absent.
        let _ = sys::unlink(tmp.as_cstr());
        sys::symlink(t.as_cstr(), tmp.as_cstr()).map_err(|e| copy::fail(b"make symlink ", &tmp, e))?;
        sys::rename(tmp.as_cstr(), l.as_cstr()).map_err(|e| copy::fail(b"rename to ", &l, e))
    };
    if sys::lstat(fin.as_cstr()).is_ok() {
        link(&fin, b"run", program)?;
        link(&fin, b"live", live)?;
        // Not supervised yet: it starts with the new links anyway.
        let _ = control::send(fin.as_bytes(), b"t");
        return Ok(());
    }
    let mut tmp = p(scandir, &[b"/.", name, b".new"])?;
    // A leftover temporary tree: the next install removes it.
    let _ = copy::remove_tree(&mut tmp);
    sys::mkdir(tmp.as_cstr(), 0o755).map_err(|e| copy::fail(b"create ", &tmp, e))?;
    link(&tmp, b"run", program)?;
    link(&tmp, b"live", live)?;
    copy::write_file(&p(tmp.as_bytes(), &[b"/", sd::NOTIFICATION_FD])?, b"3\n", 0o644)?;
    sys::rename(tmp.as_cstr(), fin.as_cstr()).map_err(|e| copy::fail(b"rename to ", &fin, e))
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
    // Usually absent: what an update killed before it removed it left,
    // perhaps with its supervisors still there.
    if sys::lstat(old.as_cstr()).is_ok() {
        retire(scandir, &mut old, end_ns)?;
    }
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
    retire(scandir, &mut old, end_ns)
}

/// Tells the supervisors of `old` (a directory moved out of the scanner's
/// sight) to exit, waits until they have, and removes it. A supervisor
/// still starting when the directory moved does not hear the first `x`:
/// the letter is said again while waiting, and the scanner, asked to
/// rescan and prune (`an`, as s6-rc-update asks s6-svscan), stops what
/// it started for a directory that is no longer there.
fn retire(scandir: &[u8], old: &mut PathBuf, end_ns: u64) -> Result<(), Fail> {
    let log = p(old.as_bytes(), &[b"/log"])?;
    // No scanner, no one to tell.
    let _ = control::send_scanner(scandir, b"an");
    loop {
        // Supervisors gone already: nothing to stop.
        let _ = control::send(old.as_bytes(), b"x");
        let _ = control::send(log.as_bytes(), b"x");
        // They are gone when nobody reads their control FIFOs.
        if !supervised(old.as_bytes()) && !supervised(log.as_bytes()) {
            break;
        }
        if end_ns != 0 && sys::now_mono_ns() > end_ns {
            break;
        }
        sys::sleep_ms(2);
    }
    copy::remove_tree(old)
}

fn supervised(dir: &[u8]) -> bool {
    matches!(control::is_supervised(dir), Ok(true))
}
