//! rinit-shutdown: asks the shutdown daemon to halt, power off or reboot.
//! One program under several names (the basedir's `bin/` links to it):
//!   shutdown [ -h | -p | -r ] [ -f ] [ -a ] [ -t sec ] [ now | [+]mins | hh:mm ]
//!   shutdown -c                      cancel a pending delayed shutdown
//!   halt | poweroff | reboot [ -f ]
//!   SIGTERM, SIGINT, SIGPWR, SIGUSR1, SIGUSR2: the scanner's signal
//!   handlers (`.s6-svscan/SIGxxx` links), with busybox init's meaning:
//!   TERM and INT (Ctrl-Alt-Del) reboot, USR1 halts, USR2 and PWR power off
//!   (in a container every action means: stop the container).
//! As pid 1 (the scanner's `.s6-svscan/finish` and `crash` are links to it)
//! it is the end of stage 3: TERM, grace, KILL, unmount, reboot(2) or exit.
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options};
use base::fmt;
use base::sys::{self, errno, Args, RebootAction};
use rinit_init::request::{self, Action, Request};
use rinit_init::layout;

/// How long to wait for a shutdown daemon that is still starting (ms).
const STARTING_PATIENCE_MS: u64 = 3000;

const USAGE: &[u8] = b"rinit-shutdown [ -h | -p | -r ] [ -f ] [ -a ] [ -t sec ] [ now | [+]mins | hh:mm ] | -c";

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-shutdown");
    if sys::getpid() == 1 {
        rinit_init::shutdown::finish();
    }
    let argv0 = args.get(0).map(|a| a.to_bytes()).unwrap_or(b"");
    let mut r = Request {
        action: Action::PowerOff,
        grace_ms: request::GRACE_DEFAULT,
        delay_ms: 0,
    };
    let mut force = false;
    let mut shutdown_syntax = false;
    match layout::basename(argv0) {
        b"halt" | b"SIGUSR1" => r.action = Action::Halt,
        b"reboot" | b"SIGTERM" | b"SIGINT" => r.action = Action::Reboot,
        b"poweroff" | b"SIGUSR2" | b"SIGPWR" => {}
        _ => shutdown_syntax = true,
    }
    let mut opts = Options::new(args, b"hHpPrcfFat:");
    for o in &mut opts {
        match o {
            Opt::Flag(b'h' | b'H') => r.action = Action::Halt,
            Opt::Flag(b'p' | b'P') => r.action = Action::PowerOff,
            Opt::Flag(b'r') => r.action = Action::Reboot,
            Opt::Flag(b'c') => r.action = Action::Cancel,
            Opt::Flag(b'f' | b'F') => force = true,
            // Access control needs utmp, which rinit does not keep: accepted, no effect.
            Opt::Flag(_) => {}
            Opt::Value(_, v) => match fmt::parse_u64(v) {
                Some(s) => r.grace_ms = s.saturating_mul(1000),
                None => err::usage(USAGE),
            },
            Opt::Bad(_) => err::usage(USAGE),
        }
    }
    let i = opts.operands();
    if shutdown_syntax {
        if let Some(t) = args.get(i) {
            r.delay_ms = parse_time(t.to_bytes()).unwrap_or_else(|| err::usage(USAGE));
        }
    }
    if force {
        sys::sync();
        let how = match r.action {
            Action::Halt => RebootAction::Halt,
            Action::Reboot => RebootAction::Reboot,
            _ => RebootAction::PowerOff,
        };
        let e = sys::reboot(how).err().unwrap_or(errno::EINVAL);
        err::fatal_unable(err::EXIT_SYS, &[r.action.name()], e);
    }
    // A daemon that is still starting gets a moment; no daemon at all, none.
    let patience = if sys::lstat(layout::SHUTDOWND_DIR).is_ok() { STARTING_PATIENCE_MS } else { 0 };
    match request::send_patiently(&r, patience) {
        Ok(()) => sys::exit(0),
        Err(e @ (errno::ENXIO | errno::ENOENT)) => err::fatal_sys(
            err::EXIT_SYS,
            &[b"the shutdown daemon is not listening on ", layout::SHUTDOWND_FIFO.to_bytes(), b" (use -f to force)"],
            e,
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"write to ", layout::SHUTDOWND_FIFO.to_bytes()], e),
    }
}

/// `now`, `[+]mins`, or `hh:mm` (UTC: rinit reads no time zone) → delay in ms.
fn parse_time(t: &[u8]) -> Option<u64> {
    if t == b"now" {
        return Some(0);
    }
    if let Some(c) = t.iter().position(|&c| c == b':') {
        let h = fmt::parse_u64(t.get(..c)?)?;
        let mm = t.get(c + 1..)?;
        let m = fmt::parse_u64(mm)?;
        if h > 23 || m > 59 || mm.len() != 2 {
            return None;
        }
        let (now, _) = sys::now_real();
        let today = now % 86400;
        let at = h * 3600 + m * 60;
        let secs = if at >= today { at - today } else { at + 86400 - today };
        return Some(secs * 1000);
    }
    let m = fmt::parse_u64(t.strip_prefix(b"+").unwrap_or(t))?;
    Some(m.saturating_mul(60_000))
}

linker::entry!(main, rinit_init::stage1::last_resort);
