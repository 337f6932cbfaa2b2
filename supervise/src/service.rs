//! One supervised service: s6-supervise's state machine. The supervisor is
//! in the service directory; `run` is up, or `finish` is running after it,
//! or nothing runs. Every change is written to `supervise/status` and
//! announced on `event/`. The caller owns the event loop and feeds this
//! machine the deaths of its children, its signals, the control letters,
//! the readiness pipe and the clock (`timeout_ms`, `tick`).
//!
//! (`#[inline(never)]` on some entry points: measured, it makes the binary
//! smaller.)

use crate::cgroup;
use crate::deathtally;
use crate::readiness::{self, Outcome, Readiness, RunEnv};
use base::fmt;
use base::servicedir as sd;
use base::spawn::{Session, Spawn};
use base::status::{self, Status};
use base::sys::{self, errno, sig, ArgvBuf, Errno, Fd, Open, Pid, WaitStatus};
use base::tai64n::Tai64n;
use base::{err, fifodir};
use core::ffi::CStr;

/// The service directory, as seen from inside it.
const HERE: &[u8] = b".";
const MS: u64 = 1_000_000;
/// A `run` that dies younger than this is restarted only this long after its start.
pub const RESPAWN_MIN_NS: u64 = 1000 * MS;
/// Wait after a failed start (fork, pipe or exec failure) before the next try.
pub const RETRY_NS: u64 = 1000 * MS;
/// The file whose lock `run` inherits on its `lock-fd` descriptor (as s6).
pub const SERVICE_LOCK: &CStr = c"supervise/service-lock";
/// KILL is repeated this often while a killed process still lingers.
pub const KILL_REPEAT_NS: u64 = 5000 * MS;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing runs.
    Down,
    /// `run` runs.
    Up,
    /// `finish` runs.
    Finish,
    /// `run` runs and the supervisor exits once it is down.
    LastUp,
    /// `finish` runs and the supervisor exits once it is done.
    LastFinish,
}

pub struct Service {
    /// The service directory's name as given: `run`'s first argument.
    name: &'static CStr,
    state: State,
    st: Status,
    /// Process group of `run` (its pid when it has its own session).
    pgid: Pid,
    /// Read end of the readiness pipe while `run` has not reported.
    ready_fd: Option<Fd>,
    /// Monotonic time of the next timed action, if any.
    deadline: Option<u64>,
    /// Monotonic time before which `run` is not started again.
    respawn_at: u64,
    /// The down signal was sent and timeout-kill is running.
    dying: bool,
    /// False once the supervisor should exit.
    pub running: bool,
    /// The notify socket, `check` and the readiness deadlines.
    health: Readiness,
}

impl Service {
    pub fn new(name: &'static CStr, start_down: bool) -> Service {
        let now = Tai64n::now();
        Service {
            name,
            state: State::Down,
            st: Status { stamp: now, readystamp: now, want_up: !start_down, ready: true, ..Status::default() },
            pgid: 0,
            ready_fd: None,
            deadline: None,
            respawn_at: 0,
            dying: false,
            running: true,
            health: Readiness::new(name),
        }
    }

    /// Publishes the initial state and starts `run` unless it starts down.
    #[inline(never)]
    pub fn begin(&mut self) {
        self.announce();
        self.event(b"s");
        if self.st.want_up {
            self.start();
        }
    }

    /// The readiness pipe to watch, if any.
    pub fn ready_fd(&self) -> Option<Fd> {
        self.ready_fd
    }

    /// The notify socket to watch, if any.
    pub fn notify_fd(&self) -> Option<Fd> {
        self.health.fd()
    }

    /// Milliseconds until the next timed action (rounded up), -1 for none.
    pub fn timeout_ms(&self, now: u64) -> i64 {
        let d = match (self.deadline, self.health.deadline()) {
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
    pub fn tick(&mut self, now: u64) {
        let o = self.health.tick(now);
        self.on_health(o);
        match self.deadline {
            Some(d) if d <= now => {}
            _ => return,
        }
        self.deadline = None;
        match self.state {
            State::Down => {
                if self.st.want_up {
                    self.start();
                }
            }
            State::Up | State::LastUp => {
                if self.dying {
                    self.kill(sig::KILL);
                    cgroup::kill();
                    self.deadline = Some(now + KILL_REPEAT_NS);
                }
            }
            State::Finish | State::LastFinish => {
                err::warn(&[b"./finish timed out: sending it KILL"]);
                self.kill(sig::CONT);
                self.kill(sig::KILL);
                cgroup::kill();
                self.deadline = Some(now + KILL_REPEAT_NS);
            }
        }
    }

    /// A child ended; only `run` or `finish` matter (others are failed spawns).
    #[inline(never)]
    pub fn child_died(&mut self, pid: Pid, ws: WaitStatus) {
        if self.health.is_check(pid) {
            let o = self.health.check_done(ws, sys::now_mono_ns());
            self.on_health(o);
            return;
        }
        if pid as u64 != self.st.pid || self.st.pid == 0 {
            return;
        }
        match self.state {
            State::Up => {
                if self.run_died(ws) {
                    self.state = State::Finish;
                }
            }
            State::LastUp => {
                if self.run_died(ws) {
                    self.state = State::LastFinish;
                } else {
                    self.running = false;
                }
            }
            State::Finish => self.finish_done(ws),
            State::LastFinish => {
                self.finish_done(ws);
                self.running = false;
            }
            State::Down => {}
        }
        // A service that had been up long enough restarts now, not after
        // another turn of the event loop.
        if self.running {
            self.tick(sys::now_mono_ns());
        }
    }

    /// The readiness pipe is readable: a newline means ready.
    #[inline(never)]
    pub fn readiness(&mut self) {
        let Some(fd) = self.ready_fd else { return };
        let mut buf = [0u8; 64];
        match sys::read(fd, &mut buf) {
            Ok(n) if n > 0 => {
                if buf.iter().take(n).any(|&c| c == b'\n') {
                    self.now_ready();
                }
            }
            // Closed without a word: stop listening.
            _ => self.close_ready(),
        }
    }

    /// The notify socket is readable.
    pub fn notified(&mut self) {
        let o = self.health.receive(sys::now_mono_ns());
        self.on_health(o);
    }

    /// The supervisor got `signo`: TERM = `d` then `x`; HUP = `x`; QUIT =
    /// exit now, leaving the service alone; INT = INT to the service's
    /// process group, then exit now.
    #[inline(never)]
    pub fn signal(&mut self, signo: i32) {
        let up = matches!(self.state, State::Up | State::LastUp);
        match signo {
            sig::TERM if up => {
                self.state = State::LastUp;
                self.stop();
            }
            sig::TERM | sig::HUP => self.command(b'x'),
            sig::INT => {
                if up {
                    self.kill_group(sig::INT);
                }
                self.running = false;
            }
            _ => self.running = false,
        }
    }

    /// One byte from the control FIFO, with s6-svc's meaning; others are ignored.
    pub fn command(&mut self, c: u8) {
        let up = matches!(self.state, State::Up | State::LastUp);
        let last = matches!(self.state, State::LastUp | State::LastFinish);
        if let Some(i) = SIGNAL_LETTERS.iter().position(|&l| l == c) {
            let s = SIGNAL_NUMBERS.get(i).map_or(0, |&s| s as i32);
            if up {
                if i >= GROUP_LETTERS { self.kill_group(s) } else { self.kill(s) }
                if s == sig::STOP || s == sig::CONT {
                    self.st.paused = s == sig::STOP;
                    self.announce();
                }
            }
            return;
        }
        match c {
            b'r' if up => self.kill(setting(sd::down_signal(HERE), sd::DOWN_SIGNAL, sig::TERM)),
            b'l' if up => self.kill(setting(sd::reload_signal(HERE), sd::RELOAD_SIGNAL, sig::HUP)),
            b'u' | b'U' => {
                if c == b'U' {
                    set_down_file(false);
                }
                if !last {
                    self.want(true);
                    if self.state == State::Down {
                        self.start();
                    }
                }
            }
            b'd' | b'D' => {
                if c == b'D' {
                    set_down_file(true);
                }
                if up {
                    self.stop();
                } else if !last {
                    self.want(false);
                }
            }
            b'o' | b'O' | b'Q' => {
                if c == b'Q' {
                    set_down_file(true);
                }
                if self.state != State::LastFinish {
                    self.want(false);
                }
                if c == b'o' && self.state == State::Down {
                    self.start();
                }
            }
            b'x' => {
                if self.state == State::Down {
                    self.running = false;
                } else {
                    self.state = if up { State::LastUp } else { State::LastFinish };
                    close_stdio();
                }
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ transitions

    fn want(&mut self, up: bool) {
        self.st.want_up = up;
        self.announce();
    }

    /// Starts `run`: Down → Up, or a warning and a retry in a second.
    fn start(&mut self) {
        let now = sys::now_mono_ns();
        self.deadline = None;
        let env = self.health.before_run();
        match self.spawn_run(env) {
            Ok(pid) => {
                self.state = State::Up;
                self.st.pid = pid as u64;
                self.st.stamp = Tai64n::now();
                // Without a readiness source, up is ready.
                self.st.ready = self.ready_fd.is_none() && !self.health.awaits();
                self.health.started(pid, if self.pgid == pid { pid } else { 0 }, self.st.ready, now);
                if self.st.ready {
                    self.st.readystamp = self.st.stamp;
                }
                self.respawn_at = now + RESPAWN_MIN_NS;
                self.announce();
                self.event(if self.st.ready { b"uU" } else { b"u" });
            }
            Err(()) => {
                self.respawn_at = now + RETRY_NS;
                self.deadline = Some(self.respawn_at);
            }
        }
    }

    /// The down signal, then CONT (a stopped process must see it), to `run`
    /// or to the service's whole cgroup, and the timeout-kill clock.
    fn stop(&mut self) {
        self.st.want_up = false;
        for s in [setting(sd::down_signal(HERE), sd::DOWN_SIGNAL, sig::TERM), sig::CONT] {
            if !cgroup::signal(s) {
                self.kill(s);
            }
        }
        self.st.paused = false;
        self.announce();
        self.arm_kill();
    }

    /// Starts the timeout-kill clock, if there is one.
    fn arm_kill(&mut self) {
        let t = setting(sd::timeout_kill(HERE), sd::TIMEOUT_KILL, 0);
        if t > 0 {
            self.dying = true;
            self.deadline = Some(sys::now_mono_ns().saturating_add(t.saturating_mul(MS)));
        }
    }

    /// `run` is ready (from any source): s6's `U`, once per run.
    fn now_ready(&mut self) {
        self.close_ready();
        if self.st.ready || !matches!(self.state, State::Up | State::LastUp) {
            return;
        }
        self.st.ready = true;
        self.st.readystamp = Tai64n::now();
        self.announce();
        self.event(b"U");
        self.health.became_ready(sys::now_mono_ns());
    }

    /// Acts on what the readiness sources said. A missed deadline: one line
    /// naming the service, an event letter s6 does not use (`T` not ready
    /// in time, `W` watchdog), and a restart: the down signal, then KILL
    /// after timeout-kill.
    #[inline(never)]
    fn on_health(&mut self, o: Outcome) {
        let (letter, what): (&[u8], &[u8]) = match o {
            Outcome::Nothing => return,
            Outcome::Ready => return self.now_ready(),
            Outcome::NotReadyInTime => (b"T", b"not ready within ./timeout-ready: restarting it"),
            Outcome::WatchdogMissed => (b"W", b"no WATCHDOG=1 within ./timeout-watchdog: restarting it"),
        };
        // Not while it is being stopped: that is already under way.
        if !matches!(self.state, State::Up | State::LastUp) || self.dying || !self.st.want_up {
            return;
        }
        err::warn(&[what]);
        self.event(letter);
        self.command(b'r');
        self.kill(sig::CONT);
        self.arm_kill();
    }

    /// `run` died: record it, then run `finish` (true) or go down (false).
    fn run_died(&mut self, ws: WaitStatus) -> bool {
        cgroup::end();
        let now = Tai64n::now();
        self.st.wstat = ws.0 as u16;
        self.st.paused = false;
        self.st.ready = false;
        self.st.stamp = now;
        self.dying = false;
        self.deadline = None;
        self.close_ready();
        self.health.run_died();
        let max = setting(sd::max_death_tally(HERE), sd::MAX_DEATH_TALLY, sd::MAX_DEATH_TALLY_DEFAULT);
        if let Err(e) = deathtally::add(&deathtally::record(now, ws), max) {
            err::warn_unable(&[b"write ", deathtally::FILE.to_bytes()], e);
        }
        // No ./finish (or none we can see): straight to down, no fork.
        let spawned = if sd::has(HERE, sd::FINISH) == Ok(true) { Some(self.spawn_finish(ws)) } else { None };
        match spawned {
            Some(Ok(pid)) => {
                self.st.pid = pid as u64;
                self.st.finishing = true;
                self.announce();
                self.event(b"d");
                let t = setting(sd::timeout_finish(HERE), sd::TIMEOUT_FINISH, sd::TIMEOUT_FINISH_DEFAULT);
                if t > 0 {
                    self.deadline = Some(sys::now_mono_ns().saturating_add(t.saturating_mul(MS)));
                }
                true
            }
            Some(Err(e)) => {
                err::warn_unable(&[b"spawn ./finish"], e);
                self.down_and_ready(b"dD");
                false
            }
            None => {
                self.down_and_ready(b"dD");
                false
            }
        }
    }

    /// `finish` ended: exit 125 means "do not restart".
    fn finish_done(&mut self, ws: WaitStatus) {
        cgroup::end();
        if ws.exited() == Some(125) {
            self.st.want_up = false;
            self.down_and_ready(b"OD");
        } else {
            self.down_and_ready(b"D");
        }
    }

    /// Down, nothing running; a wanted restart waits for the throttle.
    fn down_and_ready(&mut self, events: &[u8]) {
        self.state = State::Down;
        self.st.pid = 0;
        self.st.finishing = false;
        self.st.ready = true;
        self.st.readystamp = Tai64n::now();
        self.deadline = if self.st.want_up { Some(self.respawn_at.max(sys::now_mono_ns())) } else { None };
        self.announce();
        self.event(events);
    }

    // ------------------------------------------------------------ helpers

    fn announce(&self) {
        if let Err(e) = status::write_here(&self.st) {
            err::warn_unable(&[b"write supervise/status"], e);
        }
    }

    /// Sends event letters to the listeners of `event/`.
    pub fn event(&self, letters: &[u8]) {
        // No listener, or a listener gone: events are best effort, as s6's.
        let _ = fifodir::notify_c(c"event", letters);
    }

    fn kill(&self, s: i32) {
        if self.st.pid != 0 {
            // ESRCH: run died and is not reaped yet; its death is handled next.
            let _ = sys::kill(self.st.pid as Pid, s);
        }
    }

    /// Signals `run`'s process group, or only `run` when it shares ours.
    fn kill_group(&self, s: i32) {
        if self.pgid > 0 && sys::getpgid(0).map(|g| g != self.pgid).unwrap_or(false) {
            // ESRCH: the group is empty already.
            let _ = sys::kill(-self.pgid, s);
        } else {
            self.kill(s);
        }
    }

    fn close_ready(&mut self) {
        if let Some(fd) = self.ready_fd.take() {
            sys::close(fd);
        }
    }

    /// Starts `./run`. A failure before its exec (the child's errno) comes
    /// back from the spawn, so a run that cannot start never counts as up.
    fn spawn_run(&mut self, env: RunEnv) -> Result<Pid, ()> {
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
            if let Some(((_, w), n)) = ready {
                s.fd_move(w, Fd(n as i32));
            }
            if let Some(e) = envp {
                s.env(e);
            }
            s.exec(c"./run", argv.as_argv())
        });
        if let Some(((_, w), _)) = ready {
            sys::close(w);
        }
        match r.and_then(|r| r) {
            Ok(pid) => {
                self.pgid = if nosetsid { sys::getpgid(0).unwrap_or(0) } else { pid };
                self.ready_fd = ready.map(|((r, _), _)| r);
                Ok(pid)
            }
            Err(e) => {
                err::warn_unable(&[b"spawn ./run"], e);
                // rinit's own event: whoever waits for `u` learns it will not come.
                self.event(b"F");
                if let Some(((r, _), _)) = ready {
                    sys::close(r);
                }
                Err(())
            }
        }
    }

    /// Starts `./finish CODE SIGNAL NAME PGID` in its own session: CODE is
    /// run's exit code or 256 when a signal killed it, SIGNAL that signal
    /// (0 if none).
    fn spawn_finish(&self, ws: WaitStatus) -> Result<Pid, Errno> {
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

/// The letters that signal `run` (those from GROUP_LETTERS on signal its
/// process group), and their signals.
const SIGNAL_LETTERS: &[u8] = b"abqhkti12ypcPCK";
const SIGNAL_NUMBERS: [u8; 15] = [14, 6, 3, 1, 9, 15, 2, 10, 12, 28, 19, 18, 19, 18, 9];
const GROUP_LETTERS: usize = 12;

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
        sys::open(c"down", Open::WRONLY | Open::CREATE, 0o644).map(sys::close)
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
                let _ = sys::dup2(n, fd);
                sys::close(n);
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
    let fd = sys::open(SERVICE_LOCK, Open::WRONLY | Open::CREATE, 0o644)?;
    match sys::lock_exclusive_nb(fd) {
        Ok(true) => sys::dup2(fd, Fd(n as i32)),
        _ => Err(Errno(16)), // EBUSY: the last run's processes still hold it
    }
}

/// `n` in decimal as a C string (for an argv), written in `b`.
fn number(n: u64, b: &mut [u8; 21]) -> &CStr {
    let (digits, _nul) = b.split_at_mut(20);
    let len = <&mut [u8; 20]>::try_from(digits).map_or(0, |d| fmt::u64_dec(n, d).len());
    sys::cstr(b.get(20 - len..).unwrap_or(&[])).unwrap_or(c"0")
}
