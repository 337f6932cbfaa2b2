//! rinit-svwait: waits until supervised services are up, up and ready,
//! down, really down or restarted (all of them, or one with `-o`), as
//! s6-svwait: exit 0, 99 on timeout, n when n services will not reach the
//! state (permanent failure, or their supervisor exited). It closes its
//! stdout once subscribed to every service's events (rinit-svc -w waits
//! for that before it sends its commands).
#![no_std]
#![no_main]

use base::fmt;
use base::sys::{self, Args};
use base::wait::{self, Goal, Need, Outcome, Slot, Waiter};
use base::err;
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-svwait [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...";

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-svwait");
    let mut goal = Goal::Up;
    let mut need = Need::All;
    let mut timeout = 0;
    let mut opts = Options::new(args, b"uUdDrRaot:");
    for o in &mut opts {
        match o {
            Opt::Flag(b'a') => need = Need::All,
            Opt::Flag(b'o') => need = Need::Any,
            Opt::Flag(c) => goal = Goal::from_letter(c).unwrap_or_else(|| err::usage(USAGE)),
            Opt::Value(b't', ms) => timeout = fmt::parse_u64(ms).unwrap_or_else(|| err::usage(USAGE)),
            _ => err::usage(USAGE),
        }
    }
    let first = opts.operands();
    if args.get(first).is_none() {
        err::usage(USAGE);
    }

    // Two descriptors a service: a wait on hundreds needs more than the usual 1024.
    let _ = sys::raise_rlimit_to(sys::RLIMIT_NOFILE, (2 * (args.len() - first) + 16) as u64);
    let mut slots = [const { Slot::EMPTY }; wait::MAX_SERVICES];
    let mut w = Waiter::new(&mut slots, goal, need);
    for d in (first..args.len()).filter_map(|i| args.get(i)).map(|d| d.to_bytes()) {
        if let Err(e) = w.subscribe(d) {
            w.cancel();
            die(e, d);
        }
    }
    // Subscribed: closing stdout (nothing is printed there) tells a caller
    // holding the other end, rinit-svc -w, that it may act on the services.
    drop(sys::OwnedFd::from_raw(sys::STDOUT));
    // s6 counts 0 as "no timeout".
    match w.wait(if timeout > 0 { Some(timeout) } else { None }) {
        Ok(Outcome::Reached) => sys::exit(0),
        Ok(Outcome::TimedOut) => err::fatal(wait::EXIT_TIMEDOUT, &[b"timed out"]),
        Ok(o @ Outcome::Failed(_)) => err::fatal(o.exit_code(), FAILED),
        Err(e) => die(e, b""),
    }
}

fn die(e: wait::Error, dir: &[u8]) -> ! {
    let (what, no) = e.words();
    let code = if e == wait::Error::Full { err::EXIT_USAGE } else { err::EXIT_SYS };
    err::fatal_sys(code, &[what, dir], no)
}

const FAILED: &[&[u8]] = &[b"some services reported permanent failure or their supervisor died"];

linker::entry!(main);
