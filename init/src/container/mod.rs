//! Zero configuration: `rinit -- CMD [ARG...]` in a container with no
//! basedir. rinit stays the container's init (pid 1, or a child subreaper
//! when something else is pid 1): it supervises the service directories
//! and the rc tree it finds (none is needed), runs CMD once they are up,
//! passes signals on, and when CMD ends or the runtime asks for the stop,
//! stops everything, reaps everything, and exits with one code:
//!
//! - CMD's (128+N when signal N killed it), 0 when `-e` lists it;
//! - a `critical` service's when its `run` died first;
//! - 111 when `-f stop` gave up on late services;
//! - 0 without CMD, after a clean stop.
//!
//! The code is also written to `/run/rinit/exitcode`. In the normal case
//! nothing of rinit's own is printed (`-v 2` or `RINIT_VERBOSITY=2` for the
//! info lines).

pub mod cmd;
pub mod ending;
pub mod live;
pub mod options;
pub mod prefix;
pub mod programs;
pub mod rc;
pub mod services;

use crate::stage1;
use base::err;
use base::path::PathBuf;
use base::sys::{self, errno, sig, Args, Fd, Pid, PollFd, SigSet, WaitStatus};
use options::{Late, Options};
use services::Services;

/// How often the readiness of the services is looked at while CMD waits (ms).
pub const READY_POLL_MS: i64 = 5;
/// How long the reaping goes on after KILL before rinit gives up on a process (ms).
pub const KILL_WAIT_MS: u64 = 1000;

/// The signals rinit takes through its signalfd.
const TAKEN: SigSet = SigSet::of(&[sig::CHLD, sig::TERM, sig::INT, sig::HUP, sig::QUIT, sig::USR1, sig::USR2, sig::WINCH]);

/// Is this a zero-configuration start? No basedir named (`-c`, or the
/// program's name `/x/bin/init`) nor installed (`/etc/rinit/run-image`),
/// and container mode: not pid 1 (boot mode needs pid 1), `-C`, or a pid
/// namespace that is not the machine's first.
pub fn wanted(o: &stage1::Options) -> bool {
    if o.named {
        return false;
    }
    let installed = PathBuf::join(o.basedir, &[b"/run-image"]).ok().and_then(|p| sys::exists(p.as_cstr()).ok());
    if installed != Some(false) {
        return false;
    }
    sys::getpid() != 1 || stage1::container_mode(o)
}

/// Why the container stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// TERM or INT from the runtime.
    Signal,
    /// CMD ended.
    Cmd,
    /// A critical service's `run` died with this code.
    Critical(u8),
    /// `-f stop`: the services were late.
    Late,
}

struct Container {
    o: Options,
    pid1: bool,
    sigfd: Fd,
    cmd: Option<Pid>,
    cmd_status: Option<WaitStatus>,
    scanner: Option<Pid>,
    /// The running `rinit-rc change` (up at the start, down at the end).
    rc_job: Option<Pid>,
    rc_status: Option<WaitStatus>,
    stop: Option<Stop>,
    stopping: bool,
    /// No child left (wait said ECHILD).
    alone: bool,
}

pub fn run(args: Args) -> ! {
    let o = options::parse(&args);
    let pid1 = sys::getpid() == 1;
    if !pid1 && let Err(e) = sys::set_child_subreaper() {
        err::fatal_unable(err::EXIT_SYS, &[b"become a child subreaper"], e);
    }
    // What the runtime ignored must not be ignored by CMD and the services;
    // a closed output must not end rinit (children get PIPE back).
    stage1::default_signals();
    let _ = sys::sig_default(sig::PIPE, false); // cannot fail for PIPE
    let sigfd = take_signals();
    if o.info() {
        err::info(&[if pid1 { &b"container entrypoint as pid 1"[..] } else { b"container entrypoint as a child subreaper" }]);
    }
    live::prepare(pid1, o.info());
    let search = programs::Search::new(args.get(0).map(|a| a.to_bytes()).unwrap_or(b""));
    let mut c = Container { o, pid1, sigfd, cmd: None, cmd_status: None, scanner: None, rc_job: None, rc_status: None, stop: None, stopping: false, alone: false };

    // The services: copied into the scan directory, supervised, brought up.
    let svc = services::prepare(&c.o);
    if svc.any() || rc::present(&c.o) {
        c.scanner = services::start_scanner(&search);
    }
    let mut rc_failed = false;
    match rc::start(&c.o, &search) {
        rc::Start::Absent => {}
        rc::Start::Failed => rc_failed = true,
        rc::Start::Started(pid) => c.rc_job = Some(pid),
    }
    c.wait_for_services(&svc, rc_failed);

    // CMD, once they are up (or the wait has ended), to its end or the stop.
    if c.stop.is_none() {
        match cmd::start(&args, &c.o) {
            Some(cmd::Started::Running(pid)) => c.cmd = Some(pid),
            Some(cmd::Started::Failed(code)) => {
                // As if it had run and exited with the code.
                c.cmd_status = Some(WaitStatus((code as i32) << 8));
                c.stop = Some(Stop::Cmd);
            }
            None => {}
        }
    }
    while c.stop.is_none() {
        c.pump(&svc, -1);
    }

    c.end(&svc, &search);
    let code = c.exit_code();
    crate::stage2::record_exit_code(code as u64);
    if c.o.info() {
        let mut b = crate::Line::new();
        b.push(b"exiting with code ").u64(code as u64);
        err::info(&[b.as_bytes()]);
    }
    sys::exit(code as i32)
}

/// Blocks the signals rinit handles and takes them through a signalfd
/// (children get an empty mask back before exec).
fn take_signals() -> Fd {
    let r = sys::sig_block(TAKEN).and_then(|_| sys::signalfd(TAKEN));
    r.unwrap_or_else(|e| err::fatal_unable(err::EXIT_SYS, &[b"take the signals"], e))
}

impl Container {
    /// CMD waits until every service is up and ready, at most `-w` ms;
    /// then `-f` says what a late or failed service means.
    fn wait_for_services(&mut self, svc: &Services, rc_failed: bool) {
        let deadline = sys::now_mono_ns().saturating_add(self.o.wait_ms.saturating_mul(1_000_000));
        let mut late = crate::Line::new();
        loop {
            late.clear();
            let n = svc.late(&mut late);
            if n == 0 && self.rc_job.is_none() {
                break;
            }
            let now = sys::now_mono_ns();
            // Without a scanner (it could not start) the services will not come.
            if self.stop.is_some() || now >= deadline || (n > 0 && self.scanner.is_none()) {
                break;
            }
            let left = (deadline - now).div_ceil(1_000_000).min(READY_POLL_MS as u64) as i64;
            self.pump(svc, left);
        }
        if self.stop.is_some() {
            return;
        }
        let mut n = late.len();
        let mut add = |what: &[u8]| {
            if n > 0 {
                late.push(b", ");
            }
            late.push(what);
            n += 1;
        };
        if self.rc_job.is_some() {
            add(b"the rc services (still starting)");
        } else if rc_failed || self.rc_status.is_some_and(|st| st.exited() != Some(0)) {
            add(b"the rc services (failed)");
        }
        if late.is_empty() {
            return;
        }
        let mut wait = crate::Line::new();
        wait.u64(self.o.wait_ms);
        match self.o.late {
            Late::Continue => {}
            Late::Warn => {
                if self.o.warnings() {
                    err::warn(&[b"not up after ", wait.as_bytes(), b" ms: ", late.as_bytes(), b": starting CMD anyway"]);
                }
            }
            Late::Stop => {
                err::fatal_line(&[b"not up after ", wait.as_bytes(), b" ms: ", late.as_bytes(), b": stopping the container"], errno::ETIMEDOUT);
                self.stop = Some(Stop::Late);
            }
        }
    }

    /// Waits at most `timeout_ms` (-1: no limit) for a signal or a critical
    /// service's event, and handles what came.
    fn pump(&mut self, svc: &Services, timeout_ms: i64) {
        let mut fds = [PollFd::read(Fd(-1)); 1 + services::CRITICAL_MAX];
        if let Some(p) = fds.first_mut() {
            *p = PollFd::read(self.sigfd);
        }
        let n = 1 + if self.stopping { 0 } else { svc.critical_fds(&mut fds, 1) };
        match sys::poll(fds.get_mut(..n).unwrap_or(&mut []), timeout_ms) {
            Ok(_) | Err(errno::EINTR) => {}
            Err(e) => {
                err::warn_unable(&[b"poll"], e);
                sys::sleep_ms(100);
            }
        }
        if fds.first().is_some_and(|p| p.ready) {
            self.signals();
        }
        for k in 0..n.saturating_sub(1) {
            if !fds.get(k + 1).is_some_and(|p| p.ready) {
                continue;
            }
            if let Some((name, code)) = svc.critical_death(k)
                && self.stop.is_none()
                && !self.stopping
            {
                if self.o.warnings() {
                    let mut b = crate::Line::new();
                    b.push(b"critical service ").push(name).push(b" died (code ").u64(code as u64).push(b"): stopping the container");
                    err::warn(&[b.as_bytes()]);
                }
                self.stop = Some(Stop::Critical(code));
            }
        }
    }

    fn signals(&mut self) {
        while let Ok(Some(s)) = sys::signalfd_read(self.sigfd) {
            match s {
                sig::CHLD => self.reap(),
                sig::TERM | sig::INT => {
                    if self.stop.is_none() {
                        self.stop = Some(Stop::Signal);
                    }
                }
                _ => self.forward(s),
            }
        }
        // A CHLD merged with one read before: reap whatever is there.
        self.reap();
    }

    /// HUP, QUIT, USR1, USR2, WINCH: to CMD (its group with `-g`).
    fn forward(&self, s: i32) {
        if let Some(pid) = self.cmd {
            // ESRCH: CMD is ending; its end is reaped next.
            let _ = sys::kill(if self.o.group { -pid } else { pid }, s);
        }
    }

    fn reap(&mut self) {
        loop {
            match sys::wait_any_nohang() {
                Ok(Some((pid, st))) => {
                    if Some(pid) == self.cmd {
                        self.cmd = None;
                        self.cmd_status = Some(st);
                        if self.o.info() {
                            let mut b = crate::Line::new();
                            crate::spawn::describe(&mut b, st);
                            err::info(&[b"CMD ", b.as_bytes()]);
                        }
                        if self.stop.is_none() {
                            self.stop = Some(Stop::Cmd);
                        }
                    } else if Some(pid) == self.rc_job {
                        self.rc_job = None;
                        self.rc_status = Some(st);
                    } else if Some(pid) == self.scanner {
                        self.scanner = None;
                        if !self.stopping && self.o.warnings() {
                            err::warn(&[b"rinit-scan ended: the services are no longer supervised"]);
                        }
                    }
                }
                Ok(None) => return,
                Err(errno::ECHILD) => {
                    self.alone = true;
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// Waits until `done` holds or `ms` have passed.
    fn wait_while(&mut self, svc: &Services, ms: u64, done: fn(&Container) -> bool) -> bool {
        let deadline = sys::now_mono_ns().saturating_add(ms.saturating_mul(1_000_000));
        loop {
            if done(self) {
                return true;
            }
            let now = sys::now_mono_ns();
            if now >= deadline {
                return false;
            }
            self.pump(svc, (deadline - now).div_ceil(1_000_000) as i64);
        }
    }

    /// The stop: the rc services down in reverse dependency order, TERM to
    /// CMD (its group with `-g`), TERM to every process left, a grace time
    /// that ends as soon as none is left, KILL, and every child reaped.
    fn end(&mut self, svc: &Services, search: &programs::Search) {
        self.stopping = true;
        let none = svc;
        if self.o.info() {
            err::info(&[b"stopping the container"]);
        }
        if sys::exists(rc::LIVE).unwrap_or(false) {
            self.rc_job = rc::stop(&self.o, search);
            if !self.wait_while(none, self.o.grace_ms, |c| c.rc_job.is_none()) && self.o.warnings() {
                err::warn(&[b"the rc services did not stop within the grace time"]);
            }
        }
        if let Some(pid) = self.cmd {
            let target = if self.o.group { -pid } else { pid };
            // ESRCH: CMD ended meanwhile.
            let _ = sys::kill(target, sig::TERM);
            let _ = sys::kill(target, sig::CONT);
        }
        // What an earlier wait said may be stale: rinit-rc ran since.
        self.alone = false;
        self.reap();
        if self.alone {
            return;
        }
        ending::signal_all(self.pid1, sig::TERM, &self.known());
        if self.wait_while(none, self.o.grace_ms, |c| c.alone) {
            return;
        }
        if self.o.warnings() {
            let mut b = crate::Line::new();
            b.push(b"grace time of ").u64(self.o.grace_ms).push(b" ms elapsed: sending every process the KILL signal");
            err::warn(&[b.as_bytes()]);
        }
        ending::signal_all(self.pid1, sig::KILL, &self.known());
        if !self.wait_while(none, KILL_WAIT_MS, |c| c.alone) {
            err::warn(&[b"some processes survived SIGKILL"]);
        }
    }

    /// The processes rinit started, as `ending` signals them: CMD (its
    /// group with `-g`), the scanner's session (its pid is the group's), an rc job.
    fn known(&self) -> [Pid; 3] {
        let cmd = self.cmd.map(|p| if self.o.group { -p } else { p });
        [cmd.unwrap_or(0), self.scanner.map(|p| -p).unwrap_or(0), self.rc_job.unwrap_or(0)]
    }

    fn exit_code(&self) -> u8 {
        let cmd = self.cmd_status.map(|st| match (st.exited(), st.signaled()) {
            (Some(c), _) => self.o.map_code(c),
            (None, Some(s)) => self.o.map_code(128u8.saturating_add(s)),
            _ => 111,
        });
        match (self.stop, cmd) {
            (Some(Stop::Critical(code)), _) => code,
            (Some(Stop::Late), _) => err::EXIT_SYS as u8,
            (_, Some(c)) => c,
            // CMD could not be started at all.
            (Some(Stop::Cmd), None) => err::EXIT_SYS as u8,
            _ => 0,
        }
    }
}
