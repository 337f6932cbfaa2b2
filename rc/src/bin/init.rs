//! rinit-rc-init: makes the live state directory from a compiled database
//! and installs every longrun in the scan directory, down, supervised.
#![no_std]
#![no_main]

use base::control;
use base::err;
use base::path::PathBuf;
use base::sys::{self, Args, errno};
use rc::db::{Kind, MAX_SERVICES};
use rc::{install, live};
use rinit_rc as rc;
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-rc-init [ -c compiled ] [ -l live ] [ -t timeout ] scandir";

/// How long to wait for the scanner to supervise every longrun, by default (ms).
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-rc-init");
    let mut compiled: &[u8] = live::DEFAULT_COMPILED;
    let mut live_dir: &[u8] = live::DEFAULT_LIVE;
    let mut timeout = DEFAULT_TIMEOUT_MS;
    let mut opts = Options::new(args, b"c:l:t:");
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'c', v) => compiled = v,
            Opt::Value(b'l', v) => live_dir = v,
            Opt::Value(b't', v) => {
                timeout = base::fmt::parse_u64(v).unwrap_or_else(|| err::usage(USAGE))
            }
            _ => err::usage(USAGE),
        }
    }
    let Some(scandir) = args.get(opts.operands()) else {
        err::usage(USAGE)
    };
    let scandir = scandir.to_bytes();

    let db = match live::open_db(compiled) {
        Ok(db) => db,
        Err(e) => err::fatal(
            err::EXIT_SYS,
            &[b"unable to read database ", compiled, b"/db: ", e.words()],
        ),
    };
    let live = path(live_dir, &[]);
    match sys::mkdir(live.as_cstr(), 0o755) {
        Ok(()) => {}
        Err(errno::EEXIST) => err::fatal(
            err::EXIT_USAGE,
            &[b"live directory ", live_dir, b" already exists"],
        ),
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to create ", live_dir], e),
    }
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
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to lock ", live_dir], e),
    };

    // `live/compiled` points at the database rinit-rc reads from now on
    // (as s6-rc: the compiled directory must stay while it is live).
    let abs = match live::absolute(compiled) {
        Ok(p) => p,
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to resolve ", compiled], e),
    };
    let link = path(live_dir, &[b"/compiled"]);
    if let Err(e) = sys::symlink(abs.as_cstr(), link.as_cstr()) {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to create ", link.as_bytes()], e);
    }
    let abs = match live::absolute(scandir) {
        Ok(p) => p,
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to resolve ", scandir], e),
    };
    let link = path(live_dir, &[b"/scandir"]);
    if let Err(e) = sys::symlink(abs.as_cstr(), link.as_cstr()) {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to create ", link.as_bytes()], e);
    }
    let state = [0u8; MAX_SERVICES];
    if let Err(f) = live::write_state(live_dir, db.len(), &state) {
        err::fatal_sys(
            err::EXIT_SYS,
            &[b"unable to ", f.what, f.path.as_bytes()],
            f.e,
        );
    }

    // Every longrun goes in down; the scanner is told to look.
    let servicedirs = path(live_dir, &[b"/compiled/servicedirs"]);
    for i in 0..db.len() as u32 {
        if !install::is_top(&db, i) {
            continue;
        }
        match install::install(&db, servicedirs.as_bytes(), scandir, i) {
            Ok(false) => {}
            Ok(true) => err::warn(&[
                b"pipeline member ",
                db.svc(i).name(),
                b" installed unwired (only producer/consumer pairs are wired)",
            ]),
            Err(f) => err::fatal_sys(
                err::EXIT_SYS,
                &[b"unable to ", f.what, f.path.as_bytes()],
                f.e,
            ),
        }
    }
    if let Err(e) = control::send_scanner(scandir, b"a") {
        err::fatal_sys(
            err::EXIT_SYS,
            &[b"unable to tell the scanner of ", scandir, b" to rescan"],
            e,
        );
    }
    let end = if timeout == 0 {
        0
    } else {
        sys::now_mono_ns() + timeout * 1_000_000
    };
    for i in 0..db.len() as u32 {
        if db.svc(i).kind() != Kind::Longrun {
            continue;
        }
        if let Err(dir) = install::wait_supervised(&db, scandir, i, end) {
            err::fatal(
                err::EXIT_SYS,
                &[
                    b"the scanner did not supervise ",
                    dir.as_bytes(),
                    b" in time (is it running? is its service capacity exceeded?)",
                ],
            );
        }
    }
    sys::exit(0)
}

fn path(a: &[u8], parts: &[&[u8]]) -> PathBuf {
    match PathBuf::join(a, parts) {
        Ok(p) => p,
        Err(e) => err::fatal_sys(err::EXIT_USAGE, &[b"path too long: ", a], e),
    }
}

linker::entry!(main);
