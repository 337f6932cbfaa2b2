//! Running a script or program as a child and waiting for it: how stage 2
//! runs `rc.init`, the shutdown daemon `rc.shutdown`, and stage 3
//! `rc.shutdown.final`.

use base::err;
use base::sys::{self, Argv, Errno, Pid, SigSet, WaitStatus};
use core::ffi::CStr;

/// Forks a child that starts with an empty signal mask and default
/// dispositions for the signals rinit's programs ignore, then execs `prog`
/// (looked up in `search` when it has no slash). The child exits 127 when
/// the program is missing, 126 when it cannot be run.
pub fn start(prog: &CStr, argv: Argv, env: Option<Argv>, search: &[u8]) -> Result<Pid, Errno> {
    let pid = sys::fork_process()?;
    if pid == 0 {
        child_reset();
        // A path (the scripts) needs no search: exec_search stays out of
        // the programs that only run scripts.
        let e = if search.is_empty() { sys::exec(prog, argv, env) } else { sys::exec_search(prog, search, argv, env) };
        err::warn_sys(&[b"unable to exec ", prog.to_bytes()], e);
        sys::exit(if e == sys::errno::ENOENT { 127 } else { 126 });
    }
    Ok(pid)
}

/// What a freshly forked child does before exec: unblock everything, take
/// back the default action of signals the parent ignores.
pub fn child_reset() {
    // Valid constant arguments: these cannot fail.
    let _ = sys::sig_setmask(SigSet(0));
    let _ = sys::sig_default(sys::sig::PIPE, true);
    let _ = sys::sig_default(sys::sig::CHLD, true);
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
