//! Waiting for supervised services to reach a state: up, up and ready,
//! down, really down (finish done), or restarted. The reader side of what
//! s6-svwait, `s6-svc -w` and s6-rc do, on s6's own formats.
//!
//! For each service it subscribes to `<dir>/event` (the fifodir) FIRST and
//! only then reads `<dir>/supervise/status`, so no change can fall between
//! the two; after that it follows the supervisor's event letters (`u` up,
//! `U` up and ready, `d` down, `D` down and ready, `O` will not restart,
//! `x` supervisor gone) until the goal holds for all services (or any one),
//! or the deadline passes. It never polls the status file.
//!
//! A service that will not reach the goal (`O` when it was to come up, or
//! `x`: its supervisor exited first) counts as failed, as with Debian's
//! s6-svwait 2.11 (exit code: the number of failed services).
//!
//! ```ignore
//! let mut slots = [const { wait::Slot::EMPTY }; 4];
//! let mut w = wait::Waiter::new(&mut slots, wait::Goal::Up, wait::Need::All);
//! for d in dirs { w.subscribe(d)?; }       // listen, then read the status
//! control::send(dir, b"u")?;               // act only once subscribed
//! match w.wait(Some(5000))? { wait::Outcome::Reached => ..., other => exit(other.exit_code()) }
//! ```
//! The slots are the caller's storage (one per service, each holding a
//! `fifodir::Fifo`: two descriptors and a 39-byte name, not a path); one
//! wait watches at most `MAX_SERVICES`, through one epoll instance.
//! A program that follows many services at once (rc) can drive
//! `fifodir::Listener`s itself and use `Goal::met_by` / `Goal::after_event`.

use crate::fifodir::Fifo;
use crate::path::PathBuf;
use crate::status;
use crate::sys::{self, errno, Errno, Fd};

/// The state to wait for (s6-svwait's `-u -U -d -D -r -R`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Goal {
    /// `-u`: run has been spawned and is running.
    Up,
    /// `-U`: up and ready (notified through `notification-fd`).
    UpReady,
    /// `-d`: run is not running.
    Down,
    /// `-D`: down and `finish` done (the supervisor could start it again).
    DownReady,
    /// `-r`: (re)started after the subscription, whatever the state before.
    Restarted,
    /// `-R`: (re)started and ready after the subscription.
    RestartedReady,
}

impl Goal {
    /// The goal of an option letter `u U d D r R`.
    pub fn from_letter(c: u8) -> Option<Goal> {
        Some(match c {
            b'u' => Goal::Up,
            b'U' => Goal::UpReady,
            b'd' => Goal::Down,
            b'D' => Goal::DownReady,
            b'r' => Goal::Restarted,
            b'R' => Goal::RestartedReady,
            _ => return None,
        })
    }

    /// Is this a wait for the service to come up (so that `O`, "will not
    /// be restarted", is a permanent failure)?
    pub fn wants_up(self) -> bool {
        !matches!(self, Goal::Down | Goal::DownReady)
    }

    /// The same goal without readiness (`U` → `u`, `R` → `r`), for a
    /// service that has no `notification-fd` under a supervisor that never
    /// marks such a service ready.
    pub fn without_readiness(self) -> Goal {
        match self {
            Goal::UpReady => Goal::Up,
            Goal::RestartedReady => Goal::Restarted,
            g => g,
        }
    }

    fn needs_ready(self) -> bool {
        matches!(self, Goal::UpReady | Goal::DownReady | Goal::RestartedReady)
    }

    /// Does a service whose state is `up`/`ready` meet the goal? Restart
    /// goals need an event after the subscription, never a state.
    pub fn met(self, up: bool, ready: bool) -> bool {
        match self {
            Goal::Up => up,
            Goal::UpReady => up && ready,
            Goal::Down => !up,
            Goal::DownReady => !up && ready,
            Goal::Restarted | Goal::RestartedReady => false,
        }
    }

    /// Does a status record meet the goal?
    pub fn met_by(self, st: &status::Status) -> bool {
        self.met(st.is_up(), st.ready)
    }

    /// Does a service meet the goal after event letter `c`, given whether
    /// it met it before? (`u` up, `U` up and ready, `d` down, `D` down and
    /// finished; a restart goal is met for good by the first `u`, or `U`.)
    pub fn after_event(self, c: u8, was_met: bool) -> bool {
        let (up, ready) = match c {
            b'u' => (true, false),
            b'U' => (true, true),
            b'd' => (false, false),
            b'D' => (false, true),
            _ => return was_met,
        };
        match self {
            Goal::Restarted | Goal::RestartedReady => was_met || (up && (ready || !self.needs_ready())),
            _ => self.met(up, ready),
        }
    }

    /// Does event letter `c` mean the goal will not be reached? (`x`: the
    /// supervisor exited; `O`: it will not restart the service, when the
    /// goal is to come up.)
    pub fn fails_on(self, c: u8) -> bool {
        c == b'x' || (c == b'O' && self.wants_up())
    }
}

/// Whether every service must reach the goal (`-a`, the default) or one is enough (`-o`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    All,
    Any,
}

/// How a wait ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// The goal holds (for all, or for one, as asked).
    Reached,
    /// The deadline passed first.
    TimedOut,
    /// This many services will not reach the goal: they were to come up
    /// but will not be restarted (`O`), or their supervisor exited (`x`).
    Failed(usize),
}

/// s6-svwait's exit code when the deadline passed.
pub const EXIT_TIMEDOUT: i32 = 99;

impl Outcome {
    /// The exit code s6-svwait gives: 0, 99 timed out, n failures (at most 98).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Reached => 0,
            Outcome::TimedOut => EXIT_TIMEDOUT,
            Outcome::Failed(n) => n.min(98) as i32,
        }
    }
}

/// What went wrong while setting up or running a wait.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// More services than the slots given.
    Full,
    /// Creating the listener in `<dir>/event` failed.
    Subscribe(Errno),
    /// Reading `<dir>/supervise/status` failed.
    Status(Errno),
    /// The event loop failed (poll, read).
    Wait(Errno),
}

impl Error {
    /// The error's words for `err::fatal_sys`: `(context, errno)`; the
    /// service dir goes after the context (`unable to read status for svc`),
    /// except for `Wait`, which is about no one service.
    pub fn words(self) -> (&'static [u8], Errno) {
        match self {
            Error::Full => (b"too many services to wait for, from ", errno::E2BIG),
            Error::Subscribe(e) => (b"unable to subscribe to events for ", e),
            Error::Status(e) => (b"unable to read status for ", e),
            Error::Wait(e) => (b"unable to wait for events", e),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Waiting,
    Met,
    Failed,
}

/// One watched service: its listener and what is known of its state.
pub struct Slot<'a> {
    // Option, so an empty slot is all zeros: cheap to fill big arrays with.
    dir: Option<&'a [u8]>,
    fifo: Option<Fifo>,
    known: Known,
}

/// Where one service stands with respect to the goal.
#[derive(Clone, Copy)]
struct Known {
    mark: Mark,
}

const UNKNOWN: Known = Known { mark: Mark::Waiting };

impl<'a> Slot<'a> {
    /// An unused slot, to fill arrays: `[const { Slot::EMPTY }; N]`.
    pub const EMPTY: Slot<'static> = Slot { dir: None, fifo: None, known: UNKNOWN };
}

/// A wait on several services for one goal.
pub struct Waiter<'s, 'a> {
    slots: &'s mut [Slot<'a>],
    len: usize,
    goal: Goal,
    need: Need,
}

/// Most services one `Waiter` watches: as many as one scanner may supervise
/// (rinit-scan's `-C` cap). Each takes two descriptors.
pub const MAX_SERVICES: usize = 4096;

/// Longest burst of event letters read at once from one listener.
pub const EVENT_READ_MAX: usize = 64;

/// Most ready listeners taken from one `epoll_wait` (the rest come next round).
const EVENTS_AT_ONCE: usize = 64;

fn event_dir(dir: &[u8]) -> Result<PathBuf, Error> {
    PathBuf::join(dir, &[b"/event"]).map_err(Error::Subscribe)
}

impl<'s, 'a> Waiter<'s, 'a> {
    /// A wait for `goal` using `slots` (one per service).
    pub fn new(slots: &'s mut [Slot<'a>], goal: Goal, need: Need) -> Self {
        Waiter { slots, len: 0, goal, need }
    }

    /// Listens to `dir`'s events, then reads its status. Call it for every
    /// service before acting on them (sending `u`, `d`...). `Error::Full`
    /// past the slots given or `MAX_SERVICES`.
    pub fn subscribe(&mut self, dir: &'a [u8]) -> Result<(), Error> {
        let i = self.len;
        if i >= self.slots.len() || i >= MAX_SERVICES {
            return Err(Error::Full);
        }
        let f = Fifo::new(event_dir(dir)?.as_bytes()).map_err(Error::Subscribe)?;
        let goal = self.goal;
        let Some(slot) = self.slots.get_mut(i) else { return Err(Error::Full) };
        *slot = Slot { dir: Some(dir), fifo: Some(f), known: UNKNOWN };
        self.len += 1;
        let st = status::read(dir).map_err(Error::Status)?;
        slot.known.state(goal, st.is_up(), st.ready);
        Ok(())
    }

    /// The service directory watched in slot `i` (to name it in messages).
    pub fn dir(&self, i: usize) -> &'a [u8] {
        self.slots.get(i).and_then(|s| s.dir).unwrap_or(b"")
    }

    /// How many services are subscribed.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Waits until the goal holds, `timeout_ms` passes (None: forever), or
    /// too many services failed for it to hold.
    /// Then unsubscribes every listener (as dropping the waiter does).
    pub fn wait(mut self, timeout_ms: Option<u64>) -> Result<Outcome, Error> {
        let ep = sys::epoll_create().map_err(Error::Wait)?;
        self.run(ep.fd(), timeout_ms)
    }

    fn run(&mut self, ep: Fd, timeout_ms: Option<u64>) -> Result<Outcome, Error> {
        for (i, s) in self.slots.iter().enumerate().take(self.len) {
            if let Some(f) = &s.fifo {
                sys::epoll_add_read(ep, f.fd(), i as u64).map_err(Error::Wait)?;
            }
        }
        let deadline = timeout_ms.map(|ms| sys::now_mono_ns().saturating_add(ms.saturating_mul(1_000_000)));
        loop {
            if let Some(o) = self.verdict() {
                return Ok(o);
            }
            let left = match deadline {
                None => -1,
                Some(d) => {
                    let now = sys::now_mono_ns();
                    if now >= d {
                        return Ok(Outcome::TimedOut);
                    }
                    // Round up so the wait does not end a hair before the deadline.
                    ((d - now).div_ceil(1_000_000)).min(i64::MAX as u64) as i64
                }
            };
            let mut ready = [0u64; EVENTS_AT_ONCE];
            let n = sys::epoll_wait(ep, &mut ready, left).map_err(Error::Wait)?;
            for &i in ready.iter().take(n) {
                self.drain(i as usize)?;
            }
        }
    }

    /// Reads the letters waiting in slot `i`'s listener and follows them.
    fn drain(&mut self, i: usize) -> Result<(), Error> {
        let goal = self.goal;
        let Some(slot) = self.slots.get_mut(i) else { return Ok(()) };
        let Slot { fifo, known, .. } = slot;
        let Some(l) = fifo.as_ref() else { return Ok(()) };
        let mut buf = [0u8; EVENT_READ_MAX];
        loop {
            let n = l.read(&mut buf).map_err(Error::Wait)?;
            if n == 0 {
                return Ok(());
            }
            for &c in buf.iter().take(n) {
                known.event(goal, c);
            }
        }
    }

    /// The outcome if the wait is over, from the marks of all slots.
    fn verdict(&self) -> Option<Outcome> {
        let slots = self.slots.get(..self.len).unwrap_or(&[]);
        let (mut met, mut failed) = (0, 0);
        for s in slots {
            match s.known.mark {
                Mark::Met => met += 1,
                Mark::Failed => failed += 1,
                Mark::Waiting => {}
            }
        }
        match self.need {
            Need::Any if met > 0 => Some(Outcome::Reached),
            Need::All if met == slots.len() => Some(Outcome::Reached),
            _ if met + failed == slots.len() && failed > 0 => Some(Outcome::Failed(failed)),
            _ => None,
        }
    }

    /// Gives up the wait: unsubscribes every listener (when acting on the
    /// services failed after subscribing). Dropping the waiter does the same.
    pub fn cancel(self) {}
}

impl Drop for Waiter<'_, '_> {
    /// Unsubscribes: removes every listener's FIFO.
    fn drop(&mut self) {
        for s in self.slots.iter_mut().take(self.len) {
            if let (Some(f), Some(Ok(ev))) = (s.fifo.take(), s.dir.map(event_dir)) {
                f.close(ev.as_bytes());
            }
        }
    }
}

impl Known {
    /// A state learnt from the status file: restart goals ignore it.
    fn state(&mut self, goal: Goal, up: bool, ready: bool) {
        if self.mark != Mark::Failed {
            self.mark = if goal.met(up, ready) { Mark::Met } else { Mark::Waiting };
        }
    }

    /// An event letter; a failure is for good.
    fn event(&mut self, goal: Goal, c: u8) {
        self.mark = match self.mark {
            Mark::Failed => Mark::Failed,
            Mark::Waiting if goal.fails_on(c) => Mark::Failed,
            m if goal.after_event(c, m == Mark::Met) => Mark::Met,
            _ => Mark::Waiting,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_goals_follow_the_last_event() {
        assert!(Goal::Up.after_event(b'u', false));
        assert!(!Goal::Up.after_event(b'd', true));
        assert!(!Goal::UpReady.after_event(b'u', false));
        assert!(Goal::UpReady.after_event(b'U', false));
        assert!(Goal::Down.after_event(b'd', false));
        assert!(!Goal::DownReady.after_event(b'd', false));
        assert!(Goal::DownReady.after_event(b'D', false));
        assert!(Goal::Up.after_event(b's', true), "other letters change nothing");
    }

    #[test]
    fn restart_goals_need_an_event_and_keep_it() {
        assert!(!Goal::Restarted.met(true, true));
        assert!(Goal::Restarted.after_event(b'u', false));
        assert!(Goal::Restarted.after_event(b'd', true));
        assert!(!Goal::RestartedReady.after_event(b'u', false));
        assert!(Goal::RestartedReady.after_event(b'U', false));
    }

    #[test]
    fn failures_are_permanent_failure_or_a_gone_supervisor() {
        assert!(Goal::Up.fails_on(b'O'));
        assert!(!Goal::Down.fails_on(b'O'));
        assert!(Goal::Down.fails_on(b'x'));
        let mut k = UNKNOWN;
        k.event(Goal::Up, b'O');
        assert!(k.mark == Mark::Failed);
        k.event(Goal::Up, b'u');
        assert!(k.mark == Mark::Failed, "a failure is for good");
        let mut k = UNKNOWN;
        k.state(Goal::Up, true, false);
        k.event(Goal::Up, b'x');
        assert!(k.mark == Mark::Met, "x after the goal was met changes nothing");
    }

    #[test]
    fn exit_codes_are_s6_svwaits() {
        assert_eq!(Outcome::Reached.exit_code(), 0);
        assert_eq!(Outcome::TimedOut.exit_code(), 99);
        assert_eq!(Outcome::Failed(2).exit_code(), 2);
        assert_eq!(Outcome::Failed(500).exit_code(), 98);
    }
}
