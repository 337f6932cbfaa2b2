//! rinit-status: one table of every supervised service of a scan
//! directory (`/run/service` by default), loggers under their service: its
//! state, pid, for how long, ready since, restarts and last exit from the
//! death tally, and the wanted state. With a live rinit-rc state (`-l`, or
//! `/run/rinit-rc` when it exists), each service's type and whether
//! rinit-rc counts it up, oneshots and bundles included. With a cgroup per
//! service (`.s6-svscan/cgroup`), the memory and the processes its cgroup
//! counts (`memory.current`, `pids.current`). `-j`: one JSON
//! object per line. Only s6's formats are read, so a tree supervised by
//! s6-supervise shows as well; a directory that cannot be read is a row
//! saying why, never the end of the table.
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options};
use base::sys::{self, errno, Args, StaticCell};
use base::tai64n::Tai64n;
use rc::db::MAX_SERVICES;
use rc::live;

use rinit_supervise::scandir;
use rinit_supervise::statusrow::{self, Rc, Rows, State, MAX_ROWS};
use rinit_supervise::statustable::{self, Shown};
use rinit_supervise::statustext::Line;

const USAGE: &[u8] = b"rinit-status [ -l live ] [ -j ] [ scandir ]";
/// The scan directory when none is given.
const DEFAULT_SCANDIR: &core::ffi::CStr = c"/run/service";

static ROWS: StaticCell<Rows> = StaticCell::new(Rows::new());
static STATE: StaticCell<[u8; MAX_SERVICES]> = StaticCell::new([0; MAX_SERVICES]);

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-status");
    let mut live_dir: Option<&[u8]> = None;
    let mut json = false;
    let mut opts = Options::new(args, b"l:j");
    for o in &mut opts {
        match o {
            Opt::Value(b'l', v) => live_dir = Some(v),
            Opt::Flag(b'j') => json = true,
            _ => err::usage(USAGE),
        }
    }
    let scan_c = args.get(opts.operands()).unwrap_or(DEFAULT_SCANDIR);
    let scan = scan_c.to_bytes();
    if args.get(opts.operands() + 1).is_some() {
        err::usage(USAGE);
    }
    let (Some(rows), Some(state)) = (ROWS.take(), STATE.take()) else { sys::exit(err::EXIT_SYS) };

    // The live state first: its path may be relative to where we started.
    let db = read_live(live_dir, state);

    if let Err(e) = sys::chdir(scan_c) {
        err::fatal_unable(err::EXIT_SYS, &[b"open the scan directory ", scan], e);
    }
    // A cgroup per service: a file that names none is no error here.
    let tree_fd = base::cgroup::open_tree().ok().flatten();
    let tree = tree_fd.as_ref().map(sys::OwnedFd::fd);
    let r = sys::open_dir(c".").and_then(|d| {
        
        sys::read_dir(d.fd(), &mut |name, kind, _| {
            let n = name.to_bytes();
            if n.first() == Some(&b'.') || !scandir::is_dir(name, kind) {
                return;
            }
            add_service(rows, name, tree);
            let mut log = Line::new();
            log.push(n).push(b"/log\0");
            if let Some(log) = sys::cstr(log.as_bytes())
                && sys::is_dir(log)
            {
                add_service(rows, log, tree);
            }
        })
    });
    if let Err(e) = r {
        err::fatal_unable(err::EXIT_SYS, &[b"read the scan directory ", scan], e);
    }

    if let Some(db) = &db {
        add_rc_view(rows, db, state);
    }
    let shown = Shown { rc: db.is_some(), cgroup: tree.is_some() };
    rows.sort();
    statustable::print(rows, shown, &Tai64n::now(), json);
    if rows.dropped > 0 {
        err::too_many(b"services in the table", MAX_ROWS);
    }
    sys::exit(0)
}

/// A row for the service directory `dir` (`NAME` or `NAME/log`), with
/// its cgroup's figures when the tree has a cgroup per service.
#[inline(never)]
fn add_service(rows: &mut Rows, dir: &core::ffi::CStr, tree: Option<sys::Fd>) {
    if let Some(row) = rows.add(dir.to_bytes()) {
        statusrow::read_service(row, dir);
        if let Some(t) = tree {
            statusrow::read_cgroup(row, t, dir.to_bytes());
        }
    }
}

/// The database and the up/down state of the live directory: the one
/// asked for (`-l`: its absence is fatal), or the default one if it exists.
#[inline(never)]
fn read_live(asked: Option<&'static [u8]>, state: &mut [u8; MAX_SERVICES]) -> Option<rc::db::Db<'static>> {
    let dir = asked.unwrap_or(live::DEFAULT_LIVE);
    // The path as the kernel takes it, made in the line buffer (as the
    // loggers' paths are): no PathBuf's code for one path.
    let mut path = Line::new();
    path.push(dir).byte(0);
    let r = match sys::cstr(path.as_bytes()) {
        Some(c) => live::open_to_show(c, state),
        None => Err(live::ShowError::Db(live::OpenError::Sys(errno::ENAMETOOLONG))),
    };
    match r {
        Ok(db) => Some(db),
        Err(live::ShowError::Db(live::OpenError::Sys(errno::ENOENT))) if asked.is_none() => None,
        Err(e) => err::fatal(err::EXIT_SYS, &[b"unable to read ", dir, e.file(), b": ", e.words()]),
    }
}

/// Marks each row rinit-rc knows with its type and up/down, and adds a
/// row for what has no service directory (oneshots, bundles, a longrun
/// missing from the scan directory).
fn add_rc_view(rows: &mut Rows, db: &rc::db::Db, state: &[u8; MAX_SERVICES]) {
    let is_up = |i: u32| state.get(i as usize) == Some(&1);
    for i in 0..db.len() as u32 {
        let s = db.svc(i);
        let kind = s.kind();
        let longrun = kind == rc::db::Kind::Longrun;
        let deps = s.deps();
        // A bundle is up when all it contains is.
        let up = if kind == rc::db::Kind::Bundle { (0..deps.len()).all(|k| is_up(deps.get(k))) } else { is_up(i) };
        let mut name = Line::new();
        match live::log_of(db, i) {
            Some(p) => name.push(db.svc(p).name()).push(b"/log"),
            None => name.push(s.name()),
        };
        // Only a longrun has a service directory, hence a row already.
        let row = match rows.find(name.as_bytes()).filter(|_| longrun) {
            Some(row) => row,
            None => {
                let Some(row) = rows.add(name.as_bytes()) else {
                    continue;
                };
                row.state = if longrun { State::Unsupervised } else { State::NotLongrun };
                row
            }
        };
        row.rc = Rc { kind: Some(kind.name()), up };
    }
}

// No s6 program shows a table: no s6 name to answer to.
linker::entry!(no_s6_name, main, linker::exit_after_panic);
