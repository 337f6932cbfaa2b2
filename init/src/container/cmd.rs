//! CMD, the container's main program: started with an empty signal mask,
//! looked up in `PATH`. When it cannot be run rinit says so in one line
//! and CMD's code is the shell's (base::spawn's rule): 127 when it is
//! missing, 126 when it is there but cannot be run. Those codes become the
//! container's.

use crate::container::options::Options;
use base::err;
use base::spawn::{self, Session, Spawn};
use base::sys::{Args, Pid};

/// CMD, started or not.
pub enum Started {
    Running(Pid),
    /// It could not be run (said): this is its exit code.
    Failed(u8),
}

/// Starts CMD; None when there is none.
pub fn start(args: &Args, o: &Options) -> Option<Started> {
    let name = args.get(o.cmd)?;
    let argv = args.tail(o.cmd);
    if o.info() {
        err::info(&[b"starting ", name.to_bytes()]);
    }
    let mut s = Spawn::new();
    if o.group {
        // Its own group, made before it runs: signals to the group reach it.
        s.session(Session::Group);
    }
    match s.search_path().exec(name, argv) {
        Ok(pid) => Some(Started::Running(pid)),
        Err(e) => {
            err::fatal_line(&[b"unable to run ", name.to_bytes()], e);
            Some(Started::Failed(spawn::exit_code(e) as u8))
        }
    }
}
