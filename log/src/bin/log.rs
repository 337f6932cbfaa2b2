//! rinit-log: reads lines on stdin and hands each one to the actions of a
//! logging script, as s6-log does: log directories with rotation, stdout,
//! stderr, status files. It never loses a line: a full or unwritable disk
//! makes it stop reading (the writer then waits on the pipe) and retry every
//! second; a logger killed at any instant leaves what it had not written in
//! the pipe for the next one (see `rinit_log::input`).
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options as Getopt};
use base::sys::{self, sig, Args, Fd, Open, OwnedFd, SigSet, StaticCell, STDERR, STDIN, STDOUT};
use base::tai64n::Tai64n;
use rinit_log::batch::{self, Out, Room, LINE_DEFAULT, LINE_MAX, N_OUTS, OUT_CAP, OUT_STDOUT};
use rinit_log::input::{self, Input};
use rinit_log::logdir::{Failure, Logdir};
use rinit_log::script::{Script, MAX_LOGDIRS, MAX_STATUS};
use rinit_log::stamp::Prefixes;

const USAGE: &[u8] = b"rinit-log [ -b ] [ -p ] [ -d notif ] [ -l linelimit ] [ -t lastlinetimeout ] [ -- ] script...";

static SCRIPT: StaticCell<Script> = StaticCell::new(Script::new());
static OUTS: StaticCell<[[u8; OUT_CAP]; N_OUTS]> = StaticCell::new([[0; OUT_CAP]; N_OUTS]);

/// While a partial line is all there is in the pipe: how often (ms) it is
/// looked at again (see `Logger::run`).
const PARTIAL_LINE_RECHECK_MS: i64 = 200;

struct Options {
    line_max: usize,
    protect: bool,
    /// The readiness descriptor inherited by number, closed once written.
    notify: Option<OwnedFd>,
    /// `-t`: ms to wait, once asked to stop, for an incomplete last line to end.
    last_line_ms: u64,
    script_at: usize,
}

// The logger's arguments, environment and stack, in its own data
// (`sys::run_in_one_region`): one logger per logged service, each then
// one set of page tables. Untouched pages of the region cost nothing.
base::region!(REGION, 96 << 10);

/// Stack the logger may need in its region: its frames (a batch's
/// selection, a rotation's paths and messages) take a few KiB; the rest is
/// margin above the guard page.
const REGION_FRAMES: usize = 32 << 10;

fn main(args: Args) -> ! {
    sys::run_in_one_region(args, &REGION, REGION_FRAMES, log)
}

fn log(args: Args) -> ! {
    err::set_prog(b"rinit-log");
    let opts = options(&args);
    let Some(script) = SCRIPT.take() else { err::fatal(err::EXIT_SYS, &[b"internal error"]) };
    if let Err(e) = script.parse((opts.script_at..args.len()).filter_map(|i| args.get(i))) {
        err::fatal(err::EXIT_USAGE, &[e.what, e.detail, if e.directive.is_empty() { b"" } else { b": " }, e.directive]);
    }

    // Signals arrive as data on a descriptor, between batches, never in the middle of one.
    let sigs = SigSet::of(&[sig::TERM, sig::HUP, sig::INT, sig::ALRM, sig::CHLD]);
    // A valid constant signal: this cannot fail.
    let _ = sys::sig_default(sig::PIPE, false);
    let sigfd = match sys::sig_block(sigs).and_then(|_| sys::signalfd(sigs)) {
        Ok(fd) => fd,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"set up signals"], e),
    };

    let (Some(input), Some(bufs)) = (Input::new(opts.line_max), OUTS.take()) else {
        err::fatal(err::EXIT_SYS, &[b"internal error"])
    };
    let mut log = Logger::new(script, input, bufs);
    log.open();
    if let Some(fd) = opts.notify {
        // A reader of the readiness fd that went away does not stop the logger.
        let _ = sys::write_all(fd.fd(), b"\n");
    }
    log.run(sigfd.fd(), opts.protect, opts.last_line_ms);
    log.close();
    sys::exit(0)
}

/// s6-log's spellings, through the shared parser: `-bp`, `-l1000`, `-l 1000`.
#[inline(never)]
fn options(args: &Args) -> Options {
    let mut o = Options { line_max: LINE_DEFAULT, protect: false, notify: None, last_line_ms: 0, script_at: 1 };
    let mut opts = Getopt::new(*args, b"bpd:l:t:");
    for opt in &mut opts {
        match opt {
            // Blocking mode is the only mode: accepted for s6-log's command lines.
            Opt::Flag(b'b') => {}
            Opt::Flag(_) => o.protect = true,
            Opt::Value(letter, v) => match (letter, base::fmt::parse_u64(v)) {
                (b'l', Some(0)) => o.line_max = LINE_MAX,
                (b'l', Some(n)) if n as usize <= LINE_MAX => o.line_max = n as usize,
                (b'l', Some(_)) => err::fatal(err::EXIT_USAGE, &[b"line limit too large (the most is 32768)"]),
                (b'd', Some(n)) if n >= 3 && n < i32::MAX as u64 => o.notify = Some(OwnedFd::from_raw(Fd(n as i32))),
                (b't', Some(n)) => o.last_line_ms = n,
                _ => err::usage(USAGE),
            },
            Opt::Bad(_) => err::usage(USAGE),
        }
    }
    o.script_at = opts.operands();
    if args.get(o.script_at).is_none() {
        err::usage(USAGE);
    }
    o
}

/// The outcome of one attempt to move input to the destinations.
enum Pumped {
    Progress,
    /// Only part of a line is there; nothing new came.
    Stuck,
    Idle,
    Eof,
    Failed(Failure),
}

struct Logger {
    script: &'static Script,
    input: Input,
    dirs: [Option<Logdir>; MAX_LOGDIRS],
    outs: [Out; N_OUTS],
    status: [Option<OwnedFd>; MAX_STATUS],
    last: Tai64n,
}

impl Logger {
    /// Built apart from `open`: the arrays' temporaries stay in this
    /// frame, gone before the deepest calls of the start-up are made.
    #[inline(never)]
    fn new(script: &'static Script, input: Input, bufs: &'static mut [[u8; OUT_CAP]; N_OUTS]) -> Logger {
        Logger {
            script,
            input,
            dirs: [const { None }; MAX_LOGDIRS],
            outs: bufs.each_mut().map(Out::new),
            status: [const { None }; MAX_STATUS],
            last: Tai64n::default(),
        }
    }

    /// Opens the log directories and status files of the script.
    #[inline(never)]
    fn open(&mut self) {
        let Logger { script, input, dirs, status, .. } = self;
        for (slot, spec) in dirs.iter_mut().zip(script.logdirs.iter()) {
            let Some(spec) = spec.as_ref() else { continue };
            let mut head = |n: usize| input.head(n).map(input::hash);
            match Logdir::open(spec, &mut head) {
                Ok(d) => *slot = Some(d),
                Err(f) => f.say(true, b""),
            }
        }
        for (slot, path) in status.iter_mut().zip(script.status.iter()) {
            let Some(path) = *path else { continue };
            match sys::open_regular(path, Open::WRONLY | Open::CREATE, 0o644) {
                Ok(fd) => *slot = Some(fd),
                Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"open ", path.to_bytes()], e),
            }
        }
    }

    fn run(&mut self, sigfd: Fd, protect: bool, last_line_ms: u64) {
        // In peek mode stdin is watched edge-triggered: a wake-up means new
        // bytes were written, even while a partial line sits in the pipe.
        // A regular file cannot be watched: it is always ready.
        let peeking = self.input.is_peeking();
        let ep = match sys::epoll_create().and_then(|ep| sys::epoll_add_read(ep.fd(), sigfd, 0).map(|_| ep)) {
            Ok(ep) => ep,
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"watch stdin"], e),
        };
        let ep = ep.fd();
        let watched = if peeking { sys::epoll_add_read_edge(ep, STDIN, 1) } else { sys::epoll_add_read(ep, STDIN, 1) };
        let always_ready = match watched {
            Ok(()) => false,
            Err(sys::errno::EPERM) if !peeking => true,
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"watch stdin"], e),
        };
        let mut draining = false;
        let mut warned = false;
        let mut timeout: i64 = 0;
        // With -t, when asked to stop: how long an incomplete last line may take to end.
        let mut last_line_until = None;
        loop {
            let mut t = [0u64; 2];
            let n = sys::epoll_wait(ep, &mut t, if always_ready { 0 } else { timeout }).unwrap_or(0);
            let event = always_ready || t.get(..n).is_some_and(|t| t.contains(&1));
            while let Ok(Some(s)) = sys::signalfd_read(sigfd) {
                match s {
                    sig::ALRM => self.rotate_all(),
                    sig::CHLD => self.dirs.iter_mut().flatten().for_each(|d| d.reap(false)),
                    _ if !protect => draining = true,
                    _ => {}
                }
            }
            // A pipe is looked at again on any wake-up; a plain stdin is read only when ready.
            match self.pump(peeking || event) {
                Pumped::Progress => {
                    warned = false;
                    timeout = 0;
                }
                Pumped::Stuck if draining && last_line_ms > 0 => {
                    // Its end may still come: wait for it, then take the line as it is.
                    let now = sys::now_mono_ns();
                    let until = *last_line_until.get_or_insert(now.saturating_add(last_line_ms.saturating_mul(1_000_000)));
                    if now < until {
                        timeout = (until - now).div_ceil(1_000_000).min(i64::MAX as u64) as i64;
                        continue;
                    }
                    self.input.finish();
                    // Leaving anyway: what cannot be written now is said by the pump.
                    let _ = self.pump(false);
                    return;
                }
                Pumped::Idle | Pumped::Stuck if draining => {
                    // Asked to stop, and all that is there is written. In peek
                    // mode an unfinished last line stays in the pipe for the next logger.
                    if !peeking {
                        self.input.finish();
                        // The last pump: whatever it could not write stays in the pipe for the next logger.
                        let _ = self.pump(false);
                    }
                    return;
                }
                p @ (Pumped::Idle | Pumped::Stuck) => {
                    self.dirs.iter_mut().flatten().for_each(Logdir::idle);
                    // A writer that waits for room in the middle of one
                    // write(2) wakes no reader when it resumes on a pipe
                    // that was not empty: the rest of a line may come
                    // with no wake-up, so the pipe is looked at again.
                    timeout = if peeking && matches!(p, Pumped::Stuck) { PARTIAL_LINE_RECHECK_MS } else { -1 };
                }
                Pumped::Eof => return,
                Pumped::Failed(f) => {
                    if !warned {
                        f.say(false, b" (input paused, retrying every second)");
                        warned = true;
                    }
                    if draining && peeking {
                        return;
                    }
                    timeout = 1000;
                }
            }
        }
    }

    /// Takes what stdin holds (if `read`), then writes every complete batch.
    fn pump(&mut self, read: bool) -> Pumped {
        if read {
            self.fill();
        }
        let mut progress = false;
        loop {
            if self.input.data().is_empty() {
                return if self.input.at_eof() { Pumped::Eof } else if progress { Pumped::Progress } else { Pumped::Idle };
            }
            let pre = Prefixes::new(self.stamp());
            let mut room = [Room::default(); MAX_LOGDIRS];
            for (r, d) in room.iter_mut().zip(self.dirs.iter()) {
                if let Some(d) = d {
                    *r = Room { size: d.size, filesize: d.spec.filesize };
                }
            }
            self.outs.iter_mut().for_each(Out::clear);
            let cut = batch::cut(self.script, self.input.data(), self.input.at_eof(), self.input.line_max(), &pre, &room, &mut self.outs);
            if cut.consumed > 0 {
                if let Err(f) = self.commit(&cut, &pre) {
                    return Pumped::Failed(f);
                }
                progress = true;
            }
            for (i, d) in self.dirs.iter_mut().enumerate() {
                if let Some(d) = d.as_mut().filter(|_| cut.rotate & (1 << i) != 0) {
                    if let Err(f) = d.rotate() {
                        return Pumped::Failed(f);
                    }
                    progress = true;
                }
            }
            if cut.consumed == 0 && cut.rotate == 0 {
                // A line longer than the window: look wider and cut again
                // (a pipe now, a plain stdin once it is ready).
                if self.input.widen() {
                    if self.input.is_peeking() {
                        self.fill();
                    }
                    continue;
                }
                if !progress && self.input.writer_gone() {
                    continue;
                }
                return if progress { Pumped::Progress } else { Pumped::Stuck };
            }
        }
    }

    fn fill(&mut self) {
        if let Err(e) = self.input.fill() {
            err::fatal_unable(err::EXIT_SYS, &[b"read stdin"], e);
        }
    }

    /// Writes one batch everywhere, then takes its input out of stdin. A
    /// log directory that fails undoes the batch in all of them, so that the
    /// retry writes each line once.
    #[inline(never)]
    fn commit(&mut self, cut: &batch::Cut, pre: &Prefixes) -> Result<(), Failure> {
        let data = self.input.data().get(..cut.consumed).unwrap_or_default();
        let hash = if self.input.is_peeking() { input::hash(data) } else { 0 };
        for (d, o) in self.dirs.iter_mut().zip(self.outs.iter()) {
            let Some(d) = d.as_mut() else { continue };
            let mut r = if self.input.is_peeking() { d.intent(cut.consumed, hash) } else { Ok(()) };
            if r.is_ok() && o.len > 0 {
                r = d.write(o.bytes(data));
            }
            if let Err(f) = r {
                // Directories after this one have nothing written yet: cutting them back is harmless.
                self.dirs.iter_mut().flatten().for_each(|d| d.rollback());
                return Err(f);
            }
        }
        for (o, fd) in self.outs.get(OUT_STDOUT..).unwrap_or_default().iter().zip([STDOUT, STDERR]) {
            if o.len > 0 {
                // stdout and stderr are best effort, as s6-log's: a log directory is the record.
                let _ = sys::write_all(fd, o.bytes(data));
            }
        }
        for (st, fd) in cut.status.iter().zip(self.status.iter()) {
            if let (Some((off, len, stamp)), Some(fd)) = (*st, fd) {
                let p = pre.get(stamp);
                write_status(fd.fd(), p, data.get(off..off + len).unwrap_or(b""));
            }
        }
        if let Err(e) = self.input.consume(cut.consumed) {
            err::fatal_unable(err::EXIT_SYS, &[b"read stdin"], e);
        }
        for (d, o) in self.dirs.iter_mut().zip(self.outs.iter()) {
            if let Some(d) = d {
                d.committed(o.len);
            }
        }
        Ok(())
    }

    /// Now, never before the last stamp given (the wall clock may step back).
    fn stamp(&mut self) -> Tai64n {
        let t = Tai64n::now();
        if t > self.last {
            self.last = t;
        }
        self.last
    }

    fn rotate_all(&mut self) {
        for d in self.dirs.iter_mut().flatten() {
            if let Err(f) = d.rotate() {
                f.say(false, b"");
            }
        }
    }

    fn close(&mut self) {
        self.dirs.iter_mut().flatten().for_each(|d| d.close());
    }
}

/// Overwrites a status file with one line.
fn write_status(fd: Fd, prefix: &[u8], line: &[u8]) {
    let n = (prefix.len() + line.len()) as u64;
    // A status file is best effort, as s6-log's: it is rewritten on the next line.
    let _ = sys::pwrite_all(fd, prefix, 0);
    let _ = sys::pwrite_all(fd, line, prefix.len() as u64);
    let _ = sys::pwrite_all(fd, b"\n", n);
    let _ = sys::ftruncate(fd, n + 1);
}

linker::entry!(main);
