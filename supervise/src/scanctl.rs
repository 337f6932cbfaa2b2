//! The scanner's control directory `.s6-svscan/` and its process plumbing:
//! the lock that keeps one scanner per directory, the `control` FIFO that
//! carries s6-svscanctl's one-letter commands, the signals (each turned into
//! a command unless a `.s6-svscan/SIGxxx` script replaces it), starting
//! children with a clean signal state, and the programs the scanner becomes
//! at its end (`finish`, `crash`).

use crate::scandir::Small;
use base::err;
use base::spawn::{self, Spawn};
use base::sys::{self, errno, sig, ArgvBuf, Errno, Fd, FileType, Open, Pid, SigSet};
use core::ffi::CStr;

/// The scanner's control directory, in the scan directory.
pub const DIR: &CStr = c".s6-svscan";
/// Held (flock) by the one scanner of the directory.
pub const LOCK: &CStr = c".s6-svscan/lock";
/// The FIFO of s6-svscanctl's command letters.
pub const CONTROL: &CStr = c".s6-svscan/control";
/// What the scanner becomes at a clean end.
pub const FINISH: &CStr = c".s6-svscan/finish";
/// What the scanner becomes when it cannot go on.
pub const CRASH: &CStr = c".s6-svscan/crash";

/// The signals the scanner takes, each with the command letter it stands
/// for (0: nothing unless a `SIGxxx` script exists). SIGCHLD is never diverted.
const SIGNALS: [(i32, u8); 11] = [
    (sig::ALRM, b'a'),
    (sig::HUP, b'h'),
    (sig::TERM, b't'),
    (sig::INT, b'i'),
    (sig::QUIT, b'q'),
    (sig::ABRT, b'b'),
    (sig::CHLD, b'z'),
    (sig::USR1, 0),
    (sig::USR2, 0),
    (sig::PWR, 0),
    (sig::WINCH, 0),
];

const MASK: SigSet = SigSet::of(&[
    sig::ALRM, sig::HUP, sig::TERM, sig::INT, sig::QUIT, sig::ABRT, sig::CHLD, sig::USR1, sig::USR2, sig::PWR,
    sig::WINCH,
]);

/// The scanner's hold on its control directory: the lock, and both ends of
/// the control FIFO (the write end is kept so that readers never see end of
/// file and writers never see ENXIO while the scanner lives).
pub struct Control {
    pub fifo: Fd,
    _writer: Fd,
    _lock: Fd,
}

/// Takes the control directory of the current directory (`dir` names it
/// in messages): fatal, exit 100, when another scanner holds it.
pub fn take(dir: &[u8]) -> Control {
    // 0700 and 0600 as s6-svscan: whoever can open the lock can take it.
    match sys::mkdir(DIR, 0o700) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"mkdir ", dir, b"/.s6-svscan"], e),
    }
    // A read-only scan directory may still hold a lock file to lock.
    let lock = sys::open(LOCK, Open::WRONLY | Open::CREATE, 0o600).or_else(|_| sys::open(LOCK, Open::RDONLY, 0));
    let lock = match lock {
        Ok(fd) => fd,
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"open ", dir, b"/.s6-svscan/lock"], e),
    };
    match sys::lock_exclusive_nb(lock) {
        Ok(true) => {}
        Ok(false) => err::fatal(err::EXIT_USAGE, &[b"another instance of rinit-scan is already running on ", dir]),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"lock ", dir, b"/.s6-svscan/lock"], e),
    }
    match sys::mkfifo(CONTROL, 0o600) {
        Ok(()) => {}
        Err(errno::EEXIST) if sys::lstat(CONTROL).is_ok_and(|st| st.kind == FileType::Fifo) => {}
        Err(errno::EEXIST) => err::fatal(
            err::EXIT_SYS,
            &[dir, b"/.s6-svscan/control exists and is not a FIFO: remove it or make it one"],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"mkfifo ", dir, b"/.s6-svscan/control"], e),
    }
    let fifo = sys::open(CONTROL, Open::RDONLY | Open::NONBLOCK, 0);
    let writer = fifo.and_then(|_| sys::open(CONTROL, Open::WRONLY | Open::NONBLOCK, 0));
    match (fifo, writer) {
        (Ok(fifo), Ok(w)) => Control { fifo, _writer: w, _lock: lock },
        (Err(e), _) | (_, Err(e)) => err::fatal_unable(err::EXIT_SYS, &[b"open ", dir, b"/.s6-svscan/control"], e),
    }
}

/// Calls `f` with each command letter waiting in the FIFO.
pub fn read_commands(c: &Control, f: &mut dyn FnMut(u8)) -> Result<(), Errno> {
    let mut buf = [0u8; 64];
    loop {
        match sys::read(c.fifo, &mut buf) {
            Ok(0) | Err(errno::EAGAIN) => return Ok(()),
            Ok(n) => buf.iter().take(n).for_each(|&b| f(b)),
            Err(e) => return Err(e),
        }
    }
}

/// Blocks the scanner's signals and returns a signalfd that delivers them;
/// SIGPIPE is ignored (a vanished reader of stderr must not end pid 1).
pub fn take_signals() -> Result<Fd, Errno> {
    sys::sig_block(MASK)?;
    sys::sig_default(sig::PIPE, false)?;
    sys::signalfd(MASK)
}

/// The command letter `signo` stands for, 0 for none. When
/// `.s6-svscan/SIG<NAME>` exists, it is started instead (not waited for:
/// the reaper collects it) and the default action does not happen.
pub fn command_for(signo: i32) -> u8 {
    let letter = SIGNALS.iter().find(|s| s.0 == signo).map_or(0, |s| s.1);
    if signo == sig::CHLD {
        return letter;
    }
    let Some(name) = sig::name(signo) else { return letter };
    let mut path = Small::new();
    path.push(b".s6-svscan/SIG").push(name).byte(0);
    let Ok(script) = CStr::from_bytes_until_nul(path.as_bytes()) else { return letter };
    match sys::access_exec(script) {
        Ok(()) => {
            if let Err(e) = spawn(script, None, None) {
                err::warn_unable(&[b"spawn ", script.to_bytes()], e);
            }
            0
        }
        Err(errno::ENOENT) => letter,
        Err(e) => {
            err::warn_unable(&[b"run ", script.to_bytes()], e);
            letter
        }
    }
}

/// Starts `prog arg` (looked up in $PATH unless it holds a `/`) with the
/// signal state a program expects, and `redirect` = (fd, target) dup'ed
/// onto stdin or stdout. Everything else the scanner holds is close-on-exec.
pub fn spawn(prog: &CStr, arg: Option<&CStr>, redirect: Option<(Fd, Fd)>) -> Result<Pid, Errno> {
    let mut argv = ArgvBuf::<3>::new();
    argv.push(prog);
    if let Some(a) = arg {
        argv.push(a);
    }
    let mut s = Spawn::new();
    s.search_path();
    if let Some((fd, target)) = redirect {
        s.fd_move(fd, target);
    }
    s.exec(prog, argv.as_argv())
}

/// Becomes `path` (finish or crash); returns only if that failed.
pub fn become_(path: &CStr) -> Errno {
    spawn::reset_signals();
    let mut argv = ArgvBuf::<3>::new();
    argv.push(path);
    sys::exec(path, argv.as_argv(), None)
}
