//! rinit-rc-init: makes the live state directory from a compiled database
//! and installs every longrun in the scan directory, down, supervised.
#![no_std]
#![no_main]

use base::control;
use base::err;
use base::sys::{self, Args, errno};
use rc::db::{Kind, MAX_SERVICES};
use rc::{install, live};
use rinit_rc as rc;
use rc::cli::{deadline, lock, open_db, path};
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

    let db = open_db(compiled);
    let live = path(live_dir, &[]);
    match sys::mkdir(live.as_cstr(), 0o755) {
        Ok(()) => {}
        Err(errno::EEXIST) => err::fatal(
            err::EXIT_USAGE,
            &[b"live directory ", live_dir, b" already exists"],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"create ", live_dir], e),
    }
    let _lock = lock(live_dir);

    // `live/compiled` points at the database rinit-rc reads from now on
    // (as s6-rc: the compiled directory must stay while it is live).
    let abs = match live::absolute(compiled) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"resolve ", compiled], e),
    };
    let link = path(live_dir, &[b"/compiled"]);
    if let Err(e) = sys::symlink(abs.as_cstr(), link.as_cstr()) {
        err::fatal_unable(err::EXIT_SYS, &[b"create ", link.as_bytes()], e);
    }
    let abs = match live::absolute(scandir) {
        Ok(p) => p,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"resolve ", scandir], e),
    };
    let link = path(live_dir, &[b"/scandir"]);
    if let Err(e) = sys::symlink(abs.as_cstr(), link.as_cstr()) {
        err::fatal_unable(err::EXIT_SYS, &[b"create ", link.as_bytes()], e);
    }
    // The oneshots run under the tree: its runner goes in (up) with the
    // longruns, and listens in `live/oneshot`, private to us.
    let runner = install::runner_program().unwrap_or_else(|e| {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to find ", rc::oneshot::RUNNER, b" beside rinit-rc-init or in PATH"], e)
    });
    let private = path(live_dir, &[b"/oneshot"]);
    if let Err(e) = sys::mkdir(private.as_cstr(), 0o700) {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to create ", private.as_bytes()], e);
    }
    let live_abs = match live::absolute(live_dir) {
        Ok(p) => p,
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to resolve ", live_dir], e),
    };
    if let Err(f) = install::runner(scandir, live_abs.as_bytes(), runner.as_bytes()) {
        f.fatal();
    }
    let state = [0u8; MAX_SERVICES];
    if let Err(f) = live::write_state(live_dir, db.len(), &state) {
        f.fatal();
    }

    // Every longrun goes in down; the scanner is told to look.
    let servicedirs = path(live_dir, &[b"/compiled/servicedirs"]);
    for i in 0..db.len() as u32 {
        if !install::is_top(&db, i) {
            continue;
        }
        if let Err(f) = install::install(&db, servicedirs.as_bytes(), scandir, i) {
            f.fatal();
        }
    }
    if let Err(e) = control::send_scanner(scandir, b"a") {
        err::fatal_unable(
            err::EXIT_SYS,
            &[b"tell the scanner of ", scandir, b" to rescan"],
            e,
        );
    }
    let end = deadline(timeout);
    let runner_dir = path(scandir, &[b"/", rc::oneshot::RUNNER]);
    while !install::ready(runner_dir.as_bytes()) {
        if end != 0 && sys::now_mono_ns() > end {
            err::fatal(err::EXIT_SYS, &[b"the scanner did not supervise ", runner_dir.as_bytes(), b" in time (is it running? is its service capacity exceeded?)"]);
        }
        sys::sleep_ms(2);
    }
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

linker::entry!(main);
