//! Running a script or program as a child and waiting for it: how stage 2
//! runs `rc.init`, the shutdown daemon `rc.shutdown`, and stage 3
//! `rc.shutdown.final`.

use base::spawn::Spawn;
use base::sys::{self, Argv, Errno, Pid, WaitStatus};
use core::ffi::CStr;

/// Starts `prog` (looked up in `search` when it has no slash) with the
/// signal state of a fresh process. Err: it could not be started (its
/// errno, as base::spawn reports it).
pub fn start(prog: &CStr, argv: Argv, env: Option<Argv>, search: &[u8]) -> Result<Pid, Errno> {
    let mut s = Spawn::new();
    if let Some(e) = env {
        s.env(e);
    }
    // A path (the scripts) needs no search.
    if !search.is_empty() {
        s.search(search);
    }
    s.exec(prog, argv)
}

/// Runs `prog` to its end and returns how it ended.
pub fn run(prog: &CStr, argv: Argv, env: Option<Argv>, search: &[u8]) -> Result<WaitStatus, Errno> {
    let pid = start(prog, argv, env, search)?;
    sys::wait_pid(pid)
}

/// `NAME exited N` / `NAME was killed by signal N` for a log line.
pub fn describe(b: &mut crate::Line, st: WaitStatus) {
    match (st.exited(), st.signaled()) {
        (Some(c), _) => {
            b.push(b"exited ").u64(c as u64);
        }
        (None, Some(s)) => {
            b.push(b"was killed by signal ").u64(s as u64);
        }
        _ => {
            b.push(b"ended with status ").u64(st.0 as u64);
        }
    }
}
