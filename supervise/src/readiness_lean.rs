//! Readiness beyond s6's `notification-fd`, left out of this build
//! (feature `sd-notify` off, as in the smallest container image): the
//! calls of the full module, none of which ever waits, times out or
//! restarts. Each of its files a service directory holds (`notify-socket`,
//! `check`, `timeout-ready`, `timeout-watchdog`) gets one warning line when
//! the supervisor first starts `run`; the service then runs, ready as soon
//! as it is up (or when it writes to its notification-fd).

use base::err;
use base::servicedir as sd;
use base::sys::{Argv, Errno, Fd, Pid, WaitStatus};
use core::ffi::CStr;

const LACKS: &[u8] = b": this build has no readiness beyond notification-fd (feature sd-notify): ignored";

/// What `run` is given beside s6's environment: nothing here.
#[derive(Clone, Copy, Default)]
pub struct RunEnv;

/// What the caller must do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    Ready,
    NotReadyInTime,
    WatchdogMissed,
}

pub struct Readiness {
    /// The warnings are said once per supervisor, not at each restart.
    warned: bool,
}

impl Readiness {
    pub fn new(_name: &'static CStr) -> Readiness {
        Readiness { warned: false }
    }

    pub fn fd(&self) -> Option<Fd> {
        None
    }

    pub fn awaits(&self) -> bool {
        false
    }

    pub fn deadline(&self) -> u64 {
        0
    }

    #[inline(never)]
    pub fn before_run(&mut self) -> RunEnv {
        if !self.warned {
            self.warned = true;
            for file in [sd::NOTIFY_SOCKET, sd::CHECK, sd::TIMEOUT_READY, sd::TIMEOUT_WATCHDOG] {
                if sd::has(b".", file) == Ok(true) {
                    err::warn(&[b"./", file, LACKS]);
                }
            }
        }
        RunEnv
    }

    pub fn started(&mut self, _pid: Pid, _sid: Pid, _ready: bool, _now: u64) {}

    pub fn became_ready(&mut self, _now: u64) {}

    pub fn run_died(&mut self) {}

    pub fn is_check(&self, _pid: Pid) -> bool {
        false
    }

    pub fn check_done(&mut self, _ws: WaitStatus, _now: u64) -> Outcome {
        Outcome::Nothing
    }

    pub fn tick(&mut self, _now: u64) -> Outcome {
        Outcome::Nothing
    }

    pub fn receive(&mut self, _now: u64) -> Outcome {
        Outcome::Nothing
    }
}

/// Calls `f` with the environment `run` gets: this process's.
pub fn with_run_env<R>(_env: RunEnv, f: impl FnOnce(Option<Argv>) -> R) -> Result<R, Errno> {
    Ok(f(None))
}
