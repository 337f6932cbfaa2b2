//! rinit-svc: sends s6-svc's command letters to the supervisors of the
//! service directories. With `-w`, as s6-svc hands the wait to
//! s6-svlisten1, it starts `rinit-svwait` first, sends the letters once
//! that has subscribed to the services' events (it closes its stdout
//! then), and exits as it does.
#![no_std]
#![no_main]

use base::fmt::{self, Buf};
use base::path::PathBuf;
use base::spawn::Spawn;
use base::sys::{self, errno, sig, Args, ArgvBuf, Errno, Fd, Open, Pid};
use base::{control, err, wait};
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -abqhkti12pcyrlPCKoduDUxOQ ] servicedir...";

/// Most command letters sent in one call.
pub const MAX_COMMANDS: usize = 64;
/// Most service directories one `-w` call waits for (rinit-svwait's capacity).
pub const MAX_WAIT: usize = wait::MAX_SERVICES;

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-svc");
    let mut letters = Buf::<MAX_COMMANDS>::new();
    let mut goal = None;
    let mut timeout = None;
    let mut opts = Options::new(args, b"w:T:abqhkti12pcyrlPCKoduDUxOQ");
    for o in &mut opts {
        match o {
            Opt::Flag(c) => {
                letters.byte(c);
            }
            Opt::Value(b'w', &[g]) if matches!(g, b'u' | b'U' | b'd' | b'D' | b'r' | b'R') => goal = Some(g),
            Opt::Value(b'T', ms) => timeout = Some(fmt::parse_u64(ms).unwrap_or_else(|| err::usage(USAGE))),
            _ => err::usage(USAGE),
        }
    }
    if letters.overflowed {
        err::too_many(b"commands", MAX_COMMANDS);
    }
    let first = opts.operands();
    if args.get(first).is_none() {
        err::usage(USAGE);
    }

    // Subscribe before acting, so the state change cannot be missed.
    let waiter = goal.map(|g| start_waiter(args, first, g, timeout));

    for d in (first..args.len()).filter_map(|i| args.get(i)).map(|d| d.to_bytes()) {
        if let Err(e) = control::send(d, letters.as_bytes()) {
            if let Some((pid, _)) = waiter {
                // The waiter may have ended already (ESRCH): nothing to stop.
                let _ = sys::kill(pid, sig::TERM);
            }
            not_controlled(d, e);
        }
        keep_down_file(d, letters.as_bytes());
    }

    match waiter {
        None => sys::exit(0),
        Some((_, Some(code))) => sys::exit(code),
        Some((pid, None)) => match sys::wait_pid(pid) {
            Ok(st) => sys::exit(st.exited().map(i32::from).unwrap_or(err::EXIT_SYS)),
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"wait for rinit-svwait"], e),
        },
    }
}

/// Starts `rinit-svwait -<goal> [-t ms] dirs...` with its stdout on a pipe
/// and returns once it has subscribed (closed the pipe): its pid, and its
/// exit code if it has already ended (the goal held at once).
fn start_waiter(args: Args, first: usize, goal: u8, timeout: Option<u64>) -> (Pid, Option<i32>) {
    let goal = readiness_or_not(args, first, goal);
    let flag = [b'-', goal, 0];
    let mut ms = Buf::<24>::new();
    ms.u64(timeout.unwrap_or(0)).byte(0);
    let mut argv = ArgvBuf::<{ MAX_WAIT + 6 }>::new();
    let mut ok = argv.push(c"rinit-svwait");
    ok &= sys::cstr(&flag).is_some_and(|f| argv.push(f));
    ok &= argv.push(c"-t") && sys::cstr(ms.as_bytes()).is_some_and(|t| argv.push(t));
    ok &= argv.push(c"--");
    for i in first..args.len() {
        ok &= args.get(i).is_some_and(|d| argv.push(d));
    }
    if !ok {
        err::too_many(b"services to wait for", MAX_WAIT);
    }
    // rinit-svwait is next to this program, or in PATH.
    let me = args.get(0).map(|a| a.to_bytes()).unwrap_or(b"");
    let dir = me.iter().rposition(|&c| c == b'/').and_then(|i| me.get(..i + 1));
    let path = dir.map(|d| PathBuf::join(d, &[b"rinit-svwait"]));

    let (r, w) = sys::pipe().unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"create a pipe"], e));
    let mut s = Spawn::new();
    s.fd_move(w, sys::STDOUT);
    let started = match &path {
        Some(Ok(p)) => s.exec(p.as_cstr(), argv.as_argv()),
        Some(Err(e)) => Err(*e),
        None => s.search_path().exec(c"rinit-svwait", argv.as_argv()),
    };
    let pid = started.unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"spawn rinit-svwait"], e));
    sys::close(w);
    drain_until_closed(r);
    // Gone already: either it could not subscribe (100, 111: then nothing
    // is sent) or the goal held from the start (sent all the same).
    match sys::wait_pid_nohang(pid) {
        Ok(Some(st)) => match st.exited() {
            Some(c) if c != 100 && c != 111 => (pid, Some(c as i32)),
            Some(c) => sys::exit(c as i32),
            None => sys::exit(err::EXIT_SYS),
        },
        _ => (pid, None),
    }
}

fn drain_until_closed(r: Fd) {
    let mut b = [0u8; 64];
    while let Ok(n) = sys::read(r, &mut b) {
        if n == 0 {
            break;
        }
    }
    sys::close(r);
}

/// Readiness cannot be waited for where there is no `notification-fd`
/// (s6-supervise 2.11 never marks such a service ready): say so and wait
/// for up only, as s6-svc does.
fn readiness_or_not(args: Args, first: usize, goal: u8) -> u8 {
    if goal != b'U' && goal != b'R' {
        return goal;
    }
    let mut out = goal;
    for d in (first..args.len()).filter_map(|i| args.get(i)).map(|d| d.to_bytes()) {
        let p = PathBuf::join(d, &[b"/notification-fd"]);
        if let Ok(false) = p.and_then(|p| sys::exists(p.as_cstr())) {
            err::warn(&[d, b"/notification-fd not present - ignoring request for readiness notification"]);
            out = goal.to_ascii_lowercase();
        }
    }
    out
}

/// `D` and `Q` leave a `down` file, `U` removes it (as s6-svc 2.15 does;
/// s6-supervise 2.11 and rinit-supervise do it too): the next start of the
/// supervisor then keeps the wanted state.
fn keep_down_file(dir: &[u8], letters: &[u8]) {
    let Some(&last) = letters.iter().rev().find(|c| matches!(c, b'D' | b'Q' | b'U')) else { return };
    let r = PathBuf::join(dir, &[b"/down"]).and_then(|p| {
        if last == b'U' {
            match sys::unlink(p.as_cstr()) {
                Err(errno::ENOENT) => Ok(()),
                r => r,
            }
        } else {
            sys::open(p.as_cstr(), Open::WRONLY | Open::CREATE, 0o644).map(sys::close)
        }
    });
    if let Err(e) = r {
        err::fatal_unable(err::EXIT_SYS, &[b"update ", dir, b"/down"], e);
    }
}

/// s6-svc's words and exit codes when the command could not be sent: a
/// directory no supervisor has run in is "not listening" (100), one whose
/// `supervise/` lacks its FIFO is broken (100), a missing one is an error (111).
fn not_controlled(dir: &[u8], e: Errno) -> ! {
    let exists = |rel: &[u8]| PathBuf::join(dir, &[rel]).is_ok_and(|p| sys::stat(p.as_cstr()).is_ok());
    if e == errno::ENOENT && exists(b"/supervise") {
        err::fatal_sys(err::EXIT_USAGE, &[b"something is wrong with the ", dir, b"/supervise directory"], e);
    }
    if e == errno::ENXIO || (e == errno::ENOENT && exists(b"/.")) {
        err::fatal(err::EXIT_USAGE, &[b"unable to control ", dir, b": supervisor not listening"]);
    }
    err::fatal_unable(err::EXIT_SYS, &[b"control ", dir], e)
}

linker::entry!(main);
