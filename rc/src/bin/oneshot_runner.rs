//! rinit-oneshot-runner: runs rinit-rc's oneshots under the supervision
//! tree (the role of s6-rc's `s6rc-oneshot-runner` service), so that they
//! get the tree's environment and output and finish when their caller dies.
//!
//! rinit-rc-init installs it as the service `rinit-oneshot-runner` of the
//! scan directory: `run` is a link to this program, `live` a link to the
//! live directory (or `-l live`), and
//! `notification-fd` says where to announce that it listens. It listens on
//! `<live>/oneshot/socket` and answers each request as `runner` says.
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options};
use base::sys::{self, Args, SigSet, StaticCell, sig};
use rc::oneshot;
use rc::runner::{MAX_CALLERS, RETRY_MS, Runner};
use rinit_rc as rc;

const USAGE: &[u8] = b"rinit-oneshot-runner [ -l live ] [ servicename ]";

const LISTENER: u64 = u64::MAX;
const SIGNALS: u64 = u64::MAX - 1;

static RUNNER: StaticCell<Runner> = StaticCell::new(Runner::new());
static REQUEST: StaticCell<[u8; oneshot::MAX_REQUEST]> = StaticCell::new([0; oneshot::MAX_REQUEST]);

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-oneshot-runner");
    // The supervisor gives the service's name as the operand: not needed.
    let mut given: Option<&[u8]> = None;
    let mut opts = Options::new(args, b"l:");
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'l', v) => given = Some(v),
            _ => err::usage(USAGE),
        }
    }
    if args.len() > opts.operands() + 1 {
        err::usage(USAGE);
    }
    // Where the live directory is, and where to say it listens: read in
    // the service directory, before `listen` moves out of it.
    let live = match given {
        Some(l) => rc::live::absolute(l),
        None => {
            let mut buf = [0u8; 4096];
            sys::readlink(c"live", &mut buf).and_then(|l| base::path::PathBuf::join(l, &[]))
        }
    };
    let live = live.unwrap_or_else(|e| err::fatal_sys(err::EXIT_SYS, &[b"unable to find the live directory (./live)"], e));
    let ready = notification_fd();

    // A caller that goes away must not end the runner.
    // Valid constant arguments: these cannot fail.
    let _ = sys::sig_default(sig::PIPE, false);
    let _ = sys::sig_default(sig::CHLD, true);
    let signals = SigSet::of(&[sig::CHLD, sig::TERM, sig::INT, sig::HUP]);
    let sfd = sys::sig_block(signals).and_then(|_| sys::signalfd(signals));
    let sfd = sfd.unwrap_or_else(|e| err::fatal_sys(err::EXIT_SYS, &[b"unable to take signals"], e));
    let listener = oneshot::listen(live.as_bytes(), MAX_CALLERS as u32)
        .unwrap_or_else(|e| err::fatal_sys(err::EXIT_SYS, &[b"unable to listen on ", live.as_bytes(), b"/oneshot/socket"], e));
    let ep = sys::epoll_create()
        .and_then(|ep| sys::epoll_add_read(ep, listener, LISTENER).map(|_| ep))
        .and_then(|ep| sys::epoll_add_read(ep, sfd, SIGNALS).map(|_| ep))
        .unwrap_or_else(|e| err::fatal_sys(err::EXIT_SYS, &[b"unable to set up the event loop"], e));
    if let Some(fd) = ready {
        // A supervisor that stopped listening for readiness misses nothing we need.
        let _ = sys::write(fd, b"\n");
        sys::close(fd);
    }

    let (Some(r), Some(buf)) = (RUNNER.take(), REQUEST.take()) else { sys::exit(err::EXIT_SYS) };
    let mut tokens = [0u64; 16];
    loop {
        let now = sys::now_mono_ns();
        let wait = match r.next_deadline() {
            0 => -1,
            d => (d.saturating_sub(now).div_ceil(1_000_000)).min(i32::MAX as u64) as i64,
        };
        let wait = if r.retry && (wait < 0 || wait > RETRY_MS) { RETRY_MS } else { wait };
        let got = sys::epoll_wait(ep, &mut tokens, wait).unwrap_or(0);
        for &tok in tokens.iter().take(got) {
            match tok {
                SIGNALS => signalled(sfd, r),
                LISTENER => {
                    while let Ok(fd) = sys::accept(listener) {
                        if let Some(k) = r.welcome(fd)
                            && let Err(e) = sys::epoll_add_read(ep, fd, k as u64)
                        {
                            err::warn_sys(&[b"unable to watch a caller"], e);
                            r.farewell(k);
                        }
                    }
                }
                k => r.hear(k as usize, live.as_bytes(), buf),
            }
        }
        r.expire();
        r.settle(live.as_bytes());
    }
}

/// SIGCHLD: reap. Told to stop: go; the scripts running go on in their
/// sessions, and their callers see the runner gone.
fn signalled(sfd: sys::Fd, r: &mut Runner) {
    while let Ok(Some(s)) = sys::signalfd_read(sfd) {
        if s != sig::CHLD {
            sys::exit(0);
        }
    }
    r.reap();
}

/// The descriptor named by `./notification-fd`, if it is open.
fn notification_fd() -> Option<sys::Fd> {
    let mut b = [0u8; 16];
    let n = sys::read_file(c"notification-fd", &mut b).ok()?;
    let fd = base::fmt::parse_u64(n.split(|&c| c == b'\n').next().unwrap_or(&[]))?;
    let fd = sys::Fd(i32::try_from(fd).ok()?);
    sys::fstat(fd).ok().map(|_| fd)
}

linker::entry!(main);
