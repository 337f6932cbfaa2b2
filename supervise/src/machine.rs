//! s6-supervise's state machine, without a clock or a process of its own:
//! it is told what happened (a child died, a control letter or a signal
//! came, readiness was seen, a deadline passed), with the time, and acts
//! through `Effects` (spawn `run` or `finish`, signal, write the status,
//! announce an event, read a setting). It keeps the status record and the
//! one deadline of the service (the restart throttle, the retry after a
//! failed start, timeout-kill, timeout-finish), so that every transition can
//! be driven and checked by a unit test; `service` is the shell that does
//! the I/O.

use crate::readiness::Outcome;
use base::status::Status;
use base::sys::{sig, Pid, WaitStatus};
use base::tai64n::Tai64n;

const MS: u64 = 1_000_000;
/// A `run` that dies younger than this is restarted only this long after its start.
pub const RESPAWN_MIN_NS: u64 = 1000 * MS;
/// Wait after a failed start (fork, pipe or exec failure) before the next try.
pub const RETRY_NS: u64 = 1000 * MS;
/// KILL is repeated this often while a killed process still lingers.
pub const KILL_REPEAT_NS: u64 = 5000 * MS;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
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

/// The time of an event: monotonic (deadlines) and wall-clock (the status
/// record's stamps).
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono: u64,
    pub wall: Tai64n,
}

/// What the machine does to the world. Spawning reports its outcome, since
/// the next state depends on it; a failure is reported by the caller.
pub trait Effects {
    /// Starts `run`: its pid and whether it is ready at once (it has no
    /// readiness source), or None when it could not be started.
    fn spawn_run(&mut self, now: u64) -> Option<(Pid, bool)>;
    /// Starts `./finish` after `run` ended with `ws`; None when there is
    /// none or it could not be started.
    fn spawn_finish(&mut self, ws: WaitStatus) -> Option<Pid>;
    /// `run` ended with `ws` at `wall`: the death tally, the readiness
    /// sources of that run, the cgroup's end.
    fn run_ended(&mut self, ws: WaitStatus, wall: Tai64n);
    /// `finish` ended: the cgroup's end.
    fn finish_ended(&mut self);
    /// `run` became ready (the readiness sources learn it).
    fn became_ready(&mut self, now: u64);
    fn kill(&mut self, pid: Pid, signo: i32);
    /// `signo` to `run`'s process group, or to `pid` when it shares ours.
    fn kill_group(&mut self, pid: Pid, signo: i32);
    /// `signo` to the service's whole cgroup; false without one.
    fn signal_cgroup(&mut self, signo: i32) -> bool;
    /// KILL to every process of the service's cgroup, if it has one.
    fn kill_cgroup(&mut self);
    fn write_status(&mut self, st: &Status);
    /// Event letters to the listeners of `event/`.
    fn event(&mut self, letters: &[u8]);
    /// `./down-signal`, `./reload-signal`, in ms `./timeout-kill` and
    /// `./timeout-finish` (0: none), read when they are needed, as s6 does.
    fn down_signal(&mut self) -> i32;
    fn reload_signal(&mut self) -> i32;
    fn timeout_kill_ms(&mut self) -> u64;
    fn timeout_finish_ms(&mut self) -> u64;
    /// Creates (`D`, `Q`) or removes (`U`) `./down`.
    fn set_down_file(&mut self, down: bool);
    /// Points stdin and stdout at /dev/null (`x`: a logger sees its end).
    fn close_stdio(&mut self);
    fn warn(&mut self, what: &[u8]);
}

pub struct Machine {
    pub state: State,
    /// What `supervise/status` says.
    pub st: Status,
    /// Monotonic time of the next timed action, if any.
    pub deadline: Option<u64>,
    /// Monotonic time before which `run` is not started again.
    respawn_at: u64,
    /// The down signal was sent and timeout-kill is running.
    dying: bool,
    /// False once the supervisor should exit.
    pub running: bool,
}

/// The letters that signal `run` (those from GROUP_LETTERS on signal its
/// process group), and their signals.
const SIGNAL_LETTERS: &[u8] = b"abqhkti12ypcPCK";
/// This architecture's numbers (MIPS's STOP is 23, not 19).
const SIGNAL_NUMBERS: [u8; 15] = {
    use base::sys::sig::*;
    let n = [ALRM, ABRT, QUIT, HUP, KILL, TERM, INT, USR1, USR2, WINCH, STOP, CONT, STOP, CONT, KILL];
    let (mut out, mut i) = ([0u8; 15], 0);
    while i < 15 {
        out[i] = n[i] as u8;
        i += 1;
    }
    out
};
const GROUP_LETTERS: usize = 12;

impl Machine {
    pub fn new(start_down: bool, now: Now) -> Machine {
        Machine {
            state: State::Down,
            st: Status { stamp: now.wall, readystamp: now.wall, want_up: !start_down, ready: true, ..Status::default() },
            deadline: None,
            respawn_at: 0,
            dying: false,
            running: true,
        }
    }

    fn up(&self) -> bool {
        matches!(self.state, State::Up | State::LastUp)
    }

    /// Publishes the initial state and starts `run` unless it starts down.
    #[inline(never)]
    pub fn begin(&mut self, now: Now, io: &mut impl Effects) {
        io.write_status(&self.st);
        io.event(b"s");
        if self.st.want_up {
            self.start(now, io);
        }
    }

    /// Runs the timed action whose time has come, if any.
    #[inline(never)]
    pub fn tick(&mut self, now: Now, io: &mut impl Effects) {
        match self.deadline {
            Some(d) if d <= now.mono => {}
            _ => return,
        }
        self.deadline = None;
        match self.state {
            State::Down => {
                if self.st.want_up {
                    self.start(now, io);
                }
            }
            State::Up | State::LastUp => {
                if self.dying {
                    self.kill(io, sig::KILL);
                    io.kill_cgroup();
                    self.deadline = Some(now.mono + KILL_REPEAT_NS);
                }
            }
            State::Finish | State::LastFinish => {
                io.warn(b"./finish timed out: sending it KILL");
                self.kill(io, sig::CONT);
                self.kill(io, sig::KILL);
                io.kill_cgroup();
                self.deadline = Some(now.mono + KILL_REPEAT_NS);
            }
        }
    }

    /// A child ended; only `run` or `finish` matter. A service that had
    /// been up long enough restarts at once, not a turn of the loop later.
    #[inline(never)]
    pub fn child_died(&mut self, pid: Pid, ws: WaitStatus, now: Now, io: &mut impl Effects) {
        if pid as u64 != self.st.pid || self.st.pid == 0 {
            return;
        }
        match self.state {
            State::Up => {
                if self.run_died(ws, now, io) {
                    self.state = State::Finish;
                }
            }
            State::LastUp => {
                if self.run_died(ws, now, io) {
                    self.state = State::LastFinish;
                } else {
                    self.running = false;
                }
            }
            State::Finish => self.finish_done(ws, now, io),
            State::LastFinish => {
                self.finish_done(ws, now, io);
                self.running = false;
            }
            State::Down => {}
        }
        if self.running {
            self.tick(now, io);
        }
    }

    /// `run` is ready (from any source): s6's `U`, once per run.
    pub fn ready(&mut self, now: Now, io: &mut impl Effects) {
        if self.st.ready || !self.up() {
            return;
        }
        self.st.ready = true;
        self.st.readystamp = now.wall;
        io.write_status(&self.st);
        io.event(b"U");
        io.became_ready(now.mono);
    }

    /// Acts on what the readiness sources said. A missed deadline: one line
    /// naming the service, an event letter s6 does not use (`T` not ready
    /// in time, `W` watchdog), and a restart: the down signal, then KILL
    /// after timeout-kill.
    #[inline(never)]
    pub fn health(&mut self, o: Outcome, now: Now, io: &mut impl Effects) {
        let (letter, what): (&[u8], &[u8]) = match o {
            Outcome::Nothing => return,
            Outcome::Ready => return self.ready(now, io),
            Outcome::NotReadyInTime => (b"T", b"not ready within ./timeout-ready: restarting it"),
            Outcome::WatchdogMissed => (b"W", b"no WATCHDOG=1 within ./timeout-watchdog: restarting it"),
        };
        // Not while it is being stopped: that is already under way.
        if !self.up() || self.dying || !self.st.want_up {
            return;
        }
        io.warn(what);
        io.event(letter);
        self.command(b'r', now, io);
        self.kill(io, sig::CONT);
        self.arm_kill(now, io);
    }

    /// The supervisor got `signo`: TERM = `d` then `x`; HUP = `x`; QUIT =
    /// exit now, leaving the service alone; INT = INT to the service's
    /// process group, then exit now.
    #[inline(never)]
    pub fn signal(&mut self, signo: i32, now: Now, io: &mut impl Effects) {
        let up = self.up();
        match signo {
            sig::TERM if up => {
                self.state = State::LastUp;
                self.stop(now, io);
            }
            sig::TERM | sig::HUP => self.command(b'x', now, io),
            sig::INT => {
                if up {
                    io.kill_group(self.st.pid as Pid, sig::INT);
                }
                self.running = false;
            }
            _ => self.running = false,
        }
    }

    /// One byte from the control FIFO, with s6-svc's meaning; others are ignored.
    pub fn command(&mut self, c: u8, now: Now, io: &mut impl Effects) {
        let up = self.up();
        let last = matches!(self.state, State::LastUp | State::LastFinish);
        if let Some(i) = SIGNAL_LETTERS.iter().position(|&l| l == c) {
            let s = SIGNAL_NUMBERS.get(i).map_or(0, |&s| s as i32);
            if up {
                if i >= GROUP_LETTERS {
                    io.kill_group(self.st.pid as Pid, s)
                } else {
                    self.kill(io, s)
                }
                if s == sig::STOP || s == sig::CONT {
                    self.st.paused = s == sig::STOP;
                    io.write_status(&self.st);
                }
            }
            return;
        }
        match c {
            b'r' if up => {
                let s = io.down_signal();
                self.kill(io, s)
            }
            b'l' if up => {
                let s = io.reload_signal();
                self.kill(io, s)
            }
            b'u' | b'U' => {
                if c == b'U' {
                    io.set_down_file(false);
                }
                if !last {
                    self.want(true, io);
                    if self.state == State::Down {
                        self.start(now, io);
                    }
                }
            }
            b'd' | b'D' => {
                if c == b'D' {
                    io.set_down_file(true);
                }
                if up {
                    self.stop(now, io);
                } else if !last {
                    self.want(false, io);
                }
            }
            b'o' | b'O' | b'Q' => {
                if c == b'Q' {
                    io.set_down_file(true);
                }
                if self.state != State::LastFinish {
                    self.want(false, io);
                }
                if c == b'o' && self.state == State::Down {
                    self.start(now, io);
                }
            }
            b'x' => {
                if self.state == State::Down {
                    self.running = false;
                } else {
                    self.state = if up { State::LastUp } else { State::LastFinish };
                    io.close_stdio();
                }
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ transitions

    fn want(&mut self, up: bool, io: &mut impl Effects) {
        self.st.want_up = up;
        io.write_status(&self.st);
    }

    /// Starts `run`: Down → Up, or a retry in a second.
    fn start(&mut self, now: Now, io: &mut impl Effects) {
        self.deadline = None;
        match io.spawn_run(now.mono) {
            Some((pid, ready)) => {
                self.state = State::Up;
                self.st.pid = pid as u64;
                self.st.stamp = now.wall;
                self.st.ready = ready;
                if ready {
                    self.st.readystamp = now.wall;
                }
                self.respawn_at = now.mono + RESPAWN_MIN_NS;
                io.write_status(&self.st);
                io.event(if ready { b"uU" } else { b"u" });
            }
            None => {
                self.respawn_at = now.mono + RETRY_NS;
                self.deadline = Some(self.respawn_at);
            }
        }
    }

    /// The down signal, then CONT (a stopped process must see it), to `run`
    /// or to the service's whole cgroup, and the timeout-kill clock.
    fn stop(&mut self, now: Now, io: &mut impl Effects) {
        self.st.want_up = false;
        for s in [io.down_signal(), sig::CONT] {
            if !io.signal_cgroup(s) {
                self.kill(io, s);
            }
        }
        self.st.paused = false;
        io.write_status(&self.st);
        self.arm_kill(now, io);
    }

    /// Starts the timeout-kill clock, if there is one.
    fn arm_kill(&mut self, now: Now, io: &mut impl Effects) {
        let t = io.timeout_kill_ms();
        if t > 0 {
            self.dying = true;
            self.deadline = Some(now.mono.saturating_add(t.saturating_mul(MS)));
        }
    }

    /// `run` died: record it, then run `finish` (true) or go down (false).
    fn run_died(&mut self, ws: WaitStatus, now: Now, io: &mut impl Effects) -> bool {
        self.st.wstat = ws.0 as u16;
        self.st.paused = false;
        self.st.ready = false;
        self.st.stamp = now.wall;
        self.dying = false;
        self.deadline = None;
        io.run_ended(ws, now.wall);
        // Down before finish starts: a finish that asks (s6-svstat) sees
        // the death, whichever of the two runs first.
        self.st.pid = 0;
        io.write_status(&self.st);
        match io.spawn_finish(ws) {
            Some(pid) => {
                self.st.pid = pid as u64;
                self.st.finishing = true;
                io.write_status(&self.st);
                io.event(b"d");
                let t = io.timeout_finish_ms();
                if t > 0 {
                    self.deadline = Some(now.mono.saturating_add(t.saturating_mul(MS)));
                }
                true
            }
            None => {
                self.down_and_ready(b"dD", now, io);
                false
            }
        }
    }

    /// `finish` ended: exit 125 means "do not restart".
    fn finish_done(&mut self, ws: WaitStatus, now: Now, io: &mut impl Effects) {
        io.finish_ended();
        if ws.exited() == Some(125) {
            self.st.want_up = false;
            self.down_and_ready(b"OD", now, io);
        } else {
            self.down_and_ready(b"D", now, io);
        }
    }

    /// Down, nothing running; a wanted restart waits for the throttle.
    fn down_and_ready(&mut self, events: &[u8], now: Now, io: &mut impl Effects) {
        self.state = State::Down;
        self.st.pid = 0;
        self.st.finishing = false;
        self.st.ready = true;
        self.st.readystamp = now.wall;
        self.deadline = if self.st.want_up { Some(self.respawn_at.max(now.mono)) } else { None };
        io.write_status(&self.st);
        io.event(events);
    }

    fn kill(&self, io: &mut impl Effects, s: i32) {
        if self.st.pid != 0 {
            io.kill(self.st.pid as Pid, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A world that records what the machine did, as one line per action.
    #[derive(Default)]
    struct World {
        log: Vec<String>,
        /// The next pid `spawn_run` gives; None: the start fails.
        run: Option<Pid>,
        /// Whether `run` has no readiness source.
        ready_at_once: bool,
        /// The pid `spawn_finish` gives; None: no `./finish`.
        finish: Option<Pid>,
        timeout_kill_ms: u64,
        timeout_finish_ms: u64,
        cgroup: bool,
        status: Option<Status>,
    }

    impl World {
        fn new() -> World {
            World { run: Some(100), ready_at_once: true, timeout_finish_ms: 5000, ..World::default() }
        }
        fn take(&mut self) -> Vec<String> {
            core::mem::take(&mut self.log)
        }
    }

    impl Effects for World {
        fn spawn_run(&mut self, now: u64) -> Option<(Pid, bool)> {
            self.log.push(format!("spawn run at {}", now / MS));
            let pid = self.run?;
            self.run = Some(pid + 1);
            Some((pid, self.ready_at_once))
        }
        fn spawn_finish(&mut self, ws: WaitStatus) -> Option<Pid> {
            self.log.push(format!("spawn finish {}", ws.0));
            self.finish
        }
        fn run_ended(&mut self, ws: WaitStatus, _wall: Tai64n) {
            self.log.push(format!("tally {}", ws.0));
        }
        fn finish_ended(&mut self) {}
        fn became_ready(&mut self, _now: u64) {}
        fn kill(&mut self, pid: Pid, signo: i32) {
            self.log.push(format!("kill {pid} {signo}"));
        }
        fn kill_group(&mut self, pid: Pid, signo: i32) {
            self.log.push(format!("kill group of {pid} {signo}"));
        }
        fn signal_cgroup(&mut self, signo: i32) -> bool {
            if self.cgroup {
                self.log.push(format!("cgroup {signo}"));
            }
            self.cgroup
        }
        fn kill_cgroup(&mut self) {
            if self.cgroup {
                self.log.push("cgroup kill".into());
            }
        }
        fn write_status(&mut self, st: &Status) {
            self.status = Some(*st);
        }
        fn event(&mut self, letters: &[u8]) {
            self.log.push(format!("event {}", String::from_utf8_lossy(letters)));
        }
        fn down_signal(&mut self) -> i32 {
            sig::TERM
        }
        fn reload_signal(&mut self) -> i32 {
            sig::HUP
        }
        fn timeout_kill_ms(&mut self) -> u64 {
            self.timeout_kill_ms
        }
        fn timeout_finish_ms(&mut self) -> u64 {
            self.timeout_finish_ms
        }
        fn set_down_file(&mut self, down: bool) {
            self.log.push(format!("down file {down}"));
        }
        fn close_stdio(&mut self) {
            self.log.push("close stdio".into());
        }
        fn warn(&mut self, what: &[u8]) {
            self.log.push(format!("warn {}", String::from_utf8_lossy(what)));
        }
    }

    fn at(ms: u64) -> Now {
        Now { mono: ms * MS, wall: Tai64n::from_unix(1_700_000_000 + ms / 1000, (ms % 1000) as u32 * 1_000_000) }
    }

    const EXIT_1: WaitStatus = WaitStatus(1 << 8);
    const KILLED: WaitStatus = WaitStatus(9);

    /// A machine begun in `w`, what it did then forgotten.
    fn fresh(mut w: World, down: bool) -> (World, Machine) {
        let m = started(&mut w, down);
        w.take();
        (w, m)
    }

    fn started(w: &mut World, down: bool) -> Machine {
        let mut m = Machine::new(down, at(0));
        m.begin(at(0), w);
        m
    }

    #[test]
    fn begin_announces_s_then_starts_run_up_and_ready_without_a_readiness_source() {
        let mut w = World::new();
        let m = started(&mut w, false);
        assert_eq!(w.take(), ["event s", "spawn run at 0", "event uU"]);
        assert_eq!(m.state, State::Up);
        let st = w.status.unwrap();
        assert_eq!((st.pid, st.want_up, st.ready), (100, true, true));
        assert_eq!(m.deadline, None);
    }

    #[test]
    fn a_down_file_starts_it_down_and_u_starts_it() {
        let mut w = World::new();
        let mut m = started(&mut w, true);
        assert_eq!(w.take(), ["event s"]);
        assert_eq!((m.state, w.status.unwrap().want_up), (State::Down, false));
        m.command(b'u', at(10), &mut w);
        assert_eq!(w.take(), ["spawn run at 10", "event uU"]);
        assert_eq!(m.state, State::Up);
    }

    #[test]
    fn a_readiness_source_gives_u_then_one_capital_u_when_ready() {
        let mut w = World { ready_at_once: false, ..World::new() };
        let mut m = started(&mut w, false);
        assert_eq!(w.take(), ["event s", "spawn run at 0", "event u"]);
        assert!(!w.status.unwrap().ready);
        m.ready(at(30), &mut w);
        m.ready(at(40), &mut w);
        assert_eq!(w.take(), ["event U"]);
        let st = w.status.unwrap();
        assert!(st.ready);
        assert_eq!(st.readystamp, at(30).wall);
    }

    #[test]
    fn a_run_that_lived_long_enough_restarts_at_once() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.child_died(100, EXIT_1, at(5000), &mut w);
        assert_eq!(w.take(), ["tally 256", "spawn finish 256", "event dD", "spawn run at 5000", "event uU"]);
        assert_eq!((m.state, w.status.unwrap().pid), (State::Up, 101));
    }

    #[test]
    fn a_run_dying_young_is_restarted_one_second_after_its_start() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.child_died(100, EXIT_1, at(200), &mut w);
        assert_eq!(w.take(), ["tally 256", "spawn finish 256", "event dD"]);
        assert_eq!(m.state, State::Down);
        assert_eq!(m.deadline, Some(RESPAWN_MIN_NS));
        m.tick(at(999), &mut w);
        assert!(w.take().is_empty(), "nothing before the throttle's end");
        m.tick(at(1000), &mut w);
        assert_eq!(w.take(), ["spawn run at 1000", "event uU"]);
    }

    #[test]
    fn the_death_of_another_child_changes_nothing() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.child_died(4242, EXIT_1, at(5000), &mut w);
        assert!(w.take().is_empty());
        assert_eq!(m.state, State::Up);
    }

    #[test]
    fn finish_runs_after_run_with_its_timeout_then_kill_and_restart() {
        let (mut w, mut m) = fresh(World { finish: Some(500), timeout_finish_ms: 300, ..World::new() }, false);
        m.child_died(100, KILLED, at(2000), &mut w);
        assert_eq!(w.take(), ["tally 9", "spawn finish 9", "event d"]);
        assert_eq!(m.state, State::Finish);
        let st = w.status.unwrap();
        assert_eq!((st.pid, st.finishing, st.wstat), (500, true, 9));
        m.tick(at(2299), &mut w);
        assert!(w.take().is_empty());
        m.tick(at(2300), &mut w);
        assert_eq!(w.take(), ["warn ./finish timed out: sending it KILL", "kill 500 18", "kill 500 9"]);
        assert_eq!(m.deadline, Some(2300 * MS + KILL_REPEAT_NS));
        m.child_died(500, KILLED, at(2310), &mut w);
        assert_eq!(w.take(), ["event D", "spawn run at 2310", "event uU"]);
    }

    #[test]
    fn finish_exiting_125_means_do_not_restart() {
        let mut w = World { finish: Some(500), ..World::new() };
        let mut m = started(&mut w, false);
        m.child_died(100, EXIT_1, at(2000), &mut w);
        w.take();
        m.child_died(500, WaitStatus(125 << 8), at(2100), &mut w);
        assert_eq!(w.take(), ["event OD"]);
        assert_eq!((m.state, m.deadline, w.status.unwrap().want_up), (State::Down, None, false));
    }

    #[test]
    fn letters_during_finish_decide_whether_run_starts_after_it() {
        let (mut w, mut m) = fresh(World { finish: Some(500), ..World::new() }, false);
        m.child_died(100, EXIT_1, at(3000), &mut w);
        m.command(b'd', at(3010), &mut w);
        w.take();
        assert_eq!(m.state, State::Finish, "d does not cut finish short");
        m.child_died(500, WaitStatus(0), at(3020), &mut w);
        assert_eq!(w.take(), ["event D"], "wanted down: no restart");
        m.command(b'u', at(3030), &mut w);
        assert_eq!(w.take(), ["spawn run at 3030", "event uU"]);
    }

    #[test]
    fn x_during_finish_exits_when_finish_ends() {
        let (mut w, mut m) = fresh(World { finish: Some(500), ..World::new() }, false);
        m.child_died(100, EXIT_1, at(3000), &mut w);
        m.command(b'x', at(3010), &mut w);
        assert_eq!(m.state, State::LastFinish);
        m.child_died(500, WaitStatus(0), at(3020), &mut w);
        assert!(!m.running);
        assert!(!w.take().iter().any(|l| l.starts_with("spawn run")), "no restart on the way out");
    }

    #[test]
    fn d_sends_the_down_signal_and_cont_and_no_restart_follows() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.command(b'd', at(100), &mut w);
        assert_eq!(w.take(), ["kill 100 15", "kill 100 18"]);
        assert!(!w.status.unwrap().want_up);
        assert_eq!(m.deadline, None, "no timeout-kill, no deadline");
        m.child_died(100, WaitStatus(15), at(150), &mut w);
        assert_eq!(w.take(), ["tally 15", "spawn finish 15", "event dD"]);
        assert_eq!((m.state, m.deadline), (State::Down, None));
    }

    #[test]
    fn d_signals_the_cgroup_when_there_is_one() {
        let (mut w, mut m) = fresh(World { cgroup: true, ..World::new() }, false);
        m.command(b'd', at(100), &mut w);
        assert_eq!(w.take(), ["cgroup 15", "cgroup 18"]);
    }

    #[test]
    fn timeout_kill_sends_kill_after_its_time_and_repeats_it() {
        let mut w = World { timeout_kill_ms: 250, cgroup: true, ..World::new() };
        let mut m = started(&mut w, false);
        m.command(b'd', at(1000), &mut w);
        w.take();
        assert_eq!(m.deadline, Some(1250 * MS));
        m.tick(at(1249), &mut w);
        assert!(w.take().is_empty());
        m.tick(at(1250), &mut w);
        assert_eq!(w.take(), ["kill 100 9", "cgroup kill"]);
        m.tick(at(1250 + 5000), &mut w);
        assert_eq!(w.take(), ["kill 100 9", "cgroup kill"]);
        m.child_died(100, KILLED, at(6300), &mut w);
        assert_eq!(m.deadline, None, "a dead run is not killed again");
    }

    #[test]
    fn a_failed_start_is_retried_a_second_later_until_it_works() {
        let mut w = World { run: None, ..World::new() };
        let mut m = started(&mut w, false);
        assert_eq!(w.take(), ["event s", "spawn run at 0"]);
        assert_eq!((m.state, m.deadline), (State::Down, Some(RETRY_NS)));
        m.tick(at(1000), &mut w);
        assert_eq!(w.take(), ["spawn run at 1000"]);
        w.run = Some(7);
        m.tick(at(2000), &mut w);
        assert_eq!(w.take(), ["spawn run at 2000", "event uU"]);
        assert_eq!(m.state, State::Up);
    }

    #[test]
    fn o_runs_once_and_does_not_restart() {
        let (mut w, mut m) = fresh(World::new(), true);
        m.command(b'o', at(0), &mut w);
        assert_eq!(w.take(), ["spawn run at 0", "event uU"]);
        assert!(!w.status.unwrap().want_up);
        m.child_died(100, EXIT_1, at(5000), &mut w);
        assert_eq!(w.take(), ["tally 256", "spawn finish 256", "event dD"]);
        assert_eq!(m.state, State::Down);
    }

    #[test]
    fn capital_letters_make_the_down_file_follow() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.command(b'D', at(0), &mut w);
        m.command(b'U', at(0), &mut w);
        m.command(b'Q', at(0), &mut w);
        let log = w.take();
        assert_eq!(log.iter().filter(|l| l.starts_with("down file")).collect::<Vec<_>>(), ["down file true", "down file false", "down file true"]);
    }

    #[test]
    fn signal_letters_reach_run_or_its_group_only_while_it_is_up() {
        let (mut w, mut m) = fresh(World::new(), false);
        for c in *b"ahtkP" {
            m.command(c, at(0), &mut w);
        }
        assert_eq!(w.take(), ["kill 100 14", "kill 100 1", "kill 100 15", "kill 100 9", "kill group of 100 19"]);
        assert!(w.status.unwrap().paused);
        m.command(b'C', at(0), &mut w);
        assert!(!w.status.unwrap().paused);
        m.command(b'r', at(0), &mut w);
        m.command(b'l', at(0), &mut w);
        assert_eq!(w.take(), ["kill group of 100 18", "kill 100 15", "kill 100 1"]);
        let (mut w, mut m) = fresh(World::new(), true);
        for c in *b"ahtkPCrl?" {
            m.command(c, at(0), &mut w);
        }
        assert!(w.take().is_empty(), "nothing to signal while down");
    }

    #[test]
    fn x_while_up_waits_for_run_to_die_then_exits() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.command(b'x', at(0), &mut w);
        assert_eq!(w.take(), ["close stdio"]);
        assert_eq!((m.state, m.running), (State::LastUp, true));
        m.command(b'u', at(0), &mut w);
        assert!(w.take().is_empty(), "u is ignored once exiting");
        m.child_died(100, EXIT_1, at(3000), &mut w);
        assert_eq!(w.take(), ["tally 256", "spawn finish 256", "event dD"]);
        assert!(!m.running);
    }

    #[test]
    fn x_with_a_finish_exits_after_finish() {
        let mut w = World { finish: Some(500), ..World::new() };
        let mut m = started(&mut w, false);
        m.signal(sig::TERM, at(0), &mut w);
        assert_eq!(m.state, State::LastUp);
        assert!(!w.status.unwrap().want_up, "TERM is d then x");
        m.child_died(100, WaitStatus(15), at(100), &mut w);
        assert_eq!((m.state, m.running), (State::LastFinish, true));
        m.child_died(500, WaitStatus(0), at(200), &mut w);
        assert!(!m.running);
    }

    #[test]
    fn x_while_down_exits_at_once_and_quit_and_int_exit_now() {
        let mut w = World::new();
        let mut m = started(&mut w, true);
        m.command(b'x', at(0), &mut w);
        assert!(!m.running);
        for (signo, after) in [(sig::QUIT, vec![]), (sig::INT, vec!["kill group of 100 2"])] {
            let (mut w, mut m) = fresh(World::new(), false);
            m.signal(signo, at(0), &mut w);
            assert!(!m.running);
            assert_eq!(w.take(), after, "QUIT leaves the service alone, INT goes to its group");
        }
    }

    #[test]
    fn a_missed_readiness_deadline_says_t_and_restarts_run() {
        let (mut w, mut m) = fresh(World { ready_at_once: false, timeout_kill_ms: 100, ..World::new() }, false);
        m.health(Outcome::NotReadyInTime, at(500), &mut w);
        assert_eq!(
            w.take(),
            ["warn not ready within ./timeout-ready: restarting it", "event T", "kill 100 15", "kill 100 18"]
        );
        assert!(w.status.unwrap().want_up, "a restart, not a stop");
        assert_eq!(m.deadline, Some(600 * MS));
        m.health(Outcome::WatchdogMissed, at(550), &mut w);
        assert!(w.take().is_empty(), "already being restarted");
    }

    #[test]
    fn a_missed_watchdog_says_w_and_restarts_run() {
        let (mut w, mut m) = fresh(World::new(), false);
        m.health(Outcome::WatchdogMissed, at(500), &mut w);
        assert_eq!(w.take()[..2], ["warn no WATCHDOG=1 within ./timeout-watchdog: restarting it", "event W"]);
    }
}
