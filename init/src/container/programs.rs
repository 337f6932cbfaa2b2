//! Where rinit's other programs (rinit-scan, rinit-rc...) are found in a
//! container with no basedir: beside rinit's own executable first (an
//! image that copies them next to it needs no PATH), then in `PATH`.
//! They run with that search list as their `PATH`, so the scanner finds
//! rinit-supervise, and the services rinit's tools, the same way.

use crate::envdir;
use base::spawn::{Session, Spawn};
use base::err;
use base::path::{PathBuf, PATH_MAX};
use base::sys::{self, Argv, ArgvBuf, Errno, Fd, Pid, WaitStatus};
use core::ffi::CStr;

/// Longest search list (rinit's directory, `:`, the PATH), `PATH=` included.
pub const SEARCH_MAX: usize = PATH_MAX;
/// Most variables handed to rinit's programs (the inherited ones and PATH).
pub const ENV_PTRS_MAX: usize = 512;

/// `PATH=` and the list: the variable rinit's programs get.
const PREFIX: &[u8] = b"PATH=";

pub struct Search {
    list: PathBuf,
}

impl Search {
    /// `/proc/self/exe`'s directory (else argv[0]'s, when absolute), then PATH.
        pub fn new(argv0: &[u8]) -> Search {
        let mut list = PathBuf::new();
        // Five bytes in an empty buffer: it fits.
        let _ = list.push(PREFIX);
        let mut exe = [0u8; PATH_MAX + 1];
        let own = match sys::readlink(c"/proc/self/exe", &mut exe) {
            Ok(p) => p,
            Err(_) => argv0,
        };
        if let Some(i) = own.iter().rposition(|&c| c == b'/').filter(|_| own.starts_with(b"/")) {
            // A directory too long leaves the list to PATH alone.
            let _ = list.push(own.get(..i.max(1)).unwrap_or(b"/")).and_then(|l| l.push(b":"));
        }
        let mark = list.len();
        let path = sys::getenv(b"PATH").map(|p| p.to_bytes()).unwrap_or(envdir::DEFAULT_PATH);
        if list.push(path).is_err() {
            // A cut list could name half a directory: the default instead.
            err::warn(&[b"PATH exceeds the capacity: rinit's programs are looked for in the default PATH"]);
            list.truncate(mark);
            // The default fits where a longer list did not.
            let _ = list.push(envdir::DEFAULT_PATH);
        }
        Search { list }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.list.as_bytes().get(PREFIX.len()..).unwrap_or(b"")
    }
}

impl Search {
    /// Starts `name` (one of rinit's programs), in its own session when
    /// `session`, standard input /dev/null, `PATH` the search list, `keep`
    /// left open across the exec.
    pub fn spawn(&self, name: &CStr, argv: Argv, session: bool, keep: Option<Fd>) -> Result<Pid, Errno> {
        let mut env = ArgvBuf::<ENV_PTRS_MAX>::new();
        env.push(self.list.as_cstr());
        let mut full = false;
        sys::environ().for_each(&mut |v: &CStr| {
            if !v.to_bytes().starts_with(PREFIX) {
                full |= !env.push(v);
            }
        });
        if full {
            err::warn(&[b"the environment exceeds the capacity: ", name.to_bytes(), b" gets part of it"]);
        }
        let mut s = Spawn::new();
        if let Some(fd) = keep {
            // The same number: kept open across the exec.
            s.fd_move(fd, fd);
        }
        if session {
            s.session(Session::New);
        }
        s.null(sys::STDIN).env(env.as_argv()).search(self.as_bytes()).exec(name, argv)
    }

    /// `spawn`, then waits for its end.
    pub fn run(&self, name: &CStr, argv: Argv) -> Result<WaitStatus, Errno> {
        let pid = self.spawn(name, argv, false, None)?;
        sys::wait_pid(pid)
    }
}
