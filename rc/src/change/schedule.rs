//! The order of a change, without a clock or a process: which services may
//! start now, what a finished or failed service lets start or rules out,
//! what a longrun's event letter means, which deadline comes next and which
//! have passed. The engine (`change`) is the shell that forks, listens and
//! waits, and tells this machine what happened, with the time.
//!
//! A service goes IDLE (not in the plan) or WAIT (its prerequisites are not
//! all done) → QUEUED → RUN → DONE or FAILED; one that needed a failed
//! service, or still waited at the global deadline, is SKIPPED.

use super::Tables;
use crate::db::Db;
use base::wait::Goal;

const IDLE: u8 = 0;
const WAIT: u8 = 1;
const QUEUED: u8 = 2;
const RUN: u8 = 3;
const DONE: u8 = 4;
const FAILED: u8 = 5;
const SKIPPED: u8 = 6;

fn phase(t: &Tables, i: u32) -> u8 {
    super::get(&t.phase, i)
}

fn set_phase(t: &mut Tables, i: u32, ph: u8) {
    super::set(&mut t.phase, i, ph);
}

/// The queue of services whose prerequisites are done, in the order they
/// became so: `head` is the next to start, `tail` where the next goes.
pub struct Schedule {
    up: bool,
    head: usize,
    tail: usize,
}

impl Schedule {
    /// Every service of `t.plan` waits for its prerequisites in the plan
    /// (dependencies going up, dependents going down); those with none are
    /// queued at once.
    pub fn new(db: &Db, t: &mut Tables, up: bool) -> Schedule {
        let mut s = Schedule {
            up,
            head: 0,
            tail: 0,
        };
        for i in 0..db.len() as u32 {
            let ph = if super::get(&t.plan, i) != 0 {
                WAIT
            } else {
                IDLE
            };
            set_phase(t, i, ph);
        }
        for i in 0..db.len() as u32 {
            if phase(t, i) != WAIT {
                continue;
            }
            let svc = db.svc(i);
            let pre = if up { svc.deps() } else { svc.rdeps() };
            let c = pre.iter().filter(|&d| super::get(&t.plan, d) != 0).count() as u32;
            if let Some(x) = t.pending.get_mut(i as usize) {
                *x = c;
            }
            if let Some(st) = t.stamps.get_mut(i as usize) {
                st.waited = 0;
            }
            if c == 0 {
                s.enqueue(t, i);
            }
        }
        s
    }

    /// Nothing was queued: the plan is empty.
    pub fn is_empty(&self) -> bool {
        self.tail == 0
    }

    /// Every queued service was handed out.
    pub fn drained(&self) -> bool {
        self.head >= self.tail
    }

    /// The next service to start, if one is queued; it is RUN from now on.
    pub fn next(&mut self, t: &mut Tables) -> Option<u32> {
        while self.head < self.tail {
            let i = t.queue.get(self.head).copied().unwrap_or(0);
            self.head += 1;
            // Skipped (global deadline) since it was queued.
            if phase(t, i) == QUEUED {
                set_phase(t, i, RUN);
                return Some(i);
            }
        }
        None
    }

    /// Service `i` got where it was going: what waited only for it is queued.
    pub fn done(&mut self, db: &Db, t: &mut Tables, i: u32) {
        set_phase(t, i, DONE);
        let svc = db.svc(i);
        let next = if self.up { svc.rdeps() } else { svc.deps() };
        for d in next.iter() {
            if phase(t, d) != WAIT {
                continue;
            }
            if let Some(p) = t.pending.get_mut(d as usize) {
                *p = p.saturating_sub(1);
                if *p == 0 {
                    if let Some(st) = t.stamps.get_mut(d as usize) {
                        st.waited = i + 1;
                    }
                    self.enqueue(t, d);
                }
            }
        }
    }

    /// Service `i` failed: everything that needs it, directly or not, is
    /// skipped (`skipped(d, f)`: d is not touched because f failed); what
    /// was done stays done. Returns how many were skipped.
    pub fn fail(
        &mut self,
        db: &Db,
        t: &mut Tables,
        i: u32,
        skipped: &mut dyn FnMut(u32, u32),
    ) -> usize {
        set_phase(t, i, FAILED);
        let mut n = 0;
        let mut top = 0usize;
        if let Some(x) = t.stack.get_mut(0) {
            *x = i;
            top = 1;
        }
        while top > 0 {
            top -= 1;
            let f = t.stack.get(top).copied().unwrap_or(0);
            let svc = db.svc(f);
            let next = if self.up { svc.rdeps() } else { svc.deps() };
            for d in next.iter() {
                let ph = phase(t, d);
                if ph != WAIT && ph != QUEUED {
                    continue;
                }
                set_phase(t, d, SKIPPED);
                n += 1;
                skipped(d, f);
                if let Some(x) = t.stack.get_mut(top) {
                    *x = d;
                    top += 1;
                }
            }
        }
        n
    }

    /// The global deadline passed: nothing new starts. Returns how many
    /// services were still waiting or queued.
    pub fn give_up(&mut self, db: &Db, t: &mut Tables) -> usize {
        let mut n = 0;
        for i in 0..db.len() as u32 {
            let ph = phase(t, i);
            if ph == WAIT || ph == QUEUED {
                set_phase(t, i, SKIPPED);
                n += 1;
            }
        }
        n
    }

    fn enqueue(&mut self, t: &mut Tables, i: u32) {
        set_phase(t, i, QUEUED);
        if let Some(x) = t.queue.get_mut(self.tail) {
            *x = i;
            self.tail += 1;
        }
    }
}

/// The nearest of the deadlines (0: none) and the global one.
pub fn nearest(global: u64, deadlines: impl Iterator<Item = u64>) -> u64 {
    deadlines.fold(
        global,
        |d, s| if s != 0 && (d == 0 || s < d) { s } else { d },
    )
}

/// Has a service's deadline (0: none), or the whole change's, passed?
pub fn is_due(deadline: u64, global: u64, now: u64) -> bool {
    (global != 0 && now >= global) || (deadline != 0 && now >= deadline)
}

/// How long to wait for events (ms): until the `next` deadline (0: none),
/// and at most `report_ms`, when the services still awaited are named.
pub fn wait_ms(next: u64, now: u64, report_ms: u64) -> i64 {
    let ms = match next {
        0 => -1,
        d if d <= now => 0,
        d => ((d - now).div_ceil(1_000_000)).min(i32::MAX as u64) as i64,
    };
    if (0..=report_ms as i64).contains(&ms) {
        ms
    } else {
        report_ms as i64
    }
}

/// What an event letter from a longrun's supervisor means for its transition.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Where it was going (`u`, `U`, `d`, `D` as the goal asks).
    Reached,
    /// `O`: `finish` said not to restart it.
    WillNotRestart,
    /// `T`: not ready within its timeout-ready.
    NotReady,
    /// `F`: the supervisor cannot spawn `run`.
    CannotSpawn,
    /// `x`: the supervisor exited.
    SupervisorGone,
}

/// The meaning of letter `c` for a service headed for `goal`; None: wait on.
pub fn verdict(goal: Goal, c: u8) -> Option<Verdict> {
    let state = match c {
        b'u' => Some((true, false)),
        b'U' => Some((true, true)),
        b'd' => Some((false, false)),
        b'D' => Some((false, true)),
        _ => None,
    };
    match (state, c) {
        (Some((up, ready)), _) if goal.met(up, ready) => Some(Verdict::Reached),
        (_, b'O') if goal.wants_up() => Some(Verdict::WillNotRestart),
        (_, b'T') if goal.wants_up() => Some(Verdict::NotReady),
        (_, b'F') if goal.wants_up() => Some(Verdict::CannotSpawn),
        (_, b'x') => Some(Verdict::SupervisorGone),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{big_stack, diamond};
    use super::*;

    const A: u32 = 0;
    const B: u32 = 1;
    const C: u32 = 2;
    const D: u32 = 3;

    /// The diamond (a <- b, a <- c, {b, c} <- d) planned whole.
    fn planned(db: &Db) -> Box<Tables> {
        let mut t = Box::new(Tables::new());
        for i in [A, B, C, D] {
            super::super::set(&mut t.plan, i, 1);
        }
        assert_eq!(db.len(), 5);
        t
    }

    /// `body` with the diamond's database, planned whole, and its schedule
    /// going up or down.
    fn on_diamond(up: bool, body: fn(&Db, &mut Tables, &mut Schedule)) {
        big_stack(move || {
            let bytes = diamond();
            let db = Db::open(&bytes).unwrap();
            let mut t = planned(&db);
            let mut s = Schedule::new(&db, &mut t, up);
            body(&db, &mut t, &mut s);
        });
    }

    fn handed_out(s: &mut Schedule, t: &mut Tables) -> Vec<u32> {
        core::iter::from_fn(|| s.next(t)).collect()
    }

    #[test]
    fn going_up_starts_each_service_once_its_dependencies_are_done_and_siblings_together() {
        on_diamond(true, |db, t, s| {
            assert_eq!(handed_out(s, t), [A]);
            assert!(s.drained());
            s.done(db, t, A);
            assert_eq!(handed_out(s, t), [B, C], "b and c run at the same time");
            s.done(db, t, B);
            assert_eq!(handed_out(s, t), [], "d still waits for c");
            s.done(db, t, C);
            assert_eq!(handed_out(s, t), [D]);
            assert_eq!(
                t.stamps[D as usize].waited_for(),
                Some(C),
                "d waited for c last"
            );
            s.done(db, t, D);
            assert!(s.drained());
            assert_eq!(t.phase[..5], [DONE, DONE, DONE, DONE, IDLE]);
        });
    }

    #[test]
    fn going_down_stops_dependents_first() {
        on_diamond(false, |db, t, s| {
            assert_eq!(handed_out(s, t), [D]);
            s.done(db, t, D);
            assert_eq!(handed_out(s, t), [B, C]);
            s.done(db, t, C);
            assert_eq!(handed_out(s, t), []);
            s.done(db, t, B);
            assert_eq!(handed_out(s, t), [A]);
        });
    }

    #[test]
    fn a_failure_skips_what_needs_it_once_and_the_rest_goes_on() {
        on_diamond(true, |db, t, s| {
            handed_out(s, t);
            s.done(db, t, A);
            assert_eq!(handed_out(s, t), [B, C]);
            let mut said = Vec::new();
            assert_eq!(s.fail(db, t, B, &mut |d, f| said.push((d, f))), 1);
            assert_eq!(said, [(D, B)], "d is not started because b failed");
            s.done(db, t, C);
            assert_eq!(handed_out(s, t), [], "c's success does not revive d");
            assert_eq!(t.phase[..4], [DONE, FAILED, DONE, SKIPPED]);
        });
    }

    #[test]
    fn a_failure_at_the_bottom_skips_everything_above_it() {
        on_diamond(true, |db, t, s| {
            handed_out(s, t);
            let mut said = Vec::new();
            assert_eq!(s.fail(db, t, A, &mut |d, _| said.push(d)), 3);
            said.sort();
            assert_eq!(said, [B, C, D]);
            assert!(s.drained());
        });
    }

    #[test]
    fn the_global_deadline_skips_what_waits_or_is_queued_but_not_what_runs() {
        on_diamond(true, |db, t, s| {
            handed_out(s, t);
            s.done(db, t, A);
            assert_eq!(s.next(t), Some(B));
            assert_eq!(s.give_up(db, t), 2, "c (queued) and d (waiting)");
            assert_eq!(handed_out(s, t), [], "a skipped service is not handed out");
            assert_eq!(t.phase[..4], [DONE, RUN, SKIPPED, SKIPPED]);
        });
    }

    #[test]
    fn an_empty_plan_schedules_nothing() {
        big_stack(|| {
            let bytes = diamond();
            let db = Db::open(&bytes).unwrap();
            let mut t = Box::new(Tables::new());
            assert!(Schedule::new(&db, &mut t, true).is_empty());
        });
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn the_nearest_deadline_counts_only_set_ones() {
        assert_eq!(nearest(0, [0, 0].into_iter()), 0);
        assert_eq!(nearest(0, [0, 30 * MS, 20 * MS].into_iter()), 20 * MS);
        assert_eq!(nearest(10 * MS, [0, 30 * MS].into_iter()), 10 * MS);
        assert_eq!(nearest(50 * MS, [30 * MS].into_iter()), 30 * MS);
    }

    #[test]
    fn a_service_is_due_at_its_deadline_or_the_global_one() {
        assert!(!is_due(0, 0, u64::MAX), "no deadline, never due");
        assert!(!is_due(100, 0, 99));
        assert!(is_due(100, 0, 100));
        assert!(is_due(0, 50, 50), "the global deadline ends every service");
        assert!(!is_due(100, 200, 99));
        assert!(is_due(100, 200, 150), "its own deadline comes first");
    }

    #[test]
    fn the_wait_rounds_up_and_wakes_for_the_report() {
        assert_eq!(wait_ms(0, 5, 5000), 5000, "no deadline: wake to report");
        assert_eq!(wait_ms(10 * MS, 10 * MS, 5000), 0);
        assert_eq!(
            wait_ms(10 * MS + 1, 0, 5000),
            11,
            "never wake before the deadline"
        );
        assert_eq!(wait_ms(60_000 * MS, 0, 5000), 5000);
    }

    #[test]
    fn event_letters_decide_a_longrun_transition() {
        assert_eq!(verdict(Goal::Up, b'u'), Some(Verdict::Reached));
        assert_eq!(verdict(Goal::UpReady, b'u'), None, "up is not ready");
        assert_eq!(verdict(Goal::UpReady, b'U'), Some(Verdict::Reached));
        assert_eq!(verdict(Goal::DownReady, b'd'), None);
        assert_eq!(verdict(Goal::DownReady, b'D'), Some(Verdict::Reached));
        assert_eq!(verdict(Goal::Up, b'O'), Some(Verdict::WillNotRestart));
        assert_eq!(verdict(Goal::UpReady, b'T'), Some(Verdict::NotReady));
        assert_eq!(verdict(Goal::Up, b'F'), Some(Verdict::CannotSpawn));
        assert_eq!(
            verdict(Goal::DownReady, b'F'),
            None,
            "going down, a failed spawn is no failure"
        );
        assert_eq!(
            verdict(Goal::DownReady, b'x'),
            Some(Verdict::SupervisorGone)
        );
        assert_eq!(verdict(Goal::Up, b's'), None);
    }
}
