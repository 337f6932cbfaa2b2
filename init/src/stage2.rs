//! Stage 2's runner, `rinit-stage2`, and pid 1's way from stage 1 to the
//! scanner.
//!
//! Stage 1 execs it as pid 1 with `-e`: `rinit-stage2 -e [ -C ] [ -L ]
//! basedir -- words...`. It records rinit's state in /run/rinit, makes the
//! scanner's readiness pipe, forks itself as the runner (as if started with
//! `-r fd`), builds the tree's environment (which every service inherits
//! from the scanner) and execs `rinit-scan -d fd /run/service` with it.
//! Stage 1 itself only reads `env/PATH`, to find this program.
//!
//! The runner waits for the scanner (and the catch-all logger) to be up,
//! stores the kernel's environment if asked, runs `rc.init` with the
//! runlevel and the kernel's words, and in a container runs the main
//! program, records its exit code and asks for the shutdown. It can also
//! be started on its own: `rinit-stage2 [ -C ] [ -L ] [ -r fd ] basedir
//! [ -- words... ]` (-C container, -L wait for the catch-all logger, -r the
//! scanner's readiness pipe).

use crate::conf;
use crate::envdir::{self, Env};
use crate::layout;
use crate::request::{self, Action, Request};
use crate::spawn;
use base::control;
use base::err;
use base::fmt;
use base::options::{Opt, Options};
use base::path::PathBuf;
use base::spawn::{Session, Spawn};
use base::sys::{self, errno, Args, Argv, ArgvBuf, Fd, Open, OwnedFd};
use core::ffi::CStr;

/// Most arguments handed to rc.init (the runlevel plus the kernel's words).
pub const RC_ARGS_MAX: usize = 32;
/// How long stage 2 keeps trying to reach the shutdown daemon after the
/// container's main program ended.
pub const SHUTDOWND_PATIENCE_MS: u64 = 10_000;

const USAGE: &[u8] = b"rinit-stage2 [ -e ] [ -C ] [ -L ] [ -r fd ] basedir [ -- words... ]  (started by rinit)";

pub struct Stage2 {
    pub basedir: &'static [u8],
    pub container: bool,
    pub logger: bool,
    /// `-e`: pid 1 on its way to the scanner (see `split`).
    pub exec: bool,
    pub scanner_ready: Option<OwnedFd>,
    /// Kernel words (boot mode) or the main program and its arguments (container mode).
    pub words: Argv<'static>,
}

pub fn parse(args: &Args) -> Stage2 {
    let mut s = Stage2 { basedir: b"", container: false, logger: false, exec: false, scanner_ready: None, words: args.tail(args.len()) };
    let mut g = Options::new(*args, b"CLer:");
    for opt in &mut g {
        match opt {
            Opt::Flag(b'C') => s.container = true,
            Opt::Flag(b'L') => s.logger = true,
            Opt::Flag(b'e') => s.exec = true,
            Opt::Value(b'r', v) => {
                let fd = fmt::parse_u64(v).unwrap_or_else(|| err::usage(USAGE));
                s.scanner_ready = Some(OwnedFd::from_raw(Fd(fd as i32)));
            }
            _ => err::usage(USAGE),
        }
    }
    // basedir [ -- words... ]
    let i = g.operands();
    s.basedir = args.get(i).map(|b| b.to_bytes()).filter(|b| !b.is_empty()).unwrap_or_else(|| err::usage(USAGE));
    s.words = match args.get(i + 1).map(|w| w.to_bytes()) {
        None => args.tail(i + 1),
        Some(b"--") => args.tail(i + 2),
        Some(_) => err::usage(USAGE),
    };
    s
}

/// `-e`, as pid 1: makes the scanner's readiness pipe and forks the runner,
/// which returns from here (in its own session) to run stage 2, while pid 1
/// becomes the scanner.
pub fn split(s: &mut Stage2) {
    record_state(s.basedir, s.container);
    let ready = match sys::pipe() {
        Ok(p) => Some(p),
        Err(e) => {
            err::warn_unable(&[b"make the scanner's readiness pipe"], e);
            None
        }
    };
    match Spawn::new().session(Session::New).fork() {
        Ok(0) => {
            // The write end is dropped (closed) here: the scanner's copy
            // is the one whose end stage 2 waits for.
            s.scanner_ready = ready.map(|(r, _)| r);
        }
        Ok(_) => {
            let ready = ready.map(|(_, w)| w);
            // Services inherit the scanner's stdin: give them /dev/null, not
            // the console a getty or the container's main program reads.
            if let Ok(fd) = sys::open(c"/dev/null", Open::RDONLY, 0) {
                // dup2 onto 0 from a fresh descriptor cannot fail.
                let _ = sys::dup2(fd.fd(), sys::STDIN);
            }
            exec_scanner(s, ready)
        }
        Err(e) => {
            err::warn_unable(&[b"fork stage 2: the system will not come up"], e);
            exec_scanner(s, None)
        }
    }
}

/// `/run/rinit`: the link to the basedir (how every tool finds the scripts
/// and settings) and, in a container, the flag that makes stage 3 exit.
fn record_state(basedir: &[u8], container: bool) {
    match sys::mkdir(layout::STATE, 0o755) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => err::warn_unable(&[b"mkdir ", layout::STATE.to_bytes()], e),
    }
    // Usually absent: the link of an earlier boot in this /run.
    let _ = sys::unlink(layout::BASEDIR_LINK);
    let r = PathBuf::join(basedir, &[]).and_then(|b| sys::symlink(b.as_cstr(), layout::BASEDIR_LINK));
    if let Err(e) = r {
        err::warn_unable(&[b"link ", layout::BASEDIR_LINK.to_bytes()], e);
    }
    if container {
        match sys::open(layout::CONTAINER_FLAG, Open::WRONLY | Open::CREATE, 0o644) {
            Ok(fd) => drop(fd),
            Err(e) => err::warn_unable(&[b"create ", layout::CONTAINER_FLAG.to_bytes()], e),
        }
    }
}

/// Pid 1 execs the scanner, `rinit-scan [-d fd] /run/service` found in the
/// tree's PATH, with the tree's environment. If that fails, pid 1 must not
/// end: stage 1's way out.
fn exec_scanner(s: &Stage2, ready: Option<OwnedFd>) -> ! {
    let mut env = Env::new();
    envdir::tree_env(&mut env, s.basedir, s.container);
    let search = env.get(b"PATH").unwrap_or(envdir::DEFAULT_PATH);
    let mut num = crate::Line::new();
    let mut argv = ArgvBuf::<8>::new();
    argv.push(c"rinit-scan");
    let mut wd = crate::Line::new();
    if let Some(v) = conf::get(s.basedir, conf::WATCHDOG) {
        wd.push(v.as_bytes()).byte(0);
        if let Some(spec) = sys::cstr(wd.as_bytes()) {
            argv.push(c"-W");
            argv.push(spec);
        }
    }
    if let Some(fd) = ready {
        // Kept open across the exec: the scanner's readiness descriptor.
        let fd = fd.into_raw();
        num.u64(fd.0 as u64).byte(0);
        if let (Ok(()), Some(n)) = (sys::set_cloexec(fd, false), sys::cstr(num.as_bytes())) {
            argv.push(c"-d");
            argv.push(n);
        }
    }
    argv.push(c"/run/service");
    let e = sys::exec_search(c"rinit-scan", search, argv.as_argv(), Some(env.argv().as_argv()));
    crate::stage1::die(s.container, &[b"unable to exec rinit-scan"], e)
}

/// Blocks until the scanner says it is up (or died: end of file), then
/// until the catch-all logger reads its FIFO.
pub fn wait_for_tree(s: &mut Stage2) {
    if let Some(fd) = s.scanner_ready.take() {
        let mut b = [0u8; 1];
        // Any byte, end of file or error alike means: go on.
        let _ = sys::read(fd.fd(), &mut b);
    }
    if s.logger {
        // Opening a FIFO for writing blocks until someone opens it for reading.
        match sys::open(layout::CATCHALL_FIFO, Open::WRONLY, 0) {
            Ok(fd) => drop(fd),
            Err(e) => err::warn_unable(&[b"wait for the catch-all logger"], e),
        }
    }
}

/// Boot mode, `rinit-maker -s`: the kernel's variables, one file each.
pub fn store_kernel_env(basedir: &[u8]) {
    let Some(store) = conf::get(basedir, conf::ENVSTORE) else { return };
    let store = store.as_bytes();
    let Ok(d) = PathBuf::join(store, &[]) else { return };
    match sys::mkdir(d.as_cstr(), 0o755) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return err::warn_unable(&[b"mkdir ", store], e),
    }
    sys::environ().for_each(&mut |s: &CStr| {
        let b = s.to_bytes();
        let Some(i) = b.iter().position(|&c| c == b'=') else { return };
        let (name, value) = (&b[..i], &b[i + 1..]);
        let Ok(p) = PathBuf::join(store, &[b"/", name]) else { return };
        if let Ok(fd) = sys::open(p.as_cstr(), Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644) {
            // Best effort: the file is informative.
            let _ = sys::write_all(fd.fd(), value);
            let _ = sys::write_all(fd.fd(), b"\n");
        }
    });
}

/// `<basedir>/scripts/rc.init RUNLEVEL [kernel words...]`; a failure is
/// logged and the system stays as far up as it got.
pub fn run_rc_init(s: &Stage2, env: Argv) {
    let Ok(rc) = PathBuf::join(s.basedir, &[layout::RC_INIT]) else { return };
    if let Err(e) = sys::access_exec(rc.as_cstr()) {
        if s.container && e == errno::ENOENT {
            return;
        }
        return err::warn_unable(&[b"run ", rc.as_bytes()], e);
    }
    let mut runlevel = PathBuf::new();
    let rl = conf::get(s.basedir, conf::RUNLEVEL);
    // A runlevel name is a short conf value (VALUE_MAX), far below PATH_MAX.
    let _ = runlevel.push(rl.as_ref().map(|v| v.as_bytes()).unwrap_or(conf::DEFAULT_RUNLEVEL));
    let mut argv = ArgvBuf::<RC_ARGS_MAX>::new();
    argv.push(rc.as_cstr());
    argv.push(runlevel.as_cstr());
    if !s.container {
        let mut full = false;
        s.words.for_each(&mut |w: &'static CStr| full |= !argv.push(w));
        if full {
            err::warn(&[b"more kernel command line words than the capacity: the last ones are not passed to rc.init"]);
        }
    }
    match spawn::run(rc.as_cstr(), argv.as_argv(), Some(env), b"") {
        Ok(st) if st.exited() == Some(0) => {}
        Ok(st) => {
            let mut b = crate::Line::new();
            spawn::describe(&mut b, st);
            err::warn(&[rc.as_bytes(), b" ", b.as_bytes(), b": the system may be only partly up"]);
        }
        Err(e) => err::warn_unable(&[b"spawn ", rc.as_bytes()], e),
    }
}

/// The container's main program, to its end: its exit code (128 + the
/// signal if it was killed).
pub fn run_main(cmd: &CStr, s: &Stage2, env: &Env, envv: Argv) -> u64 {
    let search = env.get(b"PATH").unwrap_or(envdir::DEFAULT_PATH);
    match spawn::run(cmd, s.words, Some(envv), search) {
        Ok(st) => match (st.exited(), st.signaled()) {
            (Some(c), _) => c as u64,
            (None, Some(sig)) => 128 + sig as u64,
            _ => 111,
        },
        Err(e) => {
            err::warn_unable(&[b"spawn ", cmd.to_bytes()], e);
            111
        }
    }
}

/// `/run/rinit/exitcode`: the container's exit code as decimal text (the
/// one writer of the file; stage 3 and the container entrypoint's end
/// read or write it through here and `shutdown`).
pub fn record_exit_code(code: u64) {
    match sys::open(layout::EXITCODE, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644) {
        Ok(fd) => {
            let mut b = crate::Line::new();
            b.u64(code).byte(b'\n');
            // Best effort: the exit code file is read back with a default.
            let _ = sys::write_all(fd.fd(), b.as_bytes());
        }
        Err(e) => err::warn_unable(&[b"write ", layout::EXITCODE.to_bytes()], e),
    }
}

/// Records the container's exit code for pid 1's last stage, and asks for
/// the shutdown (directly of pid 1 if the daemon cannot be reached).
pub fn shut_down_container(basedir: &[u8], code: u64) {
    record_exit_code(code);
    // A concrete grace time: the fallback below goes around the daemon.
    let r = Request { action: Action::PowerOff, grace_ms: conf::grace_ms(basedir), delay_ms: 0 };
    if let Err(e) = request::send_patiently(&r, SHUTDOWND_PATIENCE_MS) {
        err::warn_unable(&[b"reach the shutdown daemon, stopping without rc.shutdown"], e);
        // The last resort already: no one left to report a failure to.
        let _ = request::write_action(&r);
        let _ = control::send_scanner(layout::SCANDIR, b"b");
    }
}
