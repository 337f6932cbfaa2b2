//! The state-change engine: from the set of services that are up to the
//! set asked for, in parallel. Every service whose prerequisites are done is
//! started at once (dependencies when going up, dependents when going down);
//! the engine waits on one epoll set for the oneshot runner's answers and
//! for longrun supervisors' event fifodirs, with per-service and global
//! deadlines. A failure stops the services that need the failed one from
//! being touched; what was done stays done. This module is the shell: the
//! order (what may start now, what a failure rules out), the deadlines and
//! what an event letter means are `schedule`'s, a machine without a clock
//! or a process that the unit tests drive.
//!
//! Oneshots: `up`/`down` argv straight from the database (pre-tokenized),
//! handed to the oneshot runner of the supervision tree (`oneshot`), which
//! runs them with the tree's environment and output and kills them at
//! their deadline.
//! Longruns: subscribe to `<scandir>/NAME/event` first, read the status,
//! then send `u` (wait `u`, or `U` when it reports readiness: `notification-fd`,
//! `notify-socket`, `check`) or `d` (wait `D`); `F` (the supervisor cannot
//! spawn `run`) and `T` (its `timeout-ready` passed) fail it at once.

use crate::db::{Db, F_ESSENTIAL, F_NOTIFY, Kind, MAX_SERVICES, Svc};
use crate::live::{Stamp, T_FAILED, T_UP};
use base::control;
use base::err;
use base::fifodir::Listener;
use base::fmt::Buf;
use base::path::PathBuf;
use base::status;
use base::sys::{self, OwnedFd, WaitStatus, errno, sig};
use base::wait::Goal;
use crate::oneshot::Reply;

/// Most services being started or stopped at the same moment (each waiting
/// longrun holds two descriptors); the others queue.
pub const MAX_INFLIGHT: usize = 500;
/// While a change takes longer, the services it still waits for are named
/// this often (ms).
pub const WAITING_REPORT_MS: u64 = 5000;
/// Most words in one `up`/`down` command line.
pub const MAX_ARGV: usize = crate::oneshot::MAX_ARGV;

mod schedule;

use schedule::{Schedule, Verdict};

/// The epoll token of the connection to the oneshot runner.
const RUNNER_TOKEN: u64 = u64::MAX;

/// One service in flight (all zero: a free slot).
#[derive(Clone, Copy)]
pub struct Slot {
    used: bool,
    goal_ready: bool,
    oneshot: bool,
    svc: u32,
    pid: i32,
    deadline: u64,
}

const FREE: Slot = Slot {
    used: false,
    goal_ready: false,
    oneshot: false,
    svc: 0,
    pid: 0,
    deadline: 0,
};

/// Every table of a change (zero-initialised: keep it in a static).
pub struct Tables {
    /// 1 when the service is up: the live `state`, kept current.
    pub state: [u8; MAX_SERVICES],
    /// Services selected for the transition.
    pub plan: [u8; MAX_SERVICES],
    phase: [u8; MAX_SERVICES],
    pending: [u32; MAX_SERVICES],
    queue: [u32; MAX_SERVICES],
    stack: [u32; MAX_SERVICES],
    slots: [Slot; MAX_INFLIGHT],
    /// The event listener of each slot's longrun.
    listeners: [Option<Listener>; MAX_INFLIGHT],
    /// When each service's last transition started and ended (the live
    /// `timeline`).
    pub stamps: [Stamp; MAX_SERVICES],
    /// The connection to the oneshot runner, made at the first oneshot.
    pub runner: crate::oneshot::Client,
}

impl Default for Tables {
    fn default() -> Self {
        Self::new()
    }
}

impl Tables {
    pub const fn new() -> Tables {
        Tables {
            state: [0; MAX_SERVICES],
            plan: [0; MAX_SERVICES],
            phase: [0; MAX_SERVICES],
            pending: [0; MAX_SERVICES],
            queue: [0; MAX_SERVICES],
            stack: [0; MAX_SERVICES],
            slots: [FREE; MAX_INFLIGHT],
            listeners: [const { None }; MAX_INFLIGHT],
            stamps: [Stamp::NEVER; MAX_SERVICES],
            runner: crate::oneshot::Client::new(),
        }
    }
}

/// How a change runs.
pub struct Opts<'a> {
    /// `<live>/scandir`: where the longruns' service dirs are.
    pub scandir: &'a [u8],
    /// The live directory: its oneshot runner runs the oneshots.
    pub live: &'a [u8],
    pub verbosity: u32,
    pub dry_run: bool,
    /// Absolute monotonic deadline in ns for the whole change (0: none).
    pub deadline: u64,
    /// Called whenever `state` changed (to save it).
    pub save: &'a mut dyn FnMut(&[u8; MAX_SERVICES]),
}

// ---------------------------------------------------------------- planning

/// Marks the services named (bundles expanded) in `t.plan`; Err(name) for
/// an unknown one.
pub fn select<'n>(
    db: &Db,
    t: &mut Tables,
    names: &mut dyn Iterator<Item = &'n [u8]>,
) -> Result<(), &'n [u8]> {
    for name in names {
        let Some(s) = db.find(name) else {
            return Err(name);
        };
        if s.kind() == Kind::Bundle {
            for d in s.deps().iter() {
                set(&mut t.plan, d, 1);
            }
        } else {
            set(&mut t.plan, s.index, 1);
        }
    }
    Ok(())
}

/// Adds every service that is up (`-a`).
pub fn select_up(db: &Db, t: &mut Tables) {
    for i in 0..db.len() {
        if get(&t.state, i as u32) != 0 {
            set(&mut t.plan, i as u32, 1);
        }
    }
}

/// The byte of service `i` in a per-service table (0 past its end).
pub fn get(a: &[u8], i: u32) -> u8 {
    a.get(i as usize).copied().unwrap_or(0)
}

/// Sets the byte of service `i` in a per-service table (ignored past its end).
pub fn set(a: &mut [u8], i: u32, v: u8) {
    if let Some(x) = a.get_mut(i as usize) {
        *x = v;
    }
}

/// Closes `plan` over dependencies (`up`) or dependents (`!up`).
pub fn close(db: &Db, t: &mut Tables, up: bool) {
    let mut top = 0usize;
    for i in 0..db.len() as u32 {
        if get(&t.plan, i) != 0
            && let Some(x) = t.stack.get_mut(top)
        {
            *x = i;
            top += 1;
        }
    }
    while top > 0 {
        top -= 1;
        let s = db.svc(t.stack.get(top).copied().unwrap_or(0));
        let next = if up { s.deps() } else { s.rdeps() };
        for d in next.iter() {
            if get(&t.plan, d) == 0 {
                set(&mut t.plan, d, 1);
                if let Some(x) = t.stack.get_mut(top) {
                    *x = d;
                    top += 1;
                }
            }
        }
    }
}

/// Keeps in `plan` only what must change: down services for `up`, up
/// services otherwise. Going down without `force`, an essential service
/// and everything it needs stay up.
pub fn restrict(db: &Db, t: &mut Tables, up: bool, force: bool) {
    for i in 0..db.len() as u32 {
        let s = db.svc(i);
        let is_up = get(&t.state, i) != 0;
        if s.kind() == Kind::Bundle || is_up == up {
            set(&mut t.plan, i, 0);
        }
    }
    if up || force {
        return;
    }
    for i in 0..db.len() as u32 {
        if get(&t.plan, i) != 0 && db.svc(i).flags() & F_ESSENTIAL != 0 {
            keep_up(db, t, i);
        }
    }
}

fn keep_up(db: &Db, t: &mut Tables, i: u32) {
    set(&mut t.plan, i, 0);
    for d in db.svc(i).deps().iter() {
        if get(&t.plan, d) != 0 {
            keep_up(db, t, d);
        }
    }
}

/// Prune (`-p`): `plan` becomes the services that are up but not in the
/// dependency closure of the selection; the closure itself is returned in
/// `keep`.
pub fn prune_plan(db: &Db, t: &mut Tables, keep: &mut [u8; MAX_SERVICES]) {
    close(db, t, true);
    keep.copy_from_slice(&t.plan);
    for i in 0..db.len() as u32 {
        let v = (get(&t.state, i) != 0 && get(keep, i) == 0) as u8;
        set(&mut t.plan, i, v);
    }
}

// ---------------------------------------------------------------- running

/// Brings every service of `t.plan` up (`up`) or down; returns the number
/// of services that failed or were not touched because of a failure.
pub fn run(db: &Db, t: &mut Tables, up: bool, o: &mut Opts) -> usize {
    let sched = Schedule::new(db, t, up);
    if sched.is_empty() {
        return 0;
    }
    let mut e = Engine {
        db,
        up,
        failures: 0,
        inflight: 0,
        ep: None,
        dirty: false,
        sched,
    };
    if !o.dry_run
        && let Err(er) = e.open()
    {
        err::warn_unable(&[b"set up the event loop"], er);
        return db.len();
    }
    let mut tokens = [0u64; 64];
    let mut said = sys::now_mono_ns();
    loop {
        while e.inflight < MAX_INFLIGHT
            && let Some(s) = e.sched.next(t)
        {
            e.start(t, s, o);
        }
        if e.dirty {
            (o.save)(&t.state);
            e.dirty = false;
        }
        if e.inflight == 0 && e.sched.drained() {
            break;
        }
        if o.dry_run {
            continue;
        }
        let next = schedule::nearest(o.deadline, t.slots.iter().filter(|s| s.used).map(|s| s.deadline));
        // Wake up to say what is still awaited, however long the deadlines.
        let wait_ms = schedule::wait_ms(next, sys::now_mono_ns(), WAITING_REPORT_MS);
        let got = match e.ep.as_ref().map_or(Ok(0), |ep| sys::epoll_wait(ep.fd(), &mut tokens, wait_ms)) {
            Ok(g) => g,
            Err(er) => {
                err::warn_unable(&[b"wait for events"], er);
                sys::sleep_ms(10);
                0
            }
        };
        for &tok in tokens.iter().take(got) {
            if tok == RUNNER_TOKEN {
                e.hear_runner(t, o);
            } else {
                e.event(t, tok as usize, o);
            }
        }
        e.expire(t, o);
        if o.verbosity >= 1 && sys::now_mono_ns().saturating_sub(said) >= WAITING_REPORT_MS * 1_000_000 {
            said = sys::now_mono_ns();
            say_waiting(db, t, up);
        }
    }
    e.close();
    t.runner.disconnect();
    e.failures
}

/// What "up" means for a longrun: ready when it notifies readiness.
fn up_goal(notify: bool) -> Goal {
    if notify { Goal::UpReady } else { Goal::Up }
}

/// `still waiting for NAME (12 s), NAME...`: the services in flight, each
/// with how long it has been going, as many as one line holds.
fn say_waiting(db: &Db, t: &Tables, up: bool) {
    let mut b = Buf::<{ err::MSG_MAX }>::new();
    b.push(if up { b"still waiting for services to start: " } else { b"still waiting for services to stop: " });
    let now = sys::now_mono_ns();
    for (k, slot) in t.slots.iter().filter(|s| s.used).enumerate() {
        if k > 0 {
            b.push(b", ");
        }
        let started = t.stamps.get(slot.svc as usize).map_or(now, |s| s.start);
        b.push(db.svc(slot.svc).name()).push(b" (").u64(now.saturating_sub(started) / 1_000_000_000).push(b" s)");
    }
    err::info(&[b.mark_cut().as_bytes()]);
}

/// The end of service `i`'s transition (its `up` too, if no `u` came).
fn stamp_end(t: &mut Tables, i: u32, flags: u32) {
    if let Some(st) = t.stamps.get_mut(i as usize) {
        st.ready = sys::now_mono_ns();
        if st.up == 0 {
            st.up = st.ready;
        }
        st.flags |= flags;
    }
}

struct Engine<'d> {
    db: &'d Db<'d>,
    up: bool,
    failures: usize,
    inflight: usize,
    /// The epoll set; None in a dry run, and once the change is over.
    ep: Option<OwnedFd>,
    dirty: bool,
    sched: Schedule,
}

/// Why a service failed, for the warning line.
enum Why {
    Exited(WaitStatus),
    TimedOut,
    Sys(&'static [u8], sys::Errno),
    WillNotRestart,
    SupervisorGone,
    /// Its supervisor gave up waiting for readiness (`timeout-ready`, event `T`).
    NotReady,
    /// The oneshot runner went away while it ran the script.
    RunnerGone,
}

impl Engine<'_> {
    fn open(&mut self) -> Result<(), sys::Errno> {
        // Without the higher limit, EMFILE is reported per service.
        let _ = sys::raise_rlimit(sys::RLIMIT_NOFILE);
        // Valid constant arguments: these cannot fail.
        let _ = sys::sig_default(sig::PIPE, false);
        self.ep = Some(sys::epoll_create()?);
        Ok(())
    }

    fn close(&mut self) {
        self.ep = None;
    }

    fn say(&self, o: &Opts, s: &Svc, what: &[u8]) {
        if o.verbosity >= 2 {
            err::info(&[b"service ", s.name(), what]);
        }
    }

    fn start(&mut self, t: &mut Tables, i: u32, o: &mut Opts) {
        let s = self.db.svc(i);
        self.say(
            o,
            &s,
            if self.up {
                b": starting"
            } else {
                b": stopping"
            },
        );
        if o.dry_run {
            crate::cli::line(&[if self.up { b"start " } else { b"stop " }, s.name()]);
            self.done(t, i, o);
            return;
        }
        if !self.up && get(&t.state, i) != 0 {
            // Counted down before it is told to stop: a run killed from
            // here on leaves a service counted down that may still be up,
            // which the next `-u` change puts right, never one counted up
            // that is down, which no change would look at again.
            set(&mut t.state, i, 0);
            (o.save)(&t.state);
        }
        if let Some(st) = t.stamps.get_mut(i as usize) {
            let waited = st.waited;
            *st = Stamp { start: sys::now_mono_ns(), waited, flags: if self.up { T_UP } else { 0 }, ..Stamp::NEVER };
        }
        let Some(k) = t.slots.iter().position(|x| !x.used) else {
            self.fail(t, i, Why::Sys(b"no free slot", errno::EAGAIN), o);
            return;
        };
        let timeout = if self.up {
            s.timeout_up()
        } else {
            s.timeout_down()
        };
        let deadline = if timeout == 0 {
            0
        } else {
            sys::now_mono_ns() + timeout as u64 * 1_000_000
        };
        let r = match s.kind() {
            Kind::Oneshot => match self.start_oneshot(t, &s, o, deadline) {
                Ok(false) => {
                    // A oneshot with nothing to run (no `down`).
                    self.done(t, i, o);
                    return;
                }
                Ok(true) => Ok((Slot { used: true, svc: i, pid: 0, deadline, goal_ready: false, oneshot: true }, None)),
                Err(w) => Err(w),
            },
            _ => match self.start_longrun(&s, o, k) {
                Ok(None) => {
                    // Already in the wanted state.
                    self.done(t, i, o);
                    return;
                }
                Ok(Some((l, goal_ready))) => Ok((
                    Slot {
                        used: true,
                        svc: i,
                        pid: 0,
                        deadline,
                        goal_ready,
                        oneshot: false,
                    },
                    Some(l),
                )),
                Err(w) => Err(w),
            },
        };
        match r {
            Ok((slot, l)) => {
                if let Some(x) = t.slots.get_mut(k) {
                    *x = slot;
                }
                if let Some(x) = t.listeners.get_mut(k) {
                    *x = l;
                }
                self.inflight += 1;
            }
            Err(w) => self.fail(t, i, w, o),
        }
    }

    /// Hands the oneshot's script to the runner (connecting first); false
    /// when there is nothing to run. The runner kills it at the earlier of
    /// its own deadline and the change's.
    fn start_oneshot(&mut self, t: &mut Tables, s: &Svc, o: &mut Opts, deadline: u64) -> Result<bool, Why> {
        let end = match (deadline, o.deadline) {
            (0, g) => g,
            (d, 0) => d,
            (d, g) => d.min(g),
        };
        let timeout_ms = match end {
            0 => 0,
            e => e.saturating_sub(sys::now_mono_ns()).div_ceil(1_000_000).clamp(1, u32::MAX as u64) as u32,
        };
        if !self.up && s.flags() & crate::db::F_HAS_DOWN == 0 {
            return Ok(false);
        }
        if t.runner.connect(o.live, o.scandir, end).map_err(|(w, e)| Why::Sys(w, e))?
            && let Some(fd) = t.runner.fd()
            && let Err(e) = self.ep.as_ref().map_or(Err(errno::EBADF), |ep| sys::epoll_add_read(ep.fd(), fd, RUNNER_TOKEN))
        {
            t.runner.disconnect();
            return Err(Why::Sys(b"unable to watch the oneshot runner", e));
        }
        match t.runner.start(self.db, s, self.up, timeout_ms) {
            Ok(run) => Ok(run),
            Err((w, e)) => {
                // Whatever it was running for us is lost with it.
                self.runner_gone(t, o);
                Err(Why::Sys(w, e))
            }
        }
    }

    /// The runner's answers: a script started (its pid, to end its session
    /// at our deadline), ended, or was refused. A runner that has gone
    /// fails every oneshot in flight.
    fn hear_runner(&mut self, t: &mut Tables, o: &mut Opts) {
        loop {
            let reply = match t.runner.next() {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(_) => return self.runner_gone(t, o),
            };
            let (Reply::Started { tag, .. } | Reply::Ended { tag, .. } | Reply::Refused { tag, .. }) = reply;
            let Some(k) = t.slots.iter().position(|x| x.used && x.oneshot && x.svc == tag) else {
                continue;
            };
            match reply {
                Reply::Started { pid, .. } => {
                    if let Some(x) = t.slots.get_mut(k) {
                        x.pid = pid;
                    }
                }
                Reply::Ended { status, timed_out, .. } => {
                    self.release(t, k);
                    match (timed_out, status.exited()) {
                        (true, _) => self.fail(t, tag, Why::TimedOut, o),
                        (false, Some(0)) => self.done(t, tag, o),
                        (false, _) => self.fail(t, tag, Why::Exited(status), o),
                    }
                }
                Reply::Refused { e, .. } => {
                    self.release(t, k);
                    self.fail(t, tag, Why::Sys(b"refused by the oneshot runner", e), o);
                }
            }
        }
    }

    /// The runner has gone: every oneshot in flight fails, and its script,
    /// left without anyone to answer for it, is ended with its session.
    fn runner_gone(&mut self, t: &mut Tables, o: &mut Opts) {
        t.runner.disconnect();
        for k in 0..MAX_INFLIGHT {
            let Some(&s) = t.slots.get(k) else { continue };
            if !(s.used && s.oneshot) {
                continue;
            }
            if s.pid > 0 {
                // ESRCH: the script is over already.
                let _ = sys::kill(-s.pid, sig::KILL);
                let _ = sys::kill(s.pid, sig::KILL);
            }
            self.release(t, k);
            self.fail(t, s.svc, Why::RunnerGone, o);
        }
    }

    /// Subscribes to the longrun's events and sends it `u` or `d`; None
    /// when it already is where it should be.
    fn start_longrun(
        &mut self,
        s: &Svc,
        o: &Opts,
        k: usize,
    ) -> Result<Option<(Listener, bool)>, Why> {
        let dir = crate::live::service_dir(self.db, o.scandir, s.index)
            .map_err(|e| Why::Sys(b"path", e))?;
        let ev = PathBuf::join(dir.as_bytes(), &[b"/event"]).map_err(|e| Why::Sys(b"path", e))?;
        let l = Listener::new(ev.as_bytes())
            .map_err(|e| Why::Sys(b"unable to listen to its event fifodir", e))?;
        let notify = s.flags() & F_NOTIFY != 0;
        let st = match status::read(dir.as_bytes()) {
            Ok(st) => st,
            // A supervisor that has not written its first status yet: down.
            Err(errno::ENOENT) if control::is_supervised(dir.as_bytes()) == Ok(true) => {
                status::Status::default()
            }
            Err(e) => {
                l.close();
                return Err(Why::Sys(
                    b"unable to read its status (is it supervised?)",
                    e,
                ));
            }
        };
        // Already there? (Going down, "down" is enough: a service that was
        // never started has no "ready" flag and will send no `D`.)
        let already = if self.up { up_goal(notify) } else { Goal::Down };
        if already.met_by(&st) {
            l.close();
            return Ok(None);
        }
        let watch = |ep: &OwnedFd| sys::epoll_add_read(ep.fd(), l.fd(), k as u64);
        if let Err(e) = self.ep.as_ref().map_or(Err(errno::EBADF), watch) {
            l.close();
            return Err(Why::Sys(b"unable to watch its events", e));
        }
        if let Err(e) = control::send(dir.as_bytes(), if self.up { b"u" } else { b"d" }) {
            l.close();
            return Err(Why::Sys(b"unable to control its supervisor", e));
        }
        Ok(Some((l, notify)))
    }

    fn event(&mut self, t: &mut Tables, k: usize, o: &mut Opts) {
        let Some(slot) = t.slots.get(k) else { return };
        let Some(Some(l)) = t.listeners.get(k) else {
            return;
        };
        if !slot.used {
            return;
        }
        let (svc, goal) = (
            slot.svc,
            if self.up {
                up_goal(slot.goal_ready)
            } else {
                Goal::DownReady
            },
        );
        let mut buf = [0u8; 64];
        let mut outcome: Option<Result<(), Why>> = None;
        loop {
            let n = match l.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    outcome = Some(Err(Why::Sys(b"unable to read events", e)));
                    break;
                }
            };
            for &c in buf.get(..n).unwrap_or(&[]) {
                if c == b'u'
                    && let Some(st) = t.stamps.get_mut(svc as usize)
                {
                    st.up = sys::now_mono_ns();
                }
                let r = schedule::verdict(goal, c).map(|v| match v {
                    Verdict::Reached => Ok(()),
                    Verdict::WillNotRestart => Err(Why::WillNotRestart),
                    Verdict::NotReady => Err(Why::NotReady),
                    Verdict::CannotSpawn => {
                        let (what, e) = crate::live::cannot_spawn(self.db, o.scandir, svc);
                        Err(Why::Sys(what, e))
                    }
                    Verdict::SupervisorGone => Err(Why::SupervisorGone),
                });
                if outcome.is_none() {
                    outcome = r;
                }
            }
        }
        match outcome {
            Some(Ok(())) => {
                self.release(t, k);
                self.done(t, svc, o);
            }
            Some(Err(w)) => {
                self.release(t, k);
                self.fail(t, svc, w, o);
            }
            None => {}
        }
    }

    fn expire(&mut self, t: &mut Tables, o: &mut Opts) {
        let now = sys::now_mono_ns();
        let global = o.deadline != 0 && now >= o.deadline;
        for k in 0..MAX_INFLIGHT {
            let Some(s) = t.slots.get(k) else { continue };
            if !s.used {
                continue;
            }
            if !schedule::is_due(s.deadline, o.deadline, now) {
                continue;
            }
            let (svc, pid) = (s.svc, s.pid);
            if s.oneshot {
                // The runner kills it at the same deadline; this is for a
                // runner that cannot: the whole session, the script and
                // whatever it started.
                if pid > 0 {
                    // ESRCH: the session or the script is gone already.
                    let _ = sys::kill(-pid, sig::KILL);
                    let _ = sys::kill(pid, sig::KILL);
                }
            } else if self.up {
                // A longrun that did not come up in time is sent back down.
                if let Ok(dir) = crate::live::service_dir(self.db, o.scandir, svc) {
                    // A supervisor gone cannot be told: the service is reported as timed out anyway.
                    let _ = control::send(dir.as_bytes(), b"d");
                }
            }
            self.release(t, k);
            self.fail(t, svc, Why::TimedOut, o);
        }
        if global {
            // Nothing new starts after the global deadline.
            self.failures += self.sched.give_up(self.db, t);
        }
    }

    fn release(&mut self, t: &mut Tables, k: usize) {
        if let Some(Some(l)) = t.listeners.get_mut(k).map(|x| x.take()) {
            l.close();
        }
        if let Some(x) = t.slots.get_mut(k)
            && x.used
        {
            *x = FREE;
            self.inflight = self.inflight.saturating_sub(1);
        }
    }

    fn done(&mut self, t: &mut Tables, i: u32, o: &mut Opts) {
        let s = self.db.svc(i);
        stamp_end(t, i, 0);
        set(&mut t.state, i, self.up as u8);
        self.dirty = true;
        self.say(
            o,
            &s,
            if self.up {
                b" successfully started"
            } else {
                b" successfully stopped"
            },
        );
        self.sched.done(self.db, t, i);
    }

    fn fail(&mut self, t: &mut Tables, i: u32, why: Why, o: &mut Opts) {
        let s = self.db.svc(i);
        stamp_end(t, i, T_FAILED);
        if !self.up {
            // It did not stop (as far as we know): counted up again.
            set(&mut t.state, i, 1);
            self.dirty = true;
        }
        self.failures += 1;
        if o.verbosity >= 1 {
            let verb: &[u8] = if self.up {
                b"unable to start service "
            } else {
                b"unable to stop service "
            };
            let mut b = Buf::<64>::new();
            match why {
                Why::Exited(ws) => match ws.signaled() {
                    Some(sg) => {
                        b.push(b"command crashed with signal ").u64(sg as u64);
                    }
                    None => {
                        b.push(b"command exited ")
                            .u64(ws.exited().unwrap_or(0) as u64);
                    }
                },
                Why::TimedOut => {
                    b.push(b"timed out");
                }
                Why::WillNotRestart => {
                    b.push(b"it will not be restarted (run failed permanently)");
                }
                Why::SupervisorGone => {
                    b.push(b"its supervisor exited");
                }
                Why::NotReady => {
                    b.push(b"not ready within its timeout-ready");
                }
                Why::RunnerGone => {
                    b.push(b"the oneshot runner exited");
                }
                Why::Sys(what, e) => {
                    err::warn_sys(&[verb, s.name(), b": ", what], e);
                }
            }
            if !b.is_empty() {
                err::warn(&[verb, s.name(), b": ", b.as_bytes()]);
            }
        }
        // What needed this service is left as it is.
        let (db, up, verbose) = (self.db, self.up, o.verbosity >= 1);
        self.failures += self.sched.fail(db, t, i, &mut |d, f| {
            if verbose {
                let verb: &[u8] = if up { b"not starting service " } else { b"not stopping service " };
                err::warn(&[verb, db.svc(d).name(), b": dependency ", db.svc(f).name(), b" failed"]);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, NONE, SvcIn};

    /// a <- b, a <- c, {b, c} <- d (oneshots; c essential); bundle e = {b, d}.
    pub(crate) fn diamond() -> Vec<u8> {
        let deps: [&[u32]; 5] = [&[], &[0], &[0], &[1, 2], &[1, 3]];
        let names: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
        let get = |i: usize| SvcIn {
            kind: if i == 4 { Kind::Bundle } else { Kind::Oneshot },
            flags: if i == 2 { F_ESSENTIAL } else { 0 },
            name: names[i],
            timeout_up: 0,
            timeout_down: 0,
            deps: deps[i],
            up: b"true\0",
            down: b"",
            producer_for: NONE,
            consumer_for: &[],
            pipeline_name: b"",
        };
        let mut out = vec![0u8; 8192];
        let mut rc = vec![0u32; 5];
        let n = db::write(5, &get, &mut rc, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn picked(t: &Tables, n: usize) -> Vec<usize> {
        (0..n).filter(|&i| t.plan[i] != 0).collect()
    }

    /// `Tables` holds megabytes of listener slots: more than a test thread's stack.
    pub(crate) fn big_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn plans_follow_dependencies_both_ways() {
        big_stack(plans_follow_dependencies_both_ways_body);
    }

    fn plans_follow_dependencies_both_ways_body() {
        let bytes = diamond();
        let db = Db::open(&bytes).unwrap();
        let mut t = Box::new(Tables::new());
        select(&db, &mut t, &mut [&b"e"[..]].into_iter()).unwrap();
        assert_eq!(picked(&t, 5), [1, 3]);
        close(&db, &mut t, true);
        assert_eq!(picked(&t, 5), [0, 1, 2, 3]);
        restrict(&db, &mut t, true, false);
        assert_eq!(picked(&t, 5), [0, 1, 2, 3]);

        // Everything up; -d a stops its dependents, but c (essential) and
        // what it needs (a) stay without -D.
        t.state[..4].copy_from_slice(&[1, 1, 1, 1]);
        t.plan = [0; MAX_SERVICES];
        select(&db, &mut t, &mut [&b"a"[..]].into_iter()).unwrap();
        close(&db, &mut t, false);
        assert_eq!(picked(&t, 5), [0, 1, 2, 3]);
        restrict(&db, &mut t, false, false);
        assert_eq!(picked(&t, 5), [1, 3]);
        t.plan = [0; MAX_SERVICES];
        select(&db, &mut t, &mut [&b"a"[..]].into_iter()).unwrap();
        close(&db, &mut t, false);
        restrict(&db, &mut t, false, true);
        assert_eq!(picked(&t, 5), [0, 1, 2, 3]);
        assert!(select(&db, &mut t, &mut [&b"zz"[..]].into_iter()).is_err());
    }

    #[test]
    fn prune_keeps_the_closure_of_the_selection() {
        big_stack(prune_body);
    }

    fn prune_body() {
        let bytes = diamond();
        let db = Db::open(&bytes).unwrap();
        let mut t = Box::new(Tables::new());
        t.state[..4].copy_from_slice(&[1, 1, 1, 1]);
        select(&db, &mut t, &mut [&b"b"[..]].into_iter()).unwrap();
        let mut keep = Box::new([0u8; MAX_SERVICES]);
        prune_plan(&db, &mut t, &mut keep);
        assert_eq!(picked(&t, 5), [2, 3]);
        assert_eq!((0..5).filter(|&i| keep[i] != 0).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn dry_run_orders_every_service_after_its_dependencies() {
        big_stack(dry_run_body);
    }

    fn dry_run_body() {
        let bytes = diamond();
        let db = Db::open(&bytes).unwrap();
        let mut t = Box::new(Tables::new());
        select(&db, &mut t, &mut [&b"e"[..]].into_iter()).unwrap();
        close(&db, &mut t, true);
        restrict(&db, &mut t, true, false);
        let mut saves = 0;
        let mut save = |_: &[u8; MAX_SERVICES]| saves += 1;
        let mut o = Opts {
            scandir: b"",
            live: b"",
            verbosity: 0,
            dry_run: true,
            deadline: 0,
            save: &mut save,
        };
        assert_eq!(run(&db, &mut t, true, &mut o), 0);
        assert_eq!(&t.state[..5], &[1, 1, 1, 1, 0]);
        assert!(saves > 0);
    }
}
