//! rinit-rc-update: switches the live state to a new compiled database
//! without a reboot (s6-rc-update's role, in a simple form).
//!
//! A service is *replaced* when the new database lacks its name, gives it
//! another type, or (longruns) gives it another service directory or
//! pipeline wiring. Replaced services that are up are stopped first (with
//! their dependents, by the old database); replaced and vanished longruns
//! leave the scan directory, new and replaced ones come in (down); then
//! `live/compiled` points at the new database, the state carries over by
//! name, and every service that was up before and exists in the new
//! database is brought up again. A oneshot whose script changed is not
//! replaced (it is not run again). `-n` prints what would be done.
#![no_std]
#![no_main]

use base::err;
use base::fmt::{Buf, parse_u64};
use base::path::PathBuf;
use base::sys::{self, Args, StaticCell};
use rc::change::{self, Opts, Tables};
use rc::db::{Db, Kind, MAX_SERVICES};
use rc::{copy, install, live};
use rinit_rc as rc;
use base::options::{Opt, Options};

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
    let mut verbosity = 1u32;
    let mut timeout = 0u64;
    let mut dry = false;
    let mut live_dir: &[u8] = live::DEFAULT_LIVE;
    let mut opts = Options::new(args, b"v:t:nl:");
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'v', v) => {
                verbosity = parse_u64(v).unwrap_or_else(|| err::usage(USAGE)) as u32
            }
            Opt::Value(b't', v) => timeout = parse_u64(v).unwrap_or_else(|| err::usage(USAGE)),
            Opt::Value(b'l', v) => live_dir = v,
            Opt::Flag(b'n') => dry = true,
            _ => err::usage(USAGE),
        }
    }
    let Some(newc) = args.get(opts.operands()) else {
        err::usage(USAGE)
    };
    let newc = newc.to_bytes();
    let end = if timeout == 0 {
        0
    } else {
        sys::now_mono_ns() + timeout * 1_000_000
    };

    let _lock = match live::lock(live_dir) {
        Ok(Some(fd)) => fd,
        Ok(None) => err::fatal(
            err::EXIT_SYS,
            &[
                b"live directory ",
                live_dir,
                b" is locked by another rinit-rc",
            ],
        ),
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to lock ", live_dir, b"/lock"], e),
    };
    let oldc = path(live_dir, &[b"/compiled"]);
    let old = open(oldc.as_bytes());
    let new = open(newc);
    let (Some(t), Some(m)) = (TABLES.take(), MARKS.take()) else {
        sys::exit(err::EXIT_SYS)
    };
    if let Err(e) = live::read_state(live_dir, old.len(), &mut t.state) {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to read ", live_dir, b"/state"], e);
    }
    let scandir = path(live_dir, &[b"/scandir"]);
    let old_sd = path(oldc.as_bytes(), &[b"/servicedirs"]);
    let new_sd = path(newc, &[b"/servicedirs"]);

    // 1. What is replaced.
    for i in 0..old.len() as u32 {
        let s = old.svc(i);
        m.was_up[i as usize] = t.state.get(i as usize).copied().unwrap_or(0);
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
        m.replaced[i as usize] = replaced as u8;
        if replaced {
            t.plan[i as usize] = 1;
            if dry {
                line(&[b"replace ", s.name()]);
            }
        }
    }

    // 2. Stop what is replaced and up, with its dependents.
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if !dry && let Err(f) = live::write_state(live_dir, old.len(), st) {
            err::warn_sys(&[b"unable to ", f.what, f.path.as_bytes()], f.e);
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
        if m.replaced[i as usize] != 0
            && install::is_top(&old, i)
            && let Err(f) = install::uninstall(&old, scandir.as_bytes(), i, end)
        {
            err::warn_sys(&[b"unable to ", f.what, f.path.as_bytes()], f.e);
        }
    }
    let is_new = |j: u32| match old.find(new.svc(j).name()) {
        None => true,
        Some(s) => m.replaced[s.index as usize] != 0,
    };
    for j in 0..new.len() as u32 {
        if install::is_top(&new, j)
            && is_new(j)
            && let Err(f) = install::install(&new, new_sd.as_bytes(), scandir.as_bytes(), j)
        {
            err::fatal_sys(
                err::EXIT_SYS,
                &[b"unable to ", f.what, f.path.as_bytes()],
                f.e,
            );
        }
    }
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
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to resolve ", newc], e),
    };
    let tmp = path(live_dir, &[b"/compiled.new"]);
    let _ = sys::unlink(tmp.as_cstr());
    if let Err(e) = sys::symlink(abs.as_cstr(), tmp.as_cstr())
        .and_then(|_| sys::rename(tmp.as_cstr(), oldc.as_cstr()))
    {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to switch ", oldc.as_bytes()], e);
    }
    for j in 0..new.len() as u32 {
        let up = match old.find(new.svc(j).name()) {
            Some(s) if m.replaced[s.index as usize] == 0 => {
                t.state.get(s.index as usize).copied().unwrap_or(0)
            }
            _ => 0,
        };
        m.new_state[j as usize] = up;
    }
    if let Err(f) = live::write_state(live_dir, new.len(), &m.new_state) {
        err::fatal_sys(
            err::EXIT_SYS,
            &[b"unable to ", f.what, f.path.as_bytes()],
            f.e,
        );
    }

    // 5. Bring back up what was up and still exists.
    t.state.copy_from_slice(&m.new_state);
    t.plan = [0; MAX_SERVICES];
    for i in 0..old.len() as u32 {
        if m.was_up[i as usize] != 0
            && let Some(n) = new.find(old.svc(i).name())
        {
            t.plan[n.index as usize] = 1;
        }
    }
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if let Err(f) = live::write_state(live_dir, new.len(), st) {
            err::warn_sys(&[b"unable to ", f.what, f.path.as_bytes()], f.e);
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

/// The names a longrun is wired to: the producer it logs for, its logger.
fn wiring<'a>(db: &Db<'a>, k: u32) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
    (
        live::log_of(db, k).map(|x| db.svc(x).name()),
        live::logger_of(db, k).map(|x| db.svc(x).name()),
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

fn open(compiled: &[u8]) -> Db<'static> {
    match live::open_db(compiled) {
        Ok(db) => db,
        Err(e) => err::fatal(
            err::EXIT_SYS,
            &[b"unable to read database ", compiled, b"/db: ", e.words()],
        ),
    }
}

fn line(parts: &[&[u8]]) {
    let mut b = Buf::<512>::new();
    for p in parts {
        b.push(p);
    }
    b.byte(b'\n');
    let _ = sys::write_all(sys::STDOUT, b.as_bytes());
}

fn path(a: &[u8], parts: &[&[u8]]) -> PathBuf {
    match PathBuf::join(a, parts) {
        Ok(p) => p,
        Err(e) => err::fatal_sys(err::EXIT_USAGE, &[b"path too long: ", a], e),
    }
}

linker::entry!(main);
