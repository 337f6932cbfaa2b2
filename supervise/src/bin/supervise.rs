//! rinit-supervise: keeps one service running, as s6-supervise does.
//!
//! It goes into the service directory, claims `supervise/` (lock, control
//! FIFO, status, death tally) and the `event/` fifodir, holds a pipeline
//! member's pipes, runs `./run` and restarts it when it dies, and obeys
//! s6-svc's letters on the control FIFO. It waits in one `poll` on its
//! signals, the control FIFO and the readiness pipe and the sd_notify
//! socket, with the nearest deadline as the timeout.
#![no_std]
#![no_main]

use base::servicedir as sd;
use base::sys::{self, errno, sig, Args, Fd, FileType, Open, OwnedFd, PollFd, SigSet};
use base::{err, fifodir};
use rinit_supervise::{cgroup, deathtally};
use rinit_supervise::service::Service;

const USAGE: &[u8] = b"rinit-supervise servicedir";

/// The signals the supervisor handles itself, through its signalfd.
const SIGNALS: SigSet = SigSet::of(&[sig::CHLD, sig::TERM, sig::HUP, sig::QUIT, sig::INT]);

// The supervisor's arguments, environment and stack, in its own data
// (`sys::run_in_one_region`): a guard page, the stack (with room for a
// spawned child's and a margin: base::spawn's frames are deep), then
// strings of up to about 30 KiB; more, and it stays on the kernel's stack.
// Only the pages used are resident.
#[cfg(feature = "one-region")]
base::region!(REGION, 64 << 10);

/// Least room below its moved arguments for the stack move to be made. The
/// supervisor's frames take about 1.8 KiB down to its poll loop (2.5 KiB
/// with its service up), so with the strings of its arguments and an
/// environment of up to about 1 KiB they share one page with its statics
/// (the region's end, 3.5 KiB into a page: `base::region!`) for as long as
/// its service lives; a bigger environment takes a second page.
const STACK: usize = 1024;

#[cfg(feature = "one-region")]
fn main(args: Args) -> ! {
    sys::run_in_one_region(args, &REGION, STACK, supervise)
}

/// The lean build: only the stack moves, into the strings' page.
#[cfg(not(feature = "one-region"))]
fn main(args: Args) -> ! {
    sys::run_in_strings_page(args, STACK, supervise)
}

fn supervise(args: Args) -> ! {
    err::set_prog(b"rinit-supervise");
    let Some(dir) = args.get(1) else { err::usage(USAGE) };
    // Every message names the service; a name too long for a message is
    // not repeated in it.
    let name = dir.to_bytes();
    let short = name.len() <= 256;
    if short {
        err::set_subject(name);
    }
    cgroup::find_tree();
    if let Err(e) = sys::chdir(dir) {
        fatal(b"chdir to ", if short { name } else { b"the service directory" }, e);
    }
    let control = claim_supervise_dir();
    cgroup::enter(dir);
    hold_pipes();
    let sigfd = take_signals();
    let down = sd::is_down(b".").unwrap_or_else(|e| fatal(b"check ", b"./down", e));

    let mut svc = Service::new(dir, down);
    svc.begin();
    while svc.running() {
        let (ready, notify) = (PollFd::read_if(svc.ready_fd()), PollFd::read_if(svc.notify_fd()));
        let mut fds = [PollFd::read(sigfd.fd()), PollFd::read(control.fd()), ready, notify];
        if let Err(e) = sys::poll(&mut fds, svc.timeout_ms(sys::now_mono_ns())) {
            fatal(b"poll", b"", e);
        }
        svc.tick(sys::now_mono_ns());
        if fds[2].ready {
            svc.readiness();
        }
        if fds[3].ready {
            svc.notified();
        }
        if fds[0].ready {
            take_pending_signals(sigfd.fd(), &mut svc);
        }
        if fds[1].ready {
            read_commands(control.fd(), &mut svc);
        }
    }
    cgroup::remove(dir);
    svc.event(b"x");
    sys::exit(0)
}

/// `rinit-supervise: fatal: unable to VERB PATH: ERROR`, exit 111.
fn fatal(verb: &[u8], path: &[u8], e: sys::Errno) -> ! {
    err::fatal_unable(err::EXIT_SYS, &[verb, path], e)
}

/// Makes `event/` and `supervise/`, takes the lock (a second supervisor
/// exits 100), opens the control FIFO (and keeps it open for writing, so
/// writers never see it unread while we live), and starts a new death
/// tally. Returns the FIFO's read end.
#[inline(never)]
fn claim_supervise_dir() -> OwnedFd {
    const CONTROL: &core::ffi::CStr = c"supervise/control";
    let old_umask = sys::umask(0);
    if let Err(e) = fifodir::create_c(c"event", Some(sys::getegid())) {
        fatal(b"create ", b"event", e);
    }
    if let Err(e) = sys::mkdir(c"supervise", 0o700).or_else(|e| if e == errno::EEXIST { Ok(()) } else { Err(e) }) {
        fatal(b"create ", b"supervise", e);
    }
    // 0644 as s6-supervise's: supervise/ (0700) already keeps others out.
    // The lock is held for the supervisor's life (s6's tools test it): its
    // descriptor is never closed, which would drop the lock.
    let locked = sys::open(c"supervise/lock", Open::WRONLY | Open::CREATE | Open::NONBLOCK, 0o644)
        .map(OwnedFd::into_raw)
        .and_then(sys::lock_record_nb);
    match locked {
        Ok(true) => {}
        Ok(false) => err::fatal(err::EXIT_USAGE, &[b"another instance of rinit-supervise is already running"]),
        Err(e) => fatal(b"lock ", b"supervise/lock", e),
    }
    if let Err(e) = sys::mkfifo(CONTROL, 0o600) {
        if e != errno::EEXIST {
            fatal(b"create ", CONTROL.to_bytes(), e);
        }
        if !sys::lstat(CONTROL).is_ok_and(|st| st.kind == FileType::Fifo) {
            err::fatal(err::EXIT_USAGE, &[b"supervise/control exists and is not a FIFO: remove it"]);
        }
    }
    let control = sys::open(CONTROL, Open::RDONLY | Open::NONBLOCK, 0)
        // The writer is held for the supervisor's life, never closed.
        .and_then(|fd| sys::open(CONTROL, Open::WRONLY | Open::NONBLOCK, 0).map(|w| {
            w.into_raw();
            fd
        }))
        .unwrap_or_else(|e| fatal(b"open ", CONTROL.to_bytes(), e));
    if let Err(e) = deathtally::clear() {
        fatal(b"truncate ", deathtally::FILE.to_bytes(), e);
    }
    sys::umask(old_umask);
    control
}

/// A pipeline member's ends (`pipe-in`, `pipe-out`, made by rinit-rc-init)
/// become our stdin and stdout, opened to read and write: every `run`
/// inherits them, opening never blocks, and each pipe outlives the
/// restarts of its readers and writers for as long as we live (s6-rc keeps
/// them in an fd holder), so no line in it is lost. A consumer not there
/// yet is fatal: the scanner starts us again a second later.
#[inline(never)]
fn hold_pipes() {
    for (name, to) in [(sd::PIPE_IN, sys::STDIN), (sd::PIPE_OUT, sys::STDOUT)] {
        match sys::open(name, Open::RDWR, 0) {
            Ok(fd) => {
                // A fresh descriptor onto 0 or 1 cannot fail.
                let _ = sys::dup2(fd.fd(), to);
            }
            // Absent, not dangling: no pipeline member.
            Err(errno::ENOENT) if sys::open(name, Open::PATH | Open::NOFOLLOW, 0).is_err() => {}
            Err(e) => fatal(b"open ./", name.to_bytes(), e),
        }
    }
}

/// Blocks the handled signals and returns the signalfd that delivers them;
/// SIGPIPE is ignored (fifodir listeners may vanish). The handled ones get
/// their default disposition first: one inherited as ignored (INT and QUIT
/// in a shell's background job) would never reach the signalfd, nor
/// behave normally in `run`.
#[inline(never)]
fn take_signals() -> OwnedFd {
    for s in [sig::CHLD, sig::TERM, sig::HUP, sig::QUIT, sig::INT] {
        // Valid constant signal numbers: these cannot fail.
        let _ = sys::sig_default(s, true);
    }
    sys::sig_default(sig::PIPE, false)
        .and_then(|_| sys::sig_block(SIGNALS))
        .and_then(|_| sys::signalfd(SIGNALS))
        .unwrap_or_else(|e| fatal(b"set up ", b"signals", e))
}

fn take_pending_signals(sigfd: Fd, svc: &mut Service) {
    while let Ok(Some(s)) = sys::signalfd_read(sigfd) {
        if s != sig::CHLD {
            svc.signal(s);
            continue;
        }
        while let Ok(Some((pid, ws))) = sys::wait_any_nohang() {
            svc.child_died(pid, ws);
        }
    }
}

fn read_commands(control: Fd, svc: &mut Service) {
    let mut buf = [0u8; 64];
    while let Ok(n) = sys::read(control, &mut buf) {
        if n == 0 {
            break;
        }
        for &c in buf.iter().take(n) {
            svc.command(c);
        }
    }
}

// Its own name always: the scanner starts it as rinit-supervise, under
// s6-svscan's name too, and it counts against the image's 64 KiB.
linker::entry!(no_s6_name, main, linker::exit_after_panic);
