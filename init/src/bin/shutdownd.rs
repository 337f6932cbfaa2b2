//! rinit-shutdownd: the shutdown daemon, a service of the supervision tree
//! (its `run` is a link to this program). Listens on `fifo` in its service
//! directory for requests from `rinit-shutdown`, honours delays and
//! cancellations, then runs the first half of stage 3 (`rc.shutdown`) and
//! asks the scanner to hand over to its finish, where `rinit-shutdown`, as
//! pid 1, does the rest.
#![no_std]
#![no_main]

use base::err;
use base::fmt;
use base::options::{Opt, Options};
use base::sys::{self, errno, Args, Fd, Open};
use rinit_init::layout;
use rinit_init::request::{self, Action, Request};
use rinit_init::shutdown;

const USAGE: &[u8] = b"rinit-shutdownd [ -c basedir ]  (the run program of the shutdown daemon's service)";
/// Most bytes read from the FIFO at once (whole request lines: each is far below PIPE_BUF).
const READ_MAX: usize = 512;

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-shutdownd");
    let mut basedir = layout::BASEDIR_LINK.to_bytes();
    // Operands: the supervisor passes the service directory's name.
    for opt in Options::new(args, b"c:") {
        match opt {
            Opt::Value(b'c', d) => basedir = d,
            _ => err::usage(USAGE),
        }
    }
    // A valid constant signal: this cannot fail.
    let _ = sys::sig_default(sys::sig::PIPE, false);
    let fifo = listen();
    notify_ready();
    let r = wait_for_request(fifo);
    shutdown::prepare(basedir, &r);
    // Pid 1 takes over and will TERM this process with everything else.
    loop {
        sys::sleep_ms(60_000);
    }
}

/// Creates `./fifo` and opens it for reading, keeping a writing end so a
/// writer closing never looks like the end of the file.
fn listen() -> Fd {
    let name = layout::SHUTDOWND_FIFO_NAME;
    match sys::lstat(name) {
        Ok(st) if st.kind == sys::FileType::Fifo => {}
        _ => {
            // Usually absent (ENOENT); mkfifo reports anything else.
            let _ = sys::unlink(name);
            if let Err(e) = sys::mkfifo(name, 0o600) {
                err::fatal_unable(err::EXIT_SYS, &[b"mkfifo fifo"], e);
            }
        }
    }
    let rd = sys::open(name, Open::RDONLY | Open::NONBLOCK, 0)
        .unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"open fifo"], e));
    if let Err(e) = sys::open(name, Open::WRONLY, 0) {
        err::fatal_unable(err::EXIT_SYS, &[b"open fifo for writing"], e);
    }
    rd
}

/// s6's readiness protocol: a newline on the fd named by `notification-fd`.
fn notify_ready() {
    let mut buf = [0u8; 16];
    if let Ok(t) = sys::read_file(c"notification-fd", &mut buf) {
        if let Some(n) = fmt::parse_u64_line(t) {
            let fd = Fd(n as i32);
            // The supervisor gone: readiness has no one to reach.
            let _ = sys::write(fd, b"\n");
            sys::close(fd);
        }
    }
}

/// Reads requests until one is due (delayed ones wait; `c` cancels).
fn wait_for_request(fifo: Fd) -> Request {
    let mut pending: Option<(Request, u64)> = None;
    let mut buf = [0u8; READ_MAX];
    let mut lines = request::Lines::default();
    loop {
        let timeout = match pending {
            Some((r, due)) => {
                let now = sys::now_mono_ns();
                if now >= due {
                    return r;
                }
                ((due - now) / 1_000_000 + 1) as i64
            }
            None => -1,
        };
        let mut p = [sys::PollFd::read(fifo)];
        if sys::poll(&mut p, timeout).unwrap_or(0) == 0 {
            continue;
        }
        let n = match sys::read(fifo, &mut buf) {
            Ok(n) => n,
            Err(errno::EAGAIN) => 0,
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"read fifo"], e),
        };
        lines.feed(buf.get(..n).unwrap_or(&[]), &mut |line| {
            let Some(line) = line else {
                return err::warn(&[b"ignoring a request longer than the longest one"]);
            };
            if line.is_empty() {
                return;
            }
            match Request::parse(line) {
                Some(r) if r.action == Action::Cancel => {
                    if pending.take().is_some() {
                        err::info(&[b"pending shutdown cancelled"]);
                    }
                }
                Some(r) => {
                    let mut b = rinit_init::Line::new();
                    b.push(r.action.name()).push(b" requested, in ").u64(r.delay_ms).push(b" ms");
                    err::info(&[b.as_bytes()]);
                    // A delay of centuries is a delay, never a wrap to now.
                    pending = Some((r, sys::now_mono_ns().saturating_add(r.delay_ms.saturating_mul(1_000_000))));
                }
                None => {
                    let mut b = rinit_init::Line::new();
                    b.quoted(line);
                    err::warn(&[b"ignoring a malformed request: ", b.as_bytes()]);
                }
            }
        });
    }
}

linker::entry!(main);
