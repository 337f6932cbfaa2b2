//! rinit-rc: brings the set of up services from what it is to what is asked,
//! in parallel, in dependency order (s6-rc's role).
//!
//! `change` with `-u` (default) starts the selection and its dependencies;
//! `-d` stops the selection and its dependents (essential services stay
//! unless `-D`); `-p` prunes: stops everything outside the selection's
//! closure, then starts the closure. `-a` adds every service that is up to
//! the selection. `-n` prints the plan (`start NAME` / `stop NAME`) and
//! does nothing. Exit 0 when all went well, 1 when a service failed, timed
//! out or was left alone because a dependency failed.
#![no_std]
#![no_main]

use base::err;
use base::status;
use base::sys::{self, Args, StaticCell};
use rc::change::{self, Opts, Tables};
use rc::db::{Db, Kind, MAX_SERVICES};
use rc::live;
use rc::timeline;
use rinit_rc as rc;
use rc::cli::{deadline, line, open_db, path, Common};
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-rc [ -v verbosity ] [ -t timeout ] [ -n ] [ -l live ] [ -u | -d | -D ] [ -p ] [ -a ] [ -b ] help|list|listall|diff|change [ servicenames... ] | timeline [ -t | -s ]";

/// How long `-bD` (the shutdown form) waits for the live directory's lock
/// before it goes on without it.
const SHUTDOWN_LOCK_WAIT_MS: u64 = 3000;

static TABLES: StaticCell<Tables> = StaticCell::new(Tables::new());
static KEEP: StaticCell<[u8; MAX_SERVICES]> = StaticCell::new([0; MAX_SERVICES]);
static SCRATCH: StaticCell<timeline::Scratch> = StaticCell::new([[0; MAX_SERVICES]; 2]);

#[derive(PartialEq, Eq, Clone, Copy)]
enum Dir {
    Up,
    Down,
    DownForce,
}

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-rc");
    let mut c = Common::new();
    let mut dir = Dir::Up;
    let (mut prune, mut all, mut block) = (false, false, false);
    let mut opts = Options::new(args, b"v:t:nl:udDpab");
    for o in opts.by_ref() {
        match c.take(o, USAGE) {
            None => {}
            Some(Opt::Flag(b'u')) => dir = Dir::Up,
            Some(Opt::Flag(b'd')) => dir = Dir::Down,
            Some(Opt::Flag(b'D')) => dir = Dir::DownForce,
            Some(Opt::Flag(b'p')) => prune = true,
            Some(Opt::Flag(b'a')) => all = true,
            Some(Opt::Flag(b'b')) => block = true,
            Some(_) => err::usage(USAGE),
        }
    }
    let Common { verbosity, timeout_ms, dry, live_dir } = c;
    let first = opts.operands();
    let Some(cmd) = args.get(first) else {
        err::usage(USAGE)
    };
    let cmd = cmd.to_bytes();
    if cmd == b"help" {
        line(&[USAGE]);
        sys::exit(0);
    }
    if cmd == b"timeline" {
        // Read only: no lock, so it can be drawn while a change runs.
        timeline(live_dir, args.get(first + 1).map(|a| a.to_bytes()), args.get(first + 2).is_some());
    }
    let deadline = deadline(timeout_ms);

    // Lock, then read the database and the state. The shutdown form
    // (`-bD`) waits for the lock a bounded time only: a change that never
    // ends must not make the machine's services be killed out of order.
    let give_up = sys::now_mono_ns().saturating_add(SHUTDOWN_LOCK_WAIT_MS * 1_000_000);
    let _lock = loop {
        match live::lock(live_dir) {
            Ok(Some(fd)) => break Some(fd),
            Ok(None) if block && dir == Dir::DownForce && sys::now_mono_ns() >= give_up => {
                err::warn(&[b"live directory ", live_dir, b" is still locked by another rinit-rc: going on without the lock"]);
                break None;
            }
            Ok(None) if block => sys::sleep_ms(10),
            Ok(None) => err::fatal(
                err::EXIT_SYS,
                &[
                    b"live directory ",
                    live_dir,
                    b" is locked by another rinit-rc (use -b to wait)",
                ],
            ),
            Err(e) => err::fatal_unable(
                err::EXIT_SYS,
                &[
                    b"lock ",
                    live_dir,
                    b"/lock (did rinit-rc-init run?)",
                ],
                e,
            ),
        }
    };
    let compiled = path(live_dir, &[b"/compiled"]);
    let db = open_db(compiled.as_bytes());
    let (Some(t), Some(keep)) = (TABLES.take(), KEEP.take()) else {
        sys::exit(err::EXIT_SYS)
    };
    if let Err(e) = live::read_state(live_dir, db.len(), &mut t.state) {
        err::fatal_unable(err::EXIT_SYS, &[b"read ", live_dir, b"/state"], e);
    }
    // The services this change leaves alone keep their last transition; a
    // live state without a timeline (or another database's) starts anew.
    let stamps = t.stamps.get_mut(..db.len()).unwrap_or(&mut []);
    if live::read_timeline(live_dir, stamps).is_err() {
        stamps.fill(live::Stamp::NEVER);
    }
    let mut names = (first + 1..args.len())
        .filter_map(|k| args.get(k))
        .map(|c| c.to_bytes());
    if let Err(name) = change::select(&db, t, &mut names) {
        err::fatal(err::EXIT_USAGE, &[b"unknown service name ", name]);
    }
    if all {
        change::select_up(&db, t);
    }

    match cmd {
        b"list" => {
            for i in 0..db.len() as u32 {
                if t.state.get(i as usize) == Some(&1) {
                    line(&[db.svc(i).name()]);
                }
            }
            sys::exit(0)
        }
        b"listall" => {
            change::close(&db, t, dir == Dir::Up);
            for i in 0..db.len() as u32 {
                if t.plan.get(i as usize) == Some(&1) && db.svc(i).kind() != Kind::Bundle {
                    line(&[db.svc(i).name()]);
                }
            }
            sys::exit(0)
        }
        b"diff" => sys::exit(diff(&db, t, live_dir)),
        b"change" => {}
        _ => err::usage(USAGE),
    }

    let scandir = path(live_dir, &[b"/scandir"]);
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if dry {
            return;
        }
        if let Err(f) = live::write_state(live_dir, db.len(), st) {
            f.warn();
        }
    };
    let mut o = Opts {
        scandir: scandir.as_bytes(),
        live: live_dir,
        verbosity,
        dry_run: dry,
        deadline,
        save: &mut save,
    };
    let mut failures = 0;
    if prune {
        change::prune_plan(&db, t, keep);
        change::restrict(&db, t, false, dir == Dir::DownForce);
        failures += change::run(&db, t, false, &mut o);
        t.plan.copy_from_slice(keep);
        change::restrict(&db, t, true, false);
        if failures == 0 {
            failures += change::run(&db, t, true, &mut o);
        }
    } else {
        let up = dir == Dir::Up;
        change::close(&db, t, up);
        change::restrict(&db, t, up, dir == Dir::DownForce);
        failures += change::run(&db, t, up, &mut o);
    }
    if !dry && let Err(e) = live::write_timeline(live_dir, t.stamps.get(..db.len()).unwrap_or(&[])) {
        err::warn_unable(&[b"write ", live_dir, b"/timeline"], e);
    }
    sys::exit(if failures == 0 { 0 } else { 1 })
}

/// `timeline`: the last transitions as an SVG picture, as text (`-t`), or
/// as the one line that sums the boot up (`-s`).
fn timeline(live_dir: &[u8], flag: Option<&[u8]>, extra: bool) -> ! {
    let form = match flag {
        None => timeline::Form::Svg,
        Some(b"-t") => timeline::Form::Text,
        Some(b"-s") => timeline::Form::Summary,
        Some(_) => err::usage(USAGE),
    };
    if extra {
        err::usage(USAGE);
    }
    let compiled = path(live_dir, &[b"/compiled"]);
    let db = open_db(compiled.as_bytes());
    let (Some(t), Some(scratch)) = (TABLES.take(), SCRATCH.take()) else { sys::exit(err::EXIT_SYS) };
    let stamps = t.stamps.get_mut(..db.len()).unwrap_or(&mut []);
    match live::read_timeline(live_dir, stamps) {
        Ok(()) => {}
        Err(sys::errno::ENOENT) => err::fatal(
            err::EXIT_SYS,
            &[b"no timeline in ", live_dir, b": no change recorded one yet (a live state made before timelines were recorded has none)"],
        ),
        Err(sys::errno::EPROTO) => err::fatal(
            err::EXIT_SYS,
            &[b"unable to read ", live_dir, b"/timeline: not a timeline of this database (run a change to record a new one)"],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"read ", live_dir, b"/timeline"], e),
    }
    let mut out = base::out::Out::stdout();
    timeline::write(&db, stamps, base::bootclock::read(), scratch, form, &mut out);
    out.flush();
    sys::exit(0)
}

/// Longruns whose supervisor disagrees with the live state:
/// `+NAME` up but recorded down, `-NAME` down but recorded up. Exit 1 if any.
fn diff(db: &Db, t: &Tables, live_dir: &[u8]) -> i32 {
    let mut code = 0;
    for i in 0..db.len() as u32 {
        let s = db.svc(i);
        if s.kind() != Kind::Longrun {
            continue;
        }
        let scandir = path(live_dir, &[b"/scandir"]);
        let Ok(dir) = live::service_dir(db, scandir.as_bytes(), i) else {
            continue;
        };
        let up = status::read(dir.as_bytes())
            .map(|st| st.is_up())
            .unwrap_or(false);
        let recorded = t.state.get(i as usize) == Some(&1);
        if up != recorded {
            code = 1;
            line(&[if up { b"+" } else { b"-" }, s.name()]);
        }
    }
    code
}

linker::entry!(main);
