//! rinit-rc-update: switches the live state to a new compiled database
//! without a reboot (s6-rc-update's role).
//!
//! Each service of the old database is matched with the new one of the
//! same name, or the one the conversion file (`-f`) renames it to. It is
//! *replaced* (restarted) when it has no match, changes type, is asked to
//! (`restart`), or its definition changed: a longrun's service directory
//! (compared file by file), name or pipeline wiring, a oneshot's `up` or
//! `down` script; a producer goes with its consumer. Replaced services
//! that are up are stopped first, with their dependents, by the old
//! database (a changed oneshot's old `down` runs); replaced and vanished
//! longruns leave the scan directory and the new and replaced ones come
//! in (down); then the live directory is switched to the new database
//! (`switch`: a crash leaves it on one database or the other), and
//! everything that was up and still exists is brought up again by the new
//! one. `-n` prints what would be done.
#![no_std]
#![no_main]

use base::err;
use base::path::PathBuf;
use base::sys::{self, Args, Fd, StaticCell};
use core::sync::atomic::{AtomicU32, Ordering};
use rc::change::{self, get, set, Opts, Tables};
use rc::convert::Conv;
use rc::db::{Db, Kind, List, MAX_SERVICES};
use rc::{copy, install, live, switch};
use rinit_rc as rc;
use rc::cli::{deadline, line, lock, open_db, path, Common};
use base::options::{Opt, Options};

const USAGE: &[u8] =
    b"rinit-rc-update [ -v verbosity ] [ -t timeout ] [ -n ] [ -l live ] [ -f convfile ] [ -b ] newcompiled";

/// Test hook: with `RINIT_RC_UPDATE_STOP_AT=N` in its environment the
/// program kills itself (SIGKILL) at its Nth step, as a crash would there.
const STOP_AT: &[u8] = b"RINIT_RC_UPDATE_STOP_AT";

static TABLES: StaticCell<Tables> = StaticCell::new(Tables::new());
static CONV: StaticCell<Conv> = StaticCell::new(Conv::new());
static MARKS: StaticCell<Marks> = StaticCell::new(Marks {
    target: [0; MAX_SERVICES],
    source: [0; MAX_SERVICES],
    replaced: [0; MAX_SERVICES],
    bring_up: [0; MAX_SERVICES],
    new_state: [0; MAX_SERVICES],
});

struct Marks {
    /// By old index: 1 + its match's index in the new database, 0: none
    /// (zero at start: in .bss, not in the file).
    target: [u32; MAX_SERVICES],
    /// By new index: 1 + the index of the old service matched with it, 0:
    /// a new one.
    source: [u32; MAX_SERVICES],
    /// By old index: replaced or gone in the new database.
    replaced: [u8; MAX_SERVICES],
    /// By new index: to be up when the update is done.
    bring_up: [u8; MAX_SERVICES],
    /// By new index.
    new_state: [u8; MAX_SERVICES],
}

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-rc-update");
    let mut c = Common::new();
    let mut convfile = None;
    let mut block = false;
    let mut opts = Options::new(args, b"v:t:nl:f:b");
    for o in opts.by_ref() {
        match c.take(o, USAGE) {
            None => {}
            Some(Opt::Value(b'f', v)) => convfile = Some(v),
            Some(Opt::Flag(b'b')) => block = true,
            Some(_) => err::usage(USAGE),
        }
    }
    let Common { verbosity, timeout_ms, dry, live_dir } = c;
    let Some(newc) = args.get(opts.operands()) else {
        err::usage(USAGE)
    };
    let newc = newc.to_bytes();
    let end = deadline(timeout_ms);

    // The lock also finishes or undoes a switch a crash interrupted.
    let _lock = if block { wait_lock(live_dir) } else { lock(live_dir) };
    let oldc = path(live_dir, &[b"/compiled"]);
    let old = open_db(oldc.as_bytes());
    let new = open_db(newc);
    let (Some(t), Some(m), Some(conv)) = (TABLES.take(), MARKS.take(), CONV.take()) else {
        sys::exit(err::EXIT_SYS)
    };
    // Already switched (an update killed after its switch, run again):
    // the names are the new ones, what is left is to bring services up.
    if let Some(f) = convfile
        && !same_file(oldc.as_bytes(), newc)
    {
        read_conv(conv, f, &old, &new);
    }
    if let Err(e) = live::read_state(live_dir, old.len(), &mut t.state) {
        err::fatal_unable(err::EXIT_SYS, &[b"read ", live_dir, b"/state"], e);
    }
    let dir = match sys::open_dir(path(live_dir, &[]).as_cstr()) {
        Ok(d) => d,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"open ", live_dir], e),
    };
    let scandir = path(live_dir, &[b"/scandir"]);
    let old_sd = path(oldc.as_bytes(), &[b"/servicedirs"]);
    let new_sd = path(newc, &[b"/servicedirs"]);

    // 1. Who is who, and what is replaced.
    match_services(&old, &new, conv, m);
    mark_replaced(&old, &new, conv, m, old_sd.as_bytes(), new_sd.as_bytes());
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

    // 2. What is to be up at the end: what is up and still exists, and
    // what an interrupted update left to bring up; recorded before
    // anything stops.
    for i in 0..old.len() as u32 {
        if get(&t.state, i) != 0
            && let Some(n) = target(m, i)
        {
            set(&mut m.bring_up, n, 1);
        }
    }
    if let Err(e) = switch::read_pending(dir, &mut |name| {
        if let Some(s) = new.find(name) {
            set(&mut m.bring_up, s.index, 1);
        }
    }) {
        err::fatal_unable(err::EXIT_SYS, &[b"read ", live_dir, b"/pending"], e);
    }
    if !dry {
        let mut names = (0..new.len() as u32)
            .filter(|&j| get(&m.bring_up, j) != 0)
            .map(|j| new.svc(j).name());
        if let Err(e) = switch::write_pending(dir, &mut names) {
            err::fatal_unable(err::EXIT_SYS, &[b"write ", live_dir, b"/pending"], e);
        }
        step();
    }

    // 3. Stop what is replaced and up, with its dependents.
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if !dry && let Err(f) = live::write_state(live_dir, old.len(), st) {
            f.warn();
        }
    };
    let mut o = Opts {
        scandir: scandir.as_bytes(),
        live: live_dir,
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
    step();

    // 4. The scan directory: out with the replaced, in with the new.
    for i in 0..old.len() as u32 {
        if get(&m.replaced, i) != 0 && install::is_top(&old, i) {
            if let Err(f) = install::uninstall(&old, scandir.as_bytes(), i, end) {
                f.warn();
            }
            step();
        }
    }
    let is_new = |j: u32| match source(m, j) {
        Some(s) => get(&m.replaced, s) != 0,
        None => true,
    };
    for j in 0..new.len() as u32 {
        if install::is_top(&new, j) && is_new(j) {
            take_back_leftover(&new, scandir.as_bytes(), j, end);
            if let Err(f) = install::install(&new, new_sd.as_bytes(), scandir.as_bytes(), j) {
                f.fatal();
            }
            step();
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
    step();

    // 5. Switch the database, the state carried over to the new names.
    for j in 0..new.len() as u32 {
        let up = match source(m, j) {
            Some(s) if get(&m.replaced, s) == 0 => get(&t.state, s),
            _ => 0,
        };
        set(&mut m.new_state, j, up);
    }
    switch_to(live_dir, dir, newc, new.len(), &m.new_state);

    // 6. Bring up what is to be up.
    t.state.copy_from_slice(&m.new_state);
    t.plan.copy_from_slice(&m.bring_up);
    let mut save = |st: &[u8; MAX_SERVICES]| {
        if let Err(f) = live::write_state(live_dir, new.len(), st) {
            f.warn();
        }
    };
    let mut o = Opts {
        scandir: scandir.as_bytes(),
        live: live_dir,
        verbosity,
        dry_run: false,
        deadline: end,
        save: &mut save,
    };
    change::close(&new, t, true);
    change::restrict(&new, t, true, false);
    let failures = change::run(&new, t, true, &mut o);
    step();
    if let Err(e) = switch::clear_pending(dir) {
        err::warn_unable(&[b"remove ", live_dir, b"/pending"], e);
    }
    sys::exit(if failures == 0 { 0 } else { 1 })
}

/// Reads the conversion file, or ends with its line and the reason.
fn read_conv(conv: &mut Conv, f: &'static [u8], old: &Db, new: &Db) {
    let p = path(f, &[]);
    if let Err(b) = conv.read(p.as_cstr(), old, new) {
        let mut num = [0u8; 20];
        let (at, ln): (&[u8], &[u8]) = match b.line {
            0 => (b"", b""),
            n => (b" line ", base::fmt::u64_dec(n as u64, &mut num)),
        };
        let parts = [&b"conversion file "[..], f, at, ln, b": ", b.why, b.name.as_bytes()];
        match b.e {
            Some(e) => err::fatal_sys(b.code, &parts, e),
            None => err::fatal(b.code, &parts),
        }
    }
}

/// `-b`: the live directory's lock, waited for.
fn wait_lock(live_dir: &[u8]) -> Fd {
    loop {
        match live::lock(live_dir) {
            Ok(Some(fd)) => return fd,
            Ok(None) => sys::sleep_ms(10),
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"lock ", live_dir, b"/lock"], e),
        }
    }
}

/// Matches every atomic service of `old` with the service of `new` of its
/// name or its new name; two old services made one is a usage error.
fn match_services(old: &Db, new: &Db, conv: &Conv, m: &mut Marks) {
    for i in 0..old.len() as u32 {
        if old.svc(i).kind() == Kind::Bundle {
            continue;
        }
        let Some(n) = new.find(conv.new_name(old, i)) else {
            continue;
        };
        match m.source.get_mut(n.index as usize) {
            Some(s) if *s == 0 => *s = i + 1,
            Some(s) => {
                let other = old.svc(*s - 1).name();
                err::fatal(
                    err::EXIT_USAGE,
                    &[old.svc(i).name(), b" and ", other, b" would both become ", n.name()],
                )
            }
            None => continue,
        }
        if let Some(t) = m.target.get_mut(i as usize) {
            *t = n.index + 1;
        }
    }
}

/// Marks the old services that are replaced: no match, another type,
/// `restart` in the conversion file, or another definition (a longrun's
/// name, wiring or service directory; a oneshot's scripts).
fn mark_replaced(old: &Db, new: &Db, conv: &Conv, m: &mut Marks, old_sd: &[u8], new_sd: &[u8]) {
    for i in 0..old.len() as u32 {
        let s = old.svc(i);
        if s.kind() == Kind::Bundle {
            continue;
        }
        let n = target(m, i);
        let replaced = match n {
            None => true,
            Some(n) if new.svc(n).kind() != s.kind() => true,
            Some(_) if conv.restart(i) => true,
            Some(n) if s.kind() == Kind::Longrun => {
                let [a, b, c, ins] = wiring(old, i);
                let mapped = [a, b, c].map(|x| x.and_then(|o| target(m, o)));
                new.svc(n).name() != s.name()
                    || [mapped[0], mapped[1], mapped[2], ins] != wiring(new, n)
                    || !same_dir(old_sd, new_sd, s.name())
            }
            Some(n) => {
                !same_words(old, s.up(), new, new.svc(n).up())
                    || !same_words(old, s.down(), new, new.svc(n).down())
            }
        };
        set(&mut m.replaced, i, replaced as u8);
    }
}

fn target(m: &Marks, i: u32) -> Option<u32> {
    m.target.get(i as usize).copied().and_then(|n| n.checked_sub(1))
}

fn source(m: &Marks, j: u32) -> Option<u32> {
    m.source.get(j as usize).copied().and_then(|n| n.checked_sub(1))
}

/// The switch itself (see `switch`), a step between each of its moves.
fn switch_to(live_dir: &[u8], dir: Fd, newc: &[u8], n: usize, state: &[u8; MAX_SERVICES]) {
    let abs = match live::absolute(newc) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"resolve ", newc], e),
    };
    let fail = |e| -> ! { err::fatal_unable(err::EXIT_SYS, &[b"switch ", live_dir, b"/compiled"], e) };
    switch::begin(dir, abs.as_cstr()).unwrap_or_else(|e| fail(e));
    step();
    if let Err(f) = live::write_state_as(live_dir, switch::NEXT_STATE.to_bytes(), n, state) {
        f.fatal();
    }
    step();
    switch::commit(dir).unwrap_or_else(|e| fail(e));
    step();
    switch::settle(dir).unwrap_or_else(|e| fail(e));
    step();
}

/// A directory left in the scan directory by an update that was killed
/// after it installed longrun `j` (still down: it has its `down` file)
/// goes out before `j` comes in; anything else there is not ours, and
/// `install` refuses it.
fn take_back_leftover(db: &Db, scandir: &[u8], j: u32, end: u64) {
    let Ok(down) = PathBuf::join(scandir, &[b"/", db.svc(j).name(), b"/down"]) else {
        return;
    };
    if sys::lstat(down.as_cstr()).is_ok()
        && let Err(f) = install::uninstall(db, scandir, j, end)
    {
        f.warn();
    }
}

/// The test hook's step counter (see `STOP_AT`).
fn step() {
    static DONE: AtomicU32 = AtomicU32::new(0);
    let n = DONE.fetch_add(1, Ordering::Relaxed) + 1;
    let Some(at) = sys::getenv(STOP_AT).and_then(|v| base::fmt::parse_u64(v.to_bytes())) else {
        return;
    };
    if at == n as u64 {
        // The kill ends the program here; it cannot fail on itself.
        let _ = sys::kill(sys::getpid(), sys::sig::KILL);
    }
}

/// What a longrun's installed directory depends on besides its own
/// files: the producer it logs for and its logger (a pair), the consumer
/// its `pipe-out` names, and whether it has a `pipe-in` (as a fourth
/// entry, Some or None).
fn wiring(db: &Db, k: u32) -> [Option<u32>; 4] {
    [
        live::log_of(db, k),
        live::logger_of(db, k),
        db.svc(k).producer_for(),
        (!db.svc(k).consumer_for().is_empty()).then_some(0),
    ]
}

/// Are two scripts (argv lists) word for word the same?
fn same_words(a: &Db, x: List, b: &Db, y: List) -> bool {
    x.len() == y.len()
        && x.iter().zip(y.iter()).all(|(p, q)| {
            a.cstr_nul(p).map(|c| c.to_bytes()) == b.cstr_nul(q).map(|c| c.to_bytes())
        })
}

/// Are `a/db` and `b/db` one file?
fn same_file(a: &[u8], b: &[u8]) -> bool {
    let db = |d: &[u8]| PathBuf::join(d, &[b"/db"]).ok().and_then(|p| sys::stat(p.as_cstr()).ok());
    match (db(a), db(b)) {
        (Some(x), Some(y)) => x.dev == y.dev && x.ino == y.ino,
        _ => false,
    }
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
