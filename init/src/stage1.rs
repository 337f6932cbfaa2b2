//! Stage 1's steps, in the order `rinit`'s main takes them: deciding the
//! mode, preparing the live directory, the catch-all logger's FIFO,
//! starting stage 2 (`rinit-stage2`, in a child) and becoming the scanner.

use crate::conf;
use crate::envdir::{self, Env};
use crate::layout;
use crate::mounts;
use crate::runimage;
use crate::spawn;
use base::err;
use base::path::PathBuf;
use base::sys::{self, errno, Argv, ArgvBuf, Errno, Fd, Open, RebootAction};
use core::ffi::CStr;

/// Most words (kernel words or the container's command line) handed to stage 2.
pub const STAGE2_ARGS_MAX: usize = 64;

/// `rinit`'s command line: `[-C] [-c basedir] [--] words-or-command...`.
pub struct Options {
    pub container: bool,
    pub basedir: &'static [u8],
    /// Index in argv of the first word (kernel words, or the container's command).
    pub rest: usize,
}

pub fn parse_options(args: &sys::Args) -> Options {
    let argv0 = args.get(0).map(|a| a.to_bytes()).unwrap_or(b"");
    let mut o = Options { container: false, basedir: basedir_from_name(argv0), rest: 1 };
    while let Some(a) = args.get(o.rest) {
        match a.to_bytes() {
            b"-C" => o.container = true,
            // A lone trailing -c is a word: pid 1 must not die of a usage error.
            b"-c" => match args.get(o.rest + 1) {
                Some(d) => {
                    o.basedir = d.to_bytes();
                    o.rest += 1;
                }
                None => break,
            },
            b"--" => {
                o.rest += 1;
                break;
            }
            _ => break,
        }
        o.rest += 1;
    }
    o
}

/// `/x/y/bin/init` (the basedir's `bin/init` link) gives `/x/y`.
fn basedir_from_name(argv0: &'static [u8]) -> &'static [u8] {
    match argv0.strip_suffix(b"/bin/init") {
        Some(d) if d.starts_with(b"/") => d,
        _ => layout::DEFAULT_BASEDIR,
    }
}

/// Container mode when asked, or when this is not the machine's first pid
/// namespace: reboot(CAD_OFF) only works there (and it also makes
/// Ctrl-Alt-Del a SIGINT to pid 1, which is what boot mode wants).
pub fn container_mode(o: &Options) -> bool {
    o.container || conf::exists(o.basedir, conf::CONTAINER) || sys::reboot(RebootAction::CadOff).is_err()
}

/// One line with the uptime (the monotonic clock counts from boot).
pub fn announce(t0: u64, container: bool) {
    let mut b = crate::Line::new();
    b.push(b"stage 1 started at ");
    crate::uptime::push(&mut b, t0);
    b.push(if container { b" s of uptime (container mode)" } else { b" s of uptime (boot mode)" });
    err::info(&[b.as_bytes()]);
}

/// Every signal back to its default action: what the runtime or the shell
/// that started us ignored must not be ignored by the whole tree.
pub fn default_signals() {
    for s in 1..=31 {
        if s != sys::sig::KILL && s != sys::sig::STOP {
            let _ = sys::sig_default(s, true);
        }
    }
}

/// Boot mode: fds 0-2 on the console if the kernel could not open it.
pub fn ensure_console() {
    if sys::fstat(sys::STDIN).is_ok() {
        return;
    }
    if let Ok(fd) = sys::open(c"/dev/console", Open::RDWR | Open::NOCTTY, 0) {
        for n in 0..3 {
            let _ = sys::dup2(fd, sys::Fd(n));
        }
        if fd.0 > 2 {
            sys::close(fd);
        }
    }
}

/// A tmpfs on /run (boot mode must have it; a container may refuse: then
/// /run is used as it is), the run-image copied in, rinit's state directory.
pub fn prepare_live(basedir: &[u8], container: bool) {
    match mounts::mount_tmpfs(c"/run") {
        Ok(()) => err::info(&[b"mounted a tmpfs on /run"]),
        Err(e) if container => err::info(&[b"using /run as it is: unable to mount a tmpfs: ", err::strerror(e)]),
        Err(e) => err::warn_sys(&[b"unable to mount a tmpfs on /run"], e),
    }
    let img = match PathBuf::join(basedir, &[b"/run-image"]) {
        Ok(p) => p,
        Err(e) => die(container, &[b"unable to use the basedir ", basedir], e),
    };
    if let Err(e) = sys::stat(img.as_cstr()) {
        die(container, &[b"unable to read the run-image ", img.as_bytes()], e);
    }
    if let Err(e) = runimage::copy(img.as_bytes(), layout::LIVE) {
        die(container, &[b"unable to copy the run-image from ", img.as_bytes()], e);
    }
    match sys::mkdir(layout::STATE, 0o755) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => die(container, &[b"unable to mkdir ", layout::STATE.to_bytes()], e),
    }
    if let Ok(t) = PathBuf::join(basedir, &[]) {
        let _ = sys::unlink(layout::BASEDIR_LINK);
        if let Err(e) = sys::symlink(t.as_cstr(), layout::BASEDIR_LINK) {
            err::warn_sys(&[b"unable to link ", layout::BASEDIR_LINK.to_bytes()], e);
        }
    }
    if container {
        match sys::open(layout::CONTAINER_FLAG, Open::WRONLY | Open::CREATE, 0o644) {
            Ok(fd) => sys::close(fd),
            Err(e) => err::warn_sys(&[b"unable to create ", layout::CONTAINER_FLAG.to_bytes()], e),
        }
    }
}

/// Points stdout and stderr at the catch-all logger's FIFO, if the
/// run-image has a catch-all logger. Nothing reads it until the logger
/// starts: the FIFO is opened through a reading end that is closed again.
pub fn redirect_to_catchall() -> bool {
    if sys::lstat(layout::CATCHALL_DIR).is_err() {
        return false;
    }
    let fifo = layout::CATCHALL_FIFO;
    let _ = sys::unlink(fifo);
    if let Err(e) = sys::mkfifo(fifo, 0o600) {
        err::warn_sys(&[b"unable to mkfifo ", fifo.to_bytes()], e);
        return false;
    }
    let rd = match sys::open(fifo, Open::RDONLY | Open::NONBLOCK, 0) {
        Ok(fd) => fd,
        Err(e) => {
            err::warn_sys(&[b"unable to open ", fifo.to_bytes()], e);
            return false;
        }
    };
    let wr = sys::open(fifo, Open::WRONLY, 0);
    sys::close(rd);
    match wr {
        Ok(fd) => {
            let _ = sys::dup2(fd, sys::STDOUT);
            let _ = sys::dup2(fd, sys::STDERR);
            sys::close(fd);
            true
        }
        Err(e) => {
            err::warn_sys(&[b"unable to open ", fifo.to_bytes()], e);
            false
        }
    }
}

/// The pipe the scanner says "ready" on: (stage 2's end, the scanner's end).
pub fn readiness_pipe() -> Option<(Fd, Fd)> {
    match sys::pipe() {
        Ok(p) => Some(p),
        Err(e) => {
            err::warn_sys(&[b"unable to make the scanner's readiness pipe"], e);
            None
        }
    }
}

/// Forks the child that execs `rinit-stage2 [-C] [-L] [-r fd] basedir -- words...`
/// (found in the tree's PATH, like the scanner).
pub fn start_stage2(basedir: &[u8], container: bool, logger: bool, ready: Option<(Fd, Fd)>, words: Argv<'static>, env: &Env) {
    let search = env.get(b"PATH").unwrap_or(envdir::DEFAULT_PATH);
    let Ok(base) = PathBuf::join(basedir, &[]) else { return };
    let mut fd = PathBuf::new();
    let mut argv = ArgvBuf::<STAGE2_ARGS_MAX>::new();
    argv.push(c"rinit-stage2");
    if container {
        argv.push(c"-C");
    }
    if logger {
        argv.push(c"-L");
    }
    if let Some((r, _)) = ready {
        let mut b = crate::Line::new();
        b.u64(r.0 as u64);
        if fd.push(b.as_bytes()).is_ok() {
            argv.push(c"-r");
            argv.push(fd.as_cstr());
        }
    }
    argv.push(base.as_cstr());
    argv.push(c"--");
    let mut full = false;
    words.for_each(&mut |w: &'static CStr| full |= !argv.push(w));
    if full {
        err::warn(&[b"more words than the capacity: the last ones are not passed to stage 2"]);
    }
    match sys::fork() {
        Ok(0) => {
            spawn::child_reset();
            let _ = sys::setsid();
            if let Some((r, w)) = ready {
                sys::close(w);
                let _ = sys::set_cloexec(r, false);
            }
            let e = sys::exec_search(c"rinit-stage2", search, argv.as_argv(), None);
            err::fatal_sys(err::EXIT_SYS, &[b"unable to exec rinit-stage2: the system will not come up"], e);
        }
        Ok(_) => {
            if let Some((r, _)) = ready {
                sys::close(r);
            }
        }
        Err(e) => err::warn_sys(&[b"unable to fork stage 2: the system will not come up"], e),
    }
}

/// Execs the scanner on the scan directory; if that fails, a shell, and if
/// that fails too, pid 1 stays and reaps (it must never exit).
pub fn exec_scanner(env: &Env, ready: Option<Fd>) -> ! {
    let envv = env.argv();
    let search = env.get(b"PATH").unwrap_or(envdir::DEFAULT_PATH);
    let _ = sys::sig_default(sys::sig::PIPE, true);
    let mut argv = ArgvBuf::<6>::new();
    argv.push(c"rinit-scan");
    let mut fdarg = PathBuf::new();
    if let Some(fd) = ready {
        let mut b = crate::Line::new();
        b.u64(fd.0 as u64);
        if sys::set_cloexec(fd, false).is_ok() && fdarg.push(b.as_bytes()).is_ok() {
            argv.push(c"-d");
            argv.push(fdarg.as_cstr());
        }
    }
    argv.push(c"/run/service");
    let e = sys::exec_search(c"rinit-scan", search, argv.as_argv(), Some(envv.as_argv()));
    err::warn_sys(&[b"unable to exec rinit-scan"], e);
    emergency(search)
}

/// A stage 1 failure. In a container: exit 111. On a machine pid 1 must
/// not exit (the kernel would panic): say why, then `emergency`.
pub fn die(container: bool, parts: &[&[u8]], e: Errno) -> ! {
    if container {
        err::fatal_sys(err::EXIT_SYS, parts, e);
    }
    err::warn_sys(parts, e);
    emergency(envdir::DEFAULT_PATH)
}

/// The end of a boot that went wrong: a shell on the console if there is
/// one, else pid 1 stays and reaps.
pub fn emergency(search: &[u8]) -> ! {
    err::warn(&[b"starting an emergency shell"]);
    let mut sh = ArgvBuf::<3>::new();
    sh.push(c"sh");
    sh.push(c"-i");
    let e = sys::exec_search(c"sh", search, sh.as_argv(), None);
    err::warn_sys(&[b"unable to exec sh: staying as a reaper"], e);
    last_resort()
}

/// Where a panic ends: exit 111, except in pid 1, which must never exit
/// (the kernel would panic): it stays and reaps.
pub fn last_resort() -> ! {
    if sys::getpid() != 1 {
        sys::exit(err::EXIT_SYS);
    }
    loop {
        let _ = sys::wait_pid(-1);
        sys::sleep_ms(1000);
    }
}
