//! rinit-scan: the root (or a branch) of the supervision tree, in
//! s6-svscan's role. One rinit-supervise per service directory of the scan
//! directory, and one for `<service>/log` fed by a pipe the scanner holds;
//! commands come from `.s6-svscan/control` and from signals; every orphan
//! is reaped. It never exits because of a service: it ends by becoming
//! `.s6-svscan/finish`, or `.s6-svscan/crash` when the system is broken.
#![no_std]
#![no_main]

use base::err;
use base::fmt;
use base::watchdog::{self, Watchdog};
use base::sys::{self, errno, Args, Errno, Fd, PollFd};
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use base::options::{self as getopt, Opt};
use rinit_supervise::scanctl::{self, Control};
use rinit_supervise::scandir::{self, Table};

const USAGE: &[u8] = b"rinit-scan [ -t rescan_ms ] [ -C services_max ] [ -d notif_fd ] [ -W device,interval_ms,timeout_ms ] [ scandir ]";

static TABLE: sys::StaticCell<Table> = sys::StaticCell::new(Table::new());

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-scan");
    let opt = options(args);
    let dir = opt.dir.to_bytes();
    keep_std_fds_open();
    if let Err(e) = sys::chdir(opt.dir) {
        err::fatal_unable(err::EXIT_SYS, &[b"chdir to ", dir], e);
    }
    let ctl = scanctl::take(dir);
    let sigfd = scanctl::take_signals().unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"take signals"], e));
    if sys::getpid() != 1
        && let Err(e) = sys::set_child_subreaper()
    {
        err::warn_unable(&[b"become a subreaper: orphans will go elsewhere"], e);
    }
    // One pipe end per supervisor, plus a few of our own.
    // Without the higher limit, EMFILE later is reported per supervisor.
    let _ = sys::raise_rlimit_to(sys::RLIMIT_NOFILE, opt.max as u64 + 64);
    let Some(table) = TABLE.take() else { err::fatal(err::EXIT_SYS, &[b"service table taken twice"]) };
    table.max = opt.max;

    let wd = opt.watchdog.and_then(open_watchdog);
    let mut s = Scanner { table, rescan_ms: opt.rescan_ms, next_scan: 0, ending: false, wd };
    s.scan();
    s.table.start_due(now_ms() as u32);
    if let Some(fd) = opt.notify {
        // A reader of the readiness fd that went away does not stop the scanner.
        let _ = sys::write(fd, b"\n");
        sys::close(fd);
    }
    s.run(&ctl, sigfd)
}

struct Options {
    rescan_ms: u64,
    max: usize,
    notify: Option<Fd>,
    watchdog: Option<&'static [u8]>,
    dir: &'static CStr,
}

fn options(args: Args) -> Options {
    let mut o = Options { rescan_ms: 0, max: scandir::MAX_SERVICES, notify: None, watchdog: None, dir: c"." };
    let mut opts = getopt::Options::new(args, b"t:C:d:W:");
    for opt in &mut opts {
        let Opt::Value(letter, value) = opt else { err::usage(USAGE) };
        if letter == b'W' {
            o.watchdog = Some(value);
            continue;
        }
        let Some(n) = fmt::parse_u64(value) else { err::usage(USAGE) };
        match letter {
            b't' => o.rescan_ms = n,
            b'C' if n >= 1 && n <= scandir::SERVICES_CAP as u64 => o.max = n as usize,
            b'C' => {
                let mut cap = scandir::Small::new();
                cap.u64(scandir::SERVICES_CAP as u64);
                err::fatal(err::EXIT_USAGE, &[b"services_max must be between 1 and ", cap.as_bytes()])
            }
            _ if n <= i32::MAX as u64 => o.notify = Some(Fd(n as i32)),
            _ => err::usage(USAGE),
        }
    }
    if let Some(d) = args.get(opts.operands()) {
        o.dir = d;
    }
    o
}

struct Scanner {
    table: &'static mut Table,
    /// 0: only on command.
    rescan_ms: u64,
    next_scan: u64,
    /// Told to end: waiting for the supervisors to exit.
    ending: bool,
    /// Petted from this loop: if the loop hangs, the machine resets.
    wd: Option<Watchdog>,
}

impl Scanner {
    fn run(&mut self, ctl: &Control, sigfd: Fd) -> ! {
        loop {
            let now = now_ms();
            if self.rescan_ms > 0 && now >= self.next_scan {
                self.scan();
            }
            let restart = self.table.start_due(now as u32);
            if self.ending && self.table.running() == 0 {
                finish();
            }
            let mut timeout = restart.map_or(-1, |ms| ms as i64);
            if self.rescan_ms > 0 && !self.ending {
                let t = self.next_scan.saturating_sub(now).min(86_400_000) as i64;
                timeout = if timeout < 0 { t } else { timeout.min(t) };
            }
            if let Some(wd) = &mut self.wd {
                wd.pet(now);
                let t = wd.due_in(now);
                timeout = if timeout < 0 { t } else { timeout.min(t) };
            }
            let mut fds = [PollFd::read(sigfd), PollFd::read(ctl.fifo)];
            if let Err(e) = sys::poll(&mut fds, timeout) {
                crash_with(b"unable to wait for events", e);
            }
            if fds[0].ready {
                loop {
                    match sys::signalfd_read(sigfd) {
                        Ok(Some(signo)) => self.command(scanctl::command_for(signo)),
                        Ok(None) => break,
                        Err(e) => crash_with(b"unable to read signals", e),
                    }
                }
            }
            if fds[1].ready
                && let Err(e) = scanctl::read_commands(ctl, &mut |c| self.command(c))
            {
                crash_with(b"unable to read .s6-svscan/control", e);
            }
        }
    }

    /// One of s6-svscanctl's letters (0 and unknown letters do nothing).
    fn command(&mut self, c: u8) {
        match c {
            b'a' => self.scan(),
            b'h' => {
                self.scan();
                self.table.prune(false);
            }
            b'n' => self.table.prune(false),
            b'N' => self.table.prune(true),
            b't' | b'i' => self.terminate(false),
            b'q' => self.terminate(true),
            b'b' => finish(),
            b'z' => self.reap(),
            _ => {}
        }
    }

    fn scan(&mut self) {
        if self.ending {
            return;
        }
        let now = now_ms();
        self.table.scan(now as u32);
        self.next_scan = now.saturating_add(self.rescan_ms);
    }

    /// Services go down, loggers drain their pipe and exit (or are told to
    /// go at once when `hard`); the scanner finishes once all have exited.
    fn terminate(&mut self, hard: bool) {
        self.ending = true;
        self.table.terminate(hard);
    }

    /// Collects every child that ended: supervisors (restarted later),
    /// SIGxxx scripts, and, as pid 1 or subreaper, every orphan.
    fn reap(&mut self) {
        while let Ok(Some((pid, _))) = sys::wait_any_nohang() {
            self.table.reaped(pid);
        }
    }
}

fn now_ms() -> u64 {
    sys::now_mono_ns() / 1_000_000
}

/// Children must find stdin, stdout and stderr open, and the logging
/// pipes must never take their numbers.
fn keep_std_fds_open() {
    for n in 0..3 {
        if sys::fstat(Fd(n)).is_err() {
            let fd = sys::open(c"/dev/null", sys::Open::RDWR, 0).or_else(|_| sys::open_dir(c"/"));
            if let Ok(fd) = fd {
                // A fresh descriptor: F_SETFD on it cannot fail.
                let _ = sys::set_cloexec(fd, false);
            }
        }
    }
}

/// The watchdog, once opened: `finish` and `crash` get it open.
static WATCHDOG_FD: AtomicI32 = AtomicI32::new(-1);

/// `-W`: a device that cannot be used is a warning, never the end of pid 1.
fn open_watchdog(spec: &[u8]) -> Option<Watchdog> {
    if !watchdog::SUPPORTED {
        watchdog::lacking(b"-W");
        return None;
    }
    let w = watchdog::parse(spec).and_then(|s| Watchdog::open(&s, None));
    match w {
        Ok(w) => {
            WATCHDOG_FD.store(w.fd.0, Ordering::Relaxed);
            Some(w)
        }
        Err(e) => {
            err::warn_unable(&[b"use the watchdog ", spec, b": running without it"], e);
            None
        }
    }
}

/// Before the exec into `finish` or `crash`: the watchdog stays open, on
/// `watchdog::HANDOVER_FD`, so the next program can go on petting it.
fn hand_over_watchdog() {
    let fd = WATCHDOG_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // Only an exec follows: a failure there loses the device, which
        // then resets the machine unless the next program opens it again.
        let _ = if fd == watchdog::HANDOVER_FD.0 { sys::set_cloexec(Fd(fd), false) } else { sys::dup2(Fd(fd), watchdog::HANDOVER_FD) };
    }
}

/// The clean end: become `.s6-svscan/finish`, or exit 0 without one.
fn finish() -> ! {
    hand_over_watchdog();
    let e = scanctl::become_(scanctl::FINISH);
    if is_machine_init() {
        // The machine's pid 1 must not exit (the kernel would panic): the
        // crash path gives .s6-svscan/crash its chance, then reaps forever.
        err::warn_unable(&[b"exec .s6-svscan/finish"], e);
        crash();
    }
    if e == errno::ENOENT {
        sys::exit(0);
    }
    err::warn_unable(&[b"exec .s6-svscan/finish"], e);
    sys::exit(err::EXIT_SYS)
}

/// Pid 1 of the machine itself, not of a container's pid namespace, where
/// exiting is how the container ends. Setting Ctrl-Alt-Del to a signal is
/// what an init wants anyway, and only the initial namespace allows it.
fn is_machine_init() -> bool {
    sys::getpid() == 1 && sys::reboot(sys::RebootAction::CadOff).is_ok()
}

fn crash_with(what: &[u8], e: Errno) -> ! {
    err::fatal_line(&[what], e);
    crash()
}

/// The end when the system is broken (and after a panic): become
/// `.s6-svscan/crash`. Without one, pid 1 keeps reaping rather than exit
/// (which would panic the kernel); any other scanner exits 111.
fn crash() -> ! {
    // A panic on the way down must not loop back here and retry.
    static CRASHING: AtomicBool = AtomicBool::new(false);
    if !CRASHING.swap(true, Ordering::Relaxed) {
        hand_over_watchdog();
        let e = scanctl::become_(scanctl::CRASH);
        err::warn_unable(&[b"exec .s6-svscan/crash"], e);
    }
    if sys::getpid() != 1 {
        sys::exit(err::EXIT_SYS);
    }
    err::warn(&[b"pid 1 must not exit: reaping orphans forever"]);
    loop {
        if sys::wait_pid(-1).is_err() {
            sys::sleep_ms(1000);
        }
    }
}

linker::entry!(main, crash);
