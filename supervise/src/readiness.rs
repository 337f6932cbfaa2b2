//! Readiness and health of a service beyond s6's `notification-fd`:
//! systemd's sd_notify on a datagram socket (`notify-socket`), a `check`
//! program run until it succeeds (`check-interval`), and two deadlines,
//! `timeout-ready` and `timeout-watchdog`. The state machine of
//! `service` asks this module what `run` gets before it starts, tells it
//! when `run` starts, becomes ready and dies, feeds it the socket, the
//! deaths of `check` and the clock, and acts on the `Outcome`.
//!
//! Who may speak on the socket: `run` itself, and while `run` leads its own
//! session (no `nosetsid`), any process of that session, which is what
//! `run` forks unless it calls setsid(2) itself. The sender is the pid the
//! kernel vouches for (SO_PASSCRED); it must still exist when the
//! supervisor reads the datagram, since its session is asked then.

use crate::notifystate::{self, State, STATUS_MAX};
use crate::service::setting;
use base::spawn::{Session, Spawn};
use base::fmt::{self, Buf};
use base::servicedir as sd;
use base::sys::{self, errno, sig, Argv, ArgvBuf, Errno, Fd, OwnedFd, Pid, StaticCell, WaitStatus, UNIX_PATH_MAX};
use base::err;
use core::ffi::CStr;

const HERE: &[u8] = b".";
const MS: u64 = 1_000_000;

/// The socket, inside the service directory.
pub const SOCKET: &CStr = c"supervise/notify";
/// Longest sd_notify datagram taken (systemd's own limit); a longer one is
/// dropped with a warning.
pub const DATAGRAM_MAX: usize = 4096;
/// Most environment variables `run` gets once NOTIFY_SOCKET is added; more
/// and `run` does not start (E2BIG).
pub const ENV_MAX: usize = 512;

const NOTIFY_SOCKET: &[u8] = b"NOTIFY_SOCKET=";
const WATCHDOG_USEC: &[u8] = b"WATCHDOG_USEC=";

/// What the socket's messages need: in .bss, touched only by a supervisor
/// whose service has a socket, so the others keep their one data page.
struct Messages {
    datagram: [u8; DATAGRAM_MAX],
    status: Buf<STATUS_MAX>,
    has_status: bool,
    stopping: bool,
}

static MESSAGES: StaticCell<Messages> =
    StaticCell::new(Messages { datagram: [0; DATAGRAM_MAX], status: Buf::new(), has_status: false, stopping: false });

/// What `run` is given beside s6's environment.
#[derive(Clone, Copy, Default)]
pub struct RunEnv {
    notify: bool,
    watchdog_ms: u64,
}

/// What the caller must do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    /// The service is ready.
    Ready,
    /// `timeout-ready` passed first: restart it.
    NotReadyInTime,
    /// No `WATCHDOG=1` within `timeout-watchdog`: restart it.
    WatchdogMissed,
}

/// Monotonic deadlines are 0 when unset.
pub struct Readiness {
    name: &'static CStr,
    sock: Option<OwnedFd>,
    msgs: Option<&'static mut Messages>,
    /// This run's sources.
    notify: bool,
    check: bool,
    /// A socket or a `check` asked for but unusable still holds
    /// readiness back.
    notify_file: bool,
    check_file: bool,
    interval_ns: u64,
    watchdog_ns: u64,
    /// Who may speak: `run`, and its session (0: none of its own).
    pid: Pid,
    sid: Pid,
    check_pid: Pid,
    waiting: bool,
    next_check: u64,
    ready_by: u64,
    watchdog_by: u64,
}

impl Readiness {
    pub fn new(name: &'static CStr) -> Readiness {
        Readiness {
            name,
            sock: None,
            msgs: None,
            notify: false,
            check: false,
            notify_file: false,
            check_file: false,
            interval_ns: 0,
            watchdog_ns: 0,
            pid: 0,
            sid: 0,
            check_pid: 0,
            waiting: false,
            next_check: 0,
            ready_by: 0,
            watchdog_by: 0,
        }
    }

    /// The socket to watch, if any.
    pub fn fd(&self) -> Option<Fd> {
        self.sock.as_ref().map(OwnedFd::fd)
    }

    /// Does this run report readiness through the socket or `check`?
    pub fn awaits(&self) -> bool {
        self.notify_file || self.check_file
    }

    /// The nearest deadline, 0 for none.
    pub fn deadline(&self) -> u64 {
        [self.next_check, self.ready_by, self.watchdog_by].into_iter().filter(|&d| d != 0).min().unwrap_or(0)
    }

    /// Reads this run's settings, makes the socket if it is asked for, and
    /// returns what `run` gets.
    #[inline(never)]
    pub fn before_run(&mut self) -> RunEnv {
        self.notify_file = setting(sd::notify_socket(HERE), sd::NOTIFY_SOCKET, false);
        self.notify = self.notify_file && self.open_socket();
        if self.notify {
            self.drain();
        }
        let has = sd::has(HERE, sd::CHECK);
        self.check_file = has == Ok(true);
        self.check = match has {
            Ok(true) => match sys::access_exec(c"check") {
                Ok(()) => true,
                Err(e) => {
                    err::warn_sys(&[b"./check cannot run, the service will never be ready"], e);
                    false
                }
            },
            Ok(false) => false,
            Err(e) => {
                err::warn_unable(&[b"read ./check"], e);
                false
            }
        };
        // Read only when it can matter: one system call less at each start.
        if self.check {
            self.interval_ns = setting(sd::check_interval(HERE), sd::CHECK_INTERVAL, sd::CHECK_INTERVAL_DEFAULT).saturating_mul(MS);
        }
        let watchdog_ms = setting(sd::timeout_watchdog(HERE), sd::TIMEOUT_WATCHDOG, 0);
        if watchdog_ms > 0 && !self.notify {
            err::warn(&[b"./timeout-watchdog without a notify socket: ignored"]);
        }
        let watchdog_ms = if self.notify { watchdog_ms } else { 0 };
        self.watchdog_ns = watchdog_ms.saturating_mul(MS);
        RunEnv { notify: self.notify, watchdog_ms }
    }

    /// `run` started as `pid`, leading session `sid` (0 when it does not);
    /// `ready`: it has no readiness to report.
    #[inline(never)]
    pub fn started(&mut self, pid: Pid, sid: Pid, ready: bool, now: u64) {
        self.pid = pid;
        self.sid = sid;
        self.waiting = !ready;
        if let Some(m) = self.msgs.as_deref_mut() {
            m.has_status = false;
            m.stopping = false;
            if let Err(e) = notifystate::clear() {
                err::warn_unable(&[b"remove ", notifystate::FILE.to_bytes()], e);
            }
        }
        let t = setting(sd::timeout_ready(HERE), sd::TIMEOUT_READY, 0);
        self.ready_by = if ready || t == 0 { 0 } else { now.saturating_add(t.saturating_mul(MS)) };
        self.next_check = if self.check && !ready { now } else { 0 };
        self.watchdog_by = 0;
        if ready {
            self.became_ready(now);
        }
    }

    /// The service is ready (from whichever source): stop waiting, start
    /// the watchdog.
    pub fn became_ready(&mut self, now: u64) {
        self.waiting = false;
        self.ready_by = 0;
        self.next_check = 0;
        self.watchdog_by = if self.watchdog_ns > 0 { now.saturating_add(self.watchdog_ns) } else { 0 };
    }

    /// `run` died: no more deadlines, no more checks, nobody may speak.
    pub fn run_died(&mut self) {
        self.waiting = false;
        self.pid = 0;
        self.sid = 0;
        self.next_check = 0;
        self.ready_by = 0;
        self.watchdog_by = 0;
        if self.check_pid > 0 {
            // `check` leads its own process group; before its setsid, only itself.
            let _ = sys::kill(-self.check_pid, sig::KILL);
            let _ = sys::kill(self.check_pid, sig::KILL);
        }
    }

    /// A child died: true if it was `check` (then `outcome` says what next).
    pub fn is_check(&self, pid: Pid) -> bool {
        self.check_pid != 0 && pid == self.check_pid
    }

    /// `check` ended: exit 0 while waiting means ready; otherwise it runs
    /// again `check-interval` after it ended.
    pub fn check_done(&mut self, ws: WaitStatus, now: u64) -> Outcome {
        self.check_pid = 0;
        if !self.waiting {
            return Outcome::Nothing;
        }
        if ws.exited() == Some(0) {
            return Outcome::Ready;
        }
        self.next_check = now.saturating_add(self.interval_ns);
        Outcome::Nothing
    }

    /// Runs what is due: a deadline missed, or the next `check`.
    #[inline(never)]
    pub fn tick(&mut self, now: u64) -> Outcome {
        if self.ready_by != 0 && self.ready_by <= now {
            self.waiting = false;
            self.ready_by = 0;
            self.next_check = 0;
            return Outcome::NotReadyInTime;
        }
        if self.watchdog_by != 0 && self.watchdog_by <= now {
            self.watchdog_by = 0;
            return Outcome::WatchdogMissed;
        }
        if self.next_check != 0 && self.next_check <= now {
            self.next_check = 0;
            match self.spawn_check() {
                Ok(pid) => self.check_pid = pid,
                Err(e) => {
                    err::warn_unable(&[b"spawn ./check"], e);
                    self.next_check = now.saturating_add(self.interval_ns);
                }
            }
        }
        Outcome::Nothing
    }

    /// The socket is readable: takes every datagram waiting.
    #[inline(never)]
    pub fn receive(&mut self, now: u64) -> Outcome {
        let (Some(fd), Some(m)) = (self.fd(), self.msgs.take()) else { return Outcome::Nothing };
        let mut out = Outcome::Nothing;
        let mut changed = false;
        while let Ok(d) = sys::recv_with_pid(fd, &mut m.datagram) {
            let why: &[u8] = if !self.speaks(d.pid) {
                b"not a process of the service"
            } else if d.len > DATAGRAM_MAX {
                b"longer than 4096 bytes"
            } else {
                match self.take(m, d.len, now) {
                    Ok((ready, c)) => {
                        if ready {
                            out = Outcome::Ready;
                        }
                        changed |= c;
                        continue;
                    }
                    Err(why) => why,
                }
            };
            dropped(d.pid, why);
        }
        if changed {
            let text = if m.has_status { Some(m.status.as_bytes()) } else { None };
            if let Err(e) = notifystate::write(State { status: text, stopping: m.stopping }) {
                err::warn_unable(&[b"write ", notifystate::FILE.to_bytes()], e);
            }
        }
        self.msgs = Some(m);
        out
    }

    // ------------------------------------------------------------ helpers

    /// One message of `len` bytes in `m.datagram`: (READY=1 while waiting,
    /// the kept state changed), or why it is dropped whole.
    #[inline(never)]
    fn take(&mut self, m: &mut Messages, len: usize, now: u64) -> Result<(bool, bool), &'static [u8]> {
        let msg = m.datagram.get(..len).unwrap_or(&[]);
        if !well_formed(msg) {
            return Err(b"malformed");
        }
        let (mut ready, mut changed) = (false, false);
        for line in msg.split(|&c| c == b'\n') {
            if line == b"READY=1" {
                ready |= self.waiting;
            } else if line == b"WATCHDOG=1" {
                if self.watchdog_by != 0 {
                    self.watchdog_by = now.saturating_add(self.watchdog_ns);
                }
            } else if line == b"STOPPING=1" {
                changed |= !m.stopping;
                m.stopping = true;
            } else if let Some(text) = line.strip_prefix(b"STATUS=") {
                if text.len() > STATUS_MAX {
                    err::warn(&[b"STATUS= longer than 256 bytes: not kept"]);
                    continue;
                }
                m.status.clear();
                m.status.push(text);
                m.has_status = true;
                changed = true;
            }
        }
        Ok((ready, changed))
    }

    /// May the process `pid` speak for the service?
    fn speaks(&self, pid: Pid) -> bool {
        pid > 0 && (pid == self.pid || (self.sid > 0 && sys::getsid(pid) == Ok(self.sid)))
    }

    /// Binds the socket once (a stale one from an earlier supervisor is
    /// replaced: we hold `supervise/lock`); false after a warning when it
    /// cannot be made.
    fn open_socket(&mut self) -> bool {
        if self.sock.is_some() {
            return true;
        }
        let mut b = [0u8; NOTIFY_SOCKET.len() + UNIX_PATH_MAX];
        let r = env_entry(&mut b).and_then(|entry| {
            let path = sys::cstr(entry.to_bytes_with_nul().get(NOTIFY_SOCKET.len()..).unwrap_or(&[])).ok_or(errno::EINVAL)?;
            match sys::unlink(SOCKET) {
                Ok(()) | Err(errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
            // Only the supervisor's user may connect (besides the 0700 of supervise/).
            let old = sys::umask(0o077);
            let r = sys::unix_dgram_bind(path);
            sys::umask(old);
            r
        });
        match r {
            Ok(fd) => {
                self.sock = Some(fd);
                self.msgs = MESSAGES.take();
                true
            }
            Err(e) => {
                err::warn_unable(&[b"bind ", SOCKET.to_bytes()], e);
                false
            }
        }
    }

    /// Throws away what an earlier run left unread.
    fn drain(&mut self) {
        if let (Some(fd), Some(m)) = (self.sock.as_ref().map(OwnedFd::fd), self.msgs.as_deref_mut()) {
            while sys::recv_with_pid(fd, &mut m.datagram).is_ok() {}
        }
    }

    /// Starts `./check NAME` in its own session.
    fn spawn_check(&self) -> Result<Pid, Errno> {
        let mut argv = ArgvBuf::<3>::new();
        argv.push(c"./check");
        argv.push(self.name);
        Spawn::new().session(Session::New).exec(c"./check", argv.as_argv())
    }
}

#[inline(never)]
fn dropped(pid: Pid, why: &[u8]) {
    let mut n = [0u8; 20];
    err::warn(&[b"dropped an sd_notify message from pid ", fmt::u64_dec(pid.max(0) as u64, &mut n), b": ", why]);
}

/// An sd_notify message: no NUL, and each non-empty line a KEY=VALUE.
fn well_formed(msg: &[u8]) -> bool {
    let (mut len, mut eq) = (0, false);
    for &c in msg.iter().chain(b"\n") {
        match c {
            0 => return false,
            b'\n' if len > 0 && !eq => return false,
            b'\n' => (len, eq) = (0, false),
            _ => (len, eq) = (len + 1, eq || c == b'='),
        }
    }
    true
}

/// `NOTIFY_SOCKET=/abs/service/supervise/notify` in `b`: the socket's
/// absolute path, as sd_notify's clients want it (they may change
/// directory). ENAMETOOLONG when the path does not fit a socket address.
fn env_entry(b: &mut [u8; NOTIFY_SOCKET.len() + UNIX_PATH_MAX]) -> Result<&CStr, Errno> {
    let (head, rest) = b.split_at_mut(NOTIFY_SOCKET.len());
    head.copy_from_slice(NOTIFY_SOCKET);
    // A working directory longer than the room left is ERANGE to getcwd.
    let cwd = sys::getcwd(rest).map_err(|e| if e == errno::ERANGE { errno::ENAMETOOLONG } else { e })?;
    let tail = b"/supervise/notify\0";
    rest.get_mut(cwd..cwd + tail.len()).ok_or(errno::ENAMETOOLONG)?.copy_from_slice(tail);
    sys::cstr(b.get(..NOTIFY_SOCKET.len() + cwd + tail.len()).unwrap_or(&[])).ok_or(errno::EINVAL)
}

/// Calls `f` with the environment `run` gets: None (this process's) or,
/// when asked, this one's with NOTIFY_SOCKET and WATCHDOG_USEC added
/// (replacing inherited ones). WATCHDOG_PID is left out, so a daemon
/// `run` forks may send `WATCHDOG=1`. Err: it could not be made.
pub fn with_run_env<R>(env: RunEnv, f: impl FnOnce(Option<Argv>) -> R) -> Result<R, Errno> {
    if !env.notify {
        return Ok(f(None));
    }
    with_notify_env(env, f)
}

/// `with_run_env`'s environment with NOTIFY_SOCKET, out of line: its
/// buffers (4 KiB of pointers, a socket path) would otherwise sit in the
/// frame of every start, whose stack probes touch each of their pages, in
/// every supervisor, whether or not its service is notified.
#[inline(never)]
fn with_notify_env<R>(env: RunEnv, f: impl FnOnce(Option<Argv>) -> R) -> Result<R, Errno> {
    let mut sock = [0u8; NOTIFY_SOCKET.len() + UNIX_PATH_MAX];
    let sock = env_entry(&mut sock)?;
    let mut wd = Buf::<48>::new();
    wd.push(WATCHDOG_USEC).u64(env.watchdog_ms.saturating_mul(1000)).byte(0);
    let mut envp = ArgvBuf::<ENV_MAX>::new();
    let mut full = false;
    sys::environ().for_each(&mut |v| {
        let b = v.to_bytes();
        if !(b.starts_with(NOTIFY_SOCKET) || b.starts_with(WATCHDOG_USEC) || b.starts_with(b"WATCHDOG_PID=")) {
            full |= !envp.push(v);
        }
    });
    full |= !envp.push(sock);
    if env.watchdog_ms > 0 {
        full |= !envp.push(sys::cstr(wd.as_bytes()).unwrap_or(c""));
    }
    if full {
        return Err(errno::E2BIG);
    }
    Ok(f(Some(envp.as_argv())))
}
