//! One supervised service: the shell around `machine`, s6-supervise's
//! state machine. The supervisor is in the service directory; this module
//! reads the clock and the settings, forks `run` and `finish`, signals,
//! writes `supervise/status` and announces on `event/` when the machine
//! says so, and keeps the readiness pipe and the health sources
//! (`readiness`). The caller owns the event loop and feeds it the deaths of
//! its children, its signals, the control letters, the readiness pipe and
//! the time (`timeout_ms`, `tick`).
//!
//! (`#[inline(never)]` on some entry points: measured, it makes the binary
//! smaller.)

use crate::cgroup;
use crate::deathtally;
use crate::machine::{Effects, Machine, Now};
use crate::readiness::{self, Outcome, Readiness, RunEnv};
use base::fmt;
use base::servicedir as sd;
use base::spawn::{Session, Spawn};
use base::status::{self, Status};
use base::sys::{self, errno, sig, ArgvBuf, Errno, Fd, Open, OwnedFd, Pid, WaitStatus};
use base::tai64n::Tai64n;
use base::{err, fifodir};
use core::ffi::CStr;

pub use crate::machine::{KILL_REPEAT_NS, RESPAWN_MIN_NS, RETRY_NS};

/// The service directory, as seen from inside it.
const HERE: &[u8] = b".";
const MS: u64 = 1_000_000;
/// The file whose lock `run` inherits on its `lock-fd` descriptor (as s6).
pub const SERVICE_LOCK: &CStr = c"supervise/service-lock";

pub struct Service {
    m: Machine,
    io: Shell,
}

/// What the machine acts through.
struct Shell {
    /// The service directory's name as given: `run`'s first argument.
    name: &'static CStr,
    /// Process group of `run` (its pid when it has its own session).
    pgid: Pid,
    /// Read end of the readiness pipe while `run` has not reported.
    ready_fd: Option<OwnedFd>,
    /// The notify socket, `check` and the readiness deadlines.
    health: Readiness,
}

fn now_at(mono: u64) -> Now {
    Now { mono, wall: Tai64n::now() }
}

fn now() -> Now {
    now_at(sys::now_mono_ns())
}

impl Service {
    pub fn new(name: &'static CStr, start_down: bool) -> Service {
        Service {
            m: Machine::new(start_down, now()),
            io: Shell { name, pgid: 0, ready_fd: None, health: Readiness::new(name) },
        }
    }

    /// False once the supervisor should exit.
    pub fn running(&self) -> bool {
        self.m.running
    }

    /// Publishes the initial state and starts `run` unless it starts down.
    pub fn begin(&mut self) {
        self.m.begin(now(), &mut self.io);
    }

    /// The readiness pipe to watch, if any.
    pub fn ready_fd(&self) -> Option<Fd> {
        self.io.ready_fd.as_ref().map(OwnedFd::fd)
    }

    /// The notify socket to watch, if any.
    pub fn notify_fd(&self) -> Option<Fd> {
        self.io.health.fd()
    }

    /// Milliseconds until the next timed action (rounded up), -1 for none.
    pub fn timeout_ms(&self, now: u64) -> i64 {
        let d = match (self.m.deadline, self.io.health.deadline()) {
            (d, 0) => d,
            (None, h) => Some(h),
            (Some(d), h) => Some(d.min(h)),
        };
        match d {
            None => -1,
            Some(d) => (d.saturating_sub(now)).div_ceil(MS) as i64,
        }
    }

    /// Runs the timed actions whose time has come.
    #[inline(never)]
    pub fn tick(&mut self, mono: u64) {
        let now = now_at(mono);
        let o = self.io.health.tick(mono);
        self.on_health(o, now);
        self.m.tick(now, &mut self.io);
    }

    /// A child ended: `check`, `run` or `finish` (others are failed spawns).
    #[inline(never)]
    pub fn child_died(&mut self, pid: Pid, ws: WaitStatus) {
        let now = now();
        if self.io.health.is_check(pid) {
            let o = self.io.health.check_done(ws, now.mono);
            return self.on_health(o, now);
        }
        self.m.child_died(pid, ws, now, &mut self.io);
    }

    /// The readiness pipe is readable: a newline means ready.
    #[inline(never)]
    pub fn readiness(&mut self) {
        let Some(fd) = self.ready_fd() else { return };
        let mut buf = [0u8; 64];
        match sys::read(fd, &mut buf) {
            Ok(n) if n > 0 => {
                if buf.iter().take(n).any(|&c| c == b'\n') {
                    self.io.close_ready();
                    self.m.ready(now(), &mut self.io);
                }
            }
            // Closed without a word: stop listening.
            _ => self.io.close_ready(),
        }
    }

    /// The notify socket is readable.
    pub fn notified(&mut self) {
        let now = now();
        let o = self.io.health.receive(now.mono);
        self.on_health(o, now);
    }

    fn on_health(&mut self, o: Outcome, now: Now) {
        if o == Outcome::Ready {
            self.io.close_ready();
        }
        self.m.health(o, now, &mut self.io);
    }

    /// The supervisor got `signo` (TERM, HUP, QUIT or INT).
    pub fn signal(&mut self, signo: i32) {
        self.m.signal(signo, now(), &mut self.io);
    }

    /// One byte from the control FIFO, with s6-svc's meaning; others are ignored.
    pub fn command(&mut self, c: u8) {
        self.m.command(c, now(), &mut self.io);
    }

    /// Sends event letters to the listeners of `event/`.
    pub fn event(&mut self, letters: &[u8]) {
        self.io.event(letters);
    }
}

impl Effects for Shell {
    fn spawn_run(&mut self, now: u64) -> Option<(Pid, bool)> {
        let env = self.health.before_run();
        let pid = self.spawn(env).ok()?;
        // Without a readiness source, up is ready.
        let ready = self.ready_fd.is_none() && !self.health.awaits();
        self.health.started(pid, if self.pgid == pid { pid } else { 0 }, ready, now);
        Some((pid, ready))
    }

    fn spawn_finish(&mut self, ws: WaitStatus) -> Option<Pid> {
        // No ./finish (or none we can see): straight to down, no fork.
        if sd::has(HERE, sd::FINISH) != Ok(true) {
            return None;
        }
        self.start_finish(ws).map_err(|e| err::warn_unable(&[b"spawn ./finish"], e)).ok()
    }

    fn run_ended(&mut self, ws: WaitStatus, wall: Tai64n) {
        cgroup::end();
        self.close_ready();
        self.health.run_died();
        let max = setting(sd::max_death_tally(HERE), sd::MAX_DEATH_TALLY, sd::MAX_DEATH_TALLY_DEFAULT);
        if let Err(e) = deathtally::add(&deathtally::record(wall, ws), max) {
            err::warn_unable(&[b"write ", deathtally::FILE.to_bytes()], e);
        }
    }

    fn finish_ended(&mut self) {
        cgroup::end();
    }

    fn became_ready(&mut self, now: u64) {
        self.health.became_ready(now);
    }

    fn kill(&mut self, pid: Pid, s: i32) {
        // ESRCH: run died and is not reaped yet; its death is handled next.
        let _ = sys::kill(pid, s);
    }

    fn kill_group(&mut self, pid: Pid, s: i32) {
        if self.pgid > 0 && sys::getpgid(0).map(|g| g != self.pgid).unwrap_or(false) {
            // ESRCH: the group is empty already.
            let _ = sys::kill(-self.pgid, s);
        } else if pid != 0 {
            self.kill(pid, s);
        }
    }

    fn signal_cgroup(&mut self, s: i32) -> bool {
        cgroup::signal(s)
    }

    fn kill_cgroup(&mut self) {
        cgroup::kill();
    }

    fn write_status(&mut self, st: &Status) {
        if let Err(e) = status::write_here(st) {
            err::warn_unable(&[b"write supervise/status"], e);
        }
    }

    fn event(&mut self, letters: &[u8]) {
        // No listener, or a listener gone: events are best effort, as s6's.
        let _ = fifodir::notify_c(c"event", letters);
    }

    fn down_signal(&mut self) -> i32 {
        setting(sd::down_signal(HERE), sd::DOWN_SIGNAL, sig::TERM)
    }

    fn reload_signal(&mut self) -> i32 {
        setting(sd::reload_signal(HERE), sd::RELOAD_SIGNAL, sig::HUP)
    }

    fn timeout_kill_ms(&mut self) -> u64 {
        setting(sd::timeout_kill(HERE), sd::TIMEOUT_KILL, 0)
    }

    fn timeout_finish_ms(&mut self) -> u64 {
        setting(sd::timeout_finish(HERE), sd::TIMEOUT_FINISH, sd::TIMEOUT_FINISH_DEFAULT)
    }

    fn set_down_file(&mut self, down: bool) {
        set_down_file(down);
    }

    fn close_stdio(&mut self) {
        close_stdio();
    }

    fn warn(&mut self, what: &[u8]) {
        err::warn(&[what]);
    }
}

impl Shell {
    fn close_ready(&mut self) {
        // Dropped: closed.
        self.ready_fd = None;
    }

    /// Starts `./run`. A failure before its exec (the child's errno) comes
    /// back from the spawn, so a run that cannot start never counts as up.
    fn spawn(&mut self, env: RunEnv) -> Result<Pid, ()> {
        let notify = setting(sd::notification_fd(HERE), sd::NOTIFICATION_FD, None);
        let nosetsid = setting(sd::nosetsid(HERE), sd::NOSETSID, false);
        let lock = setting(sd::lock_fd(HERE), sd::LOCK_FD, None);
        cgroup::apply_limits();
        let ready = match notify.map(|n| sys::pipe().map(|p| (p, n))).transpose() {
            Ok(r) => r,
            Err(e) => return Err(err::warn_unable(&[b"create a pipe"], e)),
        };
        let mut argv = ArgvBuf::<6>::new();
        argv.push(c"./run");
        argv.push(self.name);
        let mut join = || run_setup(lock);
        let r = readiness::with_run_env(env, |envp| {
            let mut s = Spawn::new();
            s.session(if nosetsid { Session::Inherit } else { Session::New }).setup(&mut join);
            if let Some(((_, w), n)) = &ready {
                s.fd_move(w.fd(), Fd(*n as i32));
            }
            if let Some(e) = envp {
                s.env(e);
            }
            s.exec(c"./run", argv.as_argv())
        });
        // Our write end closes here (dropped): the reader sees the end
        // when run and what it leaves behind close theirs.
        let ready = ready.map(|((r, _), _)| r);
        match r.and_then(|r| r) {
            Ok(pid) => {
                self.pgid = if nosetsid { sys::getpgid(0).unwrap_or(0) } else { pid };
                self.ready_fd = ready;
                Ok(pid)
            }
            Err(e) => {
                err::warn_unable(&[b"spawn ./run"], e);
                // rinit's own event: whoever waits for `u` learns it will not come.
                self.event(b"F");
                Err(())
            }
        }
    }

    /// Starts `./finish CODE SIGNAL NAME PGID` in its own session: CODE is
    /// run's exit code or 256 when a signal killed it, SIGNAL that signal
    /// (0 if none).
    fn start_finish(&self, ws: WaitStatus) -> Result<Pid, Errno> {
        let mut bufs = [[0u8; 21]; 3];
        let [code, signo, group] = &mut bufs;
        let mut argv = ArgvBuf::<6>::new();
        argv.push(c"./finish");
        argv.push(number(ws.code_or_256() as u64, code));
        argv.push(number(ws.signaled().unwrap_or(0) as u64, signo));
        argv.push(self.name);
        argv.push(number(self.pgid.max(0) as u64, group));
        let mut join = || {
            if let Err(e) = cgroup::join() {
                err::warn_unable(&[b"join the service's cgroup"], e);
            }
            Ok(())
        };
        Spawn::new().session(Session::New).setup(&mut join).exec(c"./finish", argv.as_argv())
    }
}


/// A setting's value, or `default` after one warning naming the file.
#[inline(always)]
pub(crate) fn setting<T>(r: Result<T, Errno>, file: &[u8], default: T) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            bad_setting(file, e);
            default
        }
    }
}

fn bad_setting(file: &[u8], e: Errno) {
    if e == errno::EINVAL {
        err::warn(&[b"invalid ./", file, b": using the default"]);
    } else {
        err::warn_unable(&[b"read ./", file], e);
    }
}

/// `D`, `Q` and `U` make the default state stick: create or remove `./down`.
fn set_down_file(down: bool) {
    let r = if down {
        sys::open(c"down", Open::WRONLY | Open::CREATE, 0o644).map(drop)
    } else {
        match sys::unlink(c"down") {
            Err(errno::ENOENT) => Ok(()),
            r => r,
        }
    };
    if let Err(e) = r {
        err::warn_unable(&[if down { b"create" } else { b"remove" }, b" ./down"], e);
    }
}

/// Points stdin and stdout at /dev/null, so a logger reading our output
/// sees its end (s6's `x`).
pub fn close_stdio() {
    for (fd, flags) in [(sys::STDIN, Open::RDONLY), (sys::STDOUT, Open::WRONLY)] {
        match sys::open(c"/dev/null", flags, 0) {
            Ok(n) => {
                // dup2 onto 0 or 1 from a fresh descriptor cannot fail.
                let _ = sys::dup2(n.fd(), fd);
            }
            Err(e) => err::warn_unable(&[b"open /dev/null"], e),
        }
    }
}

/// `run`'s child's own step: join the service's cgroup, and take the lock
/// on SERVICE_LOCK as `lock-fd` when asked, so run and everything it leaves
/// behind hold it: while any of them lives, the next run fails to start
/// (EBUSY) and is retried.
fn run_setup(lock: Option<u32>) -> Result<(), Errno> {
    cgroup::join()?;
    let Some(n) = lock else { return Ok(()) };
    // Closed when dropped, once dup'ed onto `lock-fd`.
    let fd = sys::open(SERVICE_LOCK, Open::WRONLY | Open::CREATE, 0o644)?;
    match sys::lock_exclusive_nb(fd.fd()) {
        Ok(true) => sys::dup2(fd.fd(), Fd(n as i32)),
        _ => Err(errno::EBUSY), // the last run's processes still hold it
    }
}

/// `n` in decimal as a C string (for an argv), written in `b`.
fn number(n: u64, b: &mut [u8; 21]) -> &CStr {
    let (digits, _nul) = b.split_at_mut(20);
    let len = <&mut [u8; 20]>::try_from(digits).map_or(0, |d| fmt::u64_dec(n, d).len());
    sys::cstr(b.get(20 - len..).unwrap_or(&[])).unwrap_or(c"0")
}
