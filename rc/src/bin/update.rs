//! rinit-rc-update: switches the live state to a new compiled database
//! without a reboot (s6-rc-update's role, in a simple form).
//!
//! A service is *replaced* when the new database lacks its name, gives it
//! another type, or (longruns) gives it another service directory or
//! pipeline wiring, and a producer with its consumer. Replaced services
//! that are up are stopped first (with their dependents, by the old
//! database); replaced and vanished longruns
//! leave the scan directory, new and replaced ones come in (down); then
//! `live/compiled` points at the new database, the state carries over by
//! name, and every service that was up before and exists in the new
//! database is brought up again. A oneshot whose script changed is not
//! replaced (it is not run again). `-n` prints what would be done.
#![no_std]
#![no_main]

use base::err;
use base::path::PathBuf;
use base::sys::{self, Args, StaticCell};
use rc::change::{self, get, set, Opts, Tables};
use rc::db::{Db, Kind, MAX_SERVICES};
use rc::{copy, install, live};
use rinit_rc as rc;
use rc::cli::{deadline, line, lock, open_db, path, Common};
use base::options::Options;

const USAGE: &[u8] =
    b"rinit-rc-update [ -v verbosity ] [ -t timeout ] [ -n ] [ -l live ] newcompiled";

static TABLES: StaticCell<Tables> = StaticCell::new(Tables::new());
static MARKS: StaticCell<Marks> = StaticCell::new(Marks {
    replaced: [0; MAX_SERVICES],
    was_up: [0; MAX_SERVICES],
    new_state: [0; MAX_SERVICES],
});

struct Marks {
    /// By old index: replaced or gone in the new database.
    replaced: [u8; MAX_SERVICES],
    /// By old index: up before the update.
    was_up: [u8; MAX_SERVICES],
    /// By new index.
    new_state: [u8; MAX_SERVICES],
}

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-rc-update");
    let mut c = Common::new();
    let mut opts = Options::new(args, b"v:t:nl:");
    for o in opts.by_ref() {
        if c.take(o, USAGE).is_some() {
            err::usage(USAGE);
        }
    }
    let Common { verbosity, timeout_ms, dry, live_dir } = c;
    let Some(newc) = args.get(opts.operands()) else {
        err::usage(USAGE)
    };
    let newc = newc.to_bytes();
    let end = deadline(timeout_ms);

    let _lock = lock(live_dir);
    let oldc = path(live_dir, &[b"/compiled"]);
    let old = open_db(oldc.as_bytes());
    let new = open_db(newc);
    let (Some(t), Some(m)) = (TABLES.take(), MARKS.take()) else {
        sys::exit(err::EXIT_SYS)
    };
    if let Err(e) = live::read_state(live_dir, old.len(), &mut t.state) {
        err::fatal_unable(err::EXIT_SYS, &[b"read ", live_dir, b"/state"], e);
    }
    let scandir = path(live_dir, &[b"/scandir"]);
    let old_sd = path(oldc.as_bytes(), &[b"/servicedirs"]);
    let new_sd = path(newc, &[b"/servicedirs"]);

    // 1. What is replaced.
    for i in 0..old.len() as u32 {
        let s = old.svc(i);
        set(&mut m.was_up, i, get(&t.state, i));
        if s.kind() == Kind::Bundle {
            continue;
        }
        let replaced = match new.find(s.name()) {
            None => true,
            Some(n) if n.kind() != s.kind() => true,
            Some(n) if s.kind() == Kind::Longrun => {
                wiring(&old, i) != wiring(&new, n.index)
                    || !same_dir(old_sd.as_bytes(), new_sd.as_bytes(), s.name())
            }
            Some(_) => false,
        };
        set(&mut m.replaced, i, replaced as u8);
    }
    // A producer's supervisor holds its consumer's pipe open: a consumer
    // reinstalled (a new pipe) takes its producers with it, back along
    // the pipeline (acyclic: one pass per member at most).
    let mut more = true;
    while more {
        more = false;
        for i in 0..old.len() as u32 {
            if get(&m.replaced, i) == 0
                && old.svc(i).producer_for().is_some_and(|c| get(&m.replaced, c) != 0)
            {
                set(&mut m.replaced, i, 1);
                more = true;
            }
        }
    }
    for i in 0..old.len() as u32 {
        if get(&m.replaced, i) != 0 {
            set(&mut t.plan, i, 1);
            if dry {
                line(&[b"replace ", old.svc(i).name()]);
            }
        }
    }

    // 2. Stop what is replaced and up, with its dependents.
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if !dry && let Err(f) = live::write_state(live_dir, old.len(), st) {
            f.warn();
        }
    };
    let mut o = Opts {
        scandir: scandir.as_bytes(),
        servicedirs: old_sd.as_bytes(),
        verbosity,
        dry_run: dry,
        deadline: end,
        save: &mut save,
    };
    change::close(&old, t, false);
    change::restrict(&old, t, false, true);
    if change::run(&old, t, false, &mut o) != 0 {
        err::fatal(
            1,
            &[b"unable to stop the services being replaced: the live database is unchanged"],
        );
    }
    if dry {
        sys::exit(0);
    }

    // 3. The scan directory: out with the replaced, in with the new.
    for i in 0..old.len() as u32 {
        if get(&m.replaced, i) != 0
            && install::is_top(&old, i)
            && let Err(f) = install::uninstall(&old, scandir.as_bytes(), i, end)
        {
            f.warn();
        }
    }
    let is_new = |j: u32| match old.find(new.svc(j).name()) {
        None => true,
        Some(s) => get(&m.replaced, s.index) != 0,
    };
    for j in 0..new.len() as u32 {
        if install::is_top(&new, j)
            && is_new(j)
            && let Err(f) = install::install(&new, new_sd.as_bytes(), scandir.as_bytes(), j)
        {
            f.fatal();
        }
    }
    // The scanner rescans on its own at its next change; no scanner, no one to tell.
    let _ = base::control::send_scanner(scandir.as_bytes(), b"a");
    for j in 0..new.len() as u32 {
        if new.svc(j).kind() == Kind::Longrun
            && is_new(j)
            && let Err(dir) = install::wait_supervised(&new, scandir.as_bytes(), j, end)
        {
            err::fatal(
                err::EXIT_SYS,
                &[
                    b"the scanner did not supervise ",
                    dir.as_bytes(),
                    b" in time",
                ],
            );
        }
    }

    // 4. Switch the database, carry the state over by name.
    let abs = match live::absolute(newc) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"resolve ", newc], e),
    };
    let tmp = path(live_dir, &[b"/compiled.new"]);
    // Usually absent (ENOENT): a leftover of an interrupted update.
    let _ = sys::unlink(tmp.as_cstr());
    if let Err(e) = sys::symlink(abs.as_cstr(), tmp.as_cstr())
        .and_then(|_| sys::rename(tmp.as_cstr(), oldc.as_cstr()))
    {
        err::fatal_unable(err::EXIT_SYS, &[b"switch ", oldc.as_bytes()], e);
    }
    for j in 0..new.len() as u32 {
        let up = match old.find(new.svc(j).name()) {
            Some(s) if get(&m.replaced, s.index) == 0 => get(&t.state, s.index),
            _ => 0,
        };
        set(&mut m.new_state, j, up);
    }
    if let Err(f) = live::write_state(live_dir, new.len(), &m.new_state) {
        f.fatal();
    }

    // 5. Bring back up what was up and still exists.
    t.state.copy_from_slice(&m.new_state);
    t.plan = [0; MAX_SERVICES];
    for i in 0..old.len() as u32 {
        if get(&m.was_up, i) != 0
            && let Some(n) = new.find(old.svc(i).name())
        {
            set(&mut t.plan, n.index, 1);
        }
    }
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if let Err(f) = live::write_state(live_dir, new.len(), st) {
            f.warn();
        }
    };
    let mut o = Opts {
        scandir: scandir.as_bytes(),
        servicedirs: new_sd.as_bytes(),
        verbosity,
        dry_run: false,
        deadline: end,
        save: &mut save,
    };
    change::close(&new, t, true);
    change::restrict(&new, t, true, false);
    let failures = change::run(&new, t, true, &mut o);
    sys::exit(if failures == 0 { 0 } else { 1 })
}

/// What a longrun's installed directory depends on besides its own
/// files: the producer it logs for and its logger (a pair), the consumer
/// its `pipe-out` names, and whether it has a `pipe-in`.
fn wiring<'a>(db: &Db<'a>, k: u32) -> (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a [u8]>, bool) {
    (
        live::log_of(db, k).map(|x| db.svc(x).name()),
        live::logger_of(db, k).map(|x| db.svc(x).name()),
        db.svc(k).producer_for().map(|x| db.svc(x).name()),
        db.svc(k).consumer_for().is_empty(),
    )
}

fn same_dir(a: &[u8], b: &[u8], name: &[u8]) -> bool {
    let (Ok(mut x), Ok(mut y)) = (
        PathBuf::join(a, &[b"/", name]),
        PathBuf::join(b, &[b"/", name]),
    ) else {
        return false;
    };
    copy::same_tree(&mut x, &mut y).unwrap_or(false)
}

linker::entry!(main);
