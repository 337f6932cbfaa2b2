//! CMD, the container's main program: forked with an empty signal mask,
//! looked up in `PATH`. When it cannot be run the child says so in one
//! line and exits as a shell does: 127 when it is missing, 126 when it is
//! there but cannot be run. Those codes become the container's.

use crate::container::options::Options;
use crate::spawn;
use base::err;
use base::sys::{self, errno, Args, Pid};

/// Starts CMD; None when there is none, or no process could be made (said).
pub fn start(args: &Args, o: &Options) -> Option<Pid> {
    let name = args.get(o.cmd)?;
    let argv = args.tail(o.cmd);
    if o.info() {
        err::info(&[b"starting ", name.to_bytes()]);
    }
    match sys::fork_process() {
        Ok(0) => {
            spawn::child_reset();
            if o.group {
                // The parent sets it too: one of the two calls succeeds.
                let _ = sys::setpgid(0, 0);
            }
            let e = sys::exec_path(name, argv, None);
            let code = if e == errno::ENOENT || e == errno::ENOTDIR { 127 } else { 126 };
            err::fatal_sys(code, &[b"unable to run ", name.to_bytes()], e)
        }
        Ok(pid) => {
            if o.group {
                // Both sides set it: signals to the group may come before the child runs.
                let _ = sys::setpgid(pid, pid);
            }
            Some(pid)
        }
        Err(e) => {
            err::warn_sys(&[b"unable to fork for ", name.to_bytes()], e);
            None
        }
    }
}
