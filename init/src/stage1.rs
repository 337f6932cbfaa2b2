//! Stage 1's steps, in the order `rinit`'s main takes them: deciding the
//! mode, preparing the live directory, the catch-all logger's FIFO, and
//! the exec into `rinit-stage2 -e` (stage 2 in a child, pid 1 the scanner).

use crate::conf;
use crate::envdir;
use crate::layout;
use crate::mounts;
use crate::runimage;
use base::err;
use base::options::{Opt, Options as Getopt};
use base::path::PathBuf;
use base::sys::{self, errno, Argv, ArgvBuf, Errno, Open, RebootAction};
use core::ffi::CStr;

/// False in a build without the feature `basedir` (the smallest container
/// image's, which holds neither a basedir nor rinit-stage2): rinit is then
/// only the container entrypoint of zero configuration, and everything
/// here past the options is left out of its binary.
pub const BASEDIR_MODE: bool = cfg!(feature = "basedir");

/// A build without basedir mode asked for it: one line, exit 100.
pub fn lacking(o: &Options) -> ! {
    err::fatal(
        err::EXIT_USAGE,
        &[b"this build has only the container entrypoint of zero configuration (feature basedir): unable to use the basedir ", o.basedir],
    )
}

/// Most words (kernel words or the container's command line) handed to stage 2.
pub const STAGE2_ARGS_MAX: usize = 64;

/// `rinit`'s command line: `[-C] [-c basedir] [--] words-or-command...`.
pub struct Options {
    pub container: bool,
    pub basedir: &'static [u8],
    /// The basedir was named (`-c`, or the program's name `/x/bin/init`),
    /// not the default.
    pub named: bool,
    /// Index in argv of the first word (kernel words, or the container's command).
    pub rest: usize,
}

pub fn parse_options(args: &sys::Args) -> Options {
    let argv0 = args.get(0).map(|a| a.to_bytes()).unwrap_or(b"");
    let basedir = basedir_from_name(argv0);
    let named = basedir != layout::DEFAULT_BASEDIR;
    let mut o = Options { container: false, basedir, named, rest: 1 };
    let mut g = Getopt::new(*args, b"Cc:");
    loop {
        let at = g.operands();
        match g.next() {
            Some(Opt::Flag(b'C')) => o.container = true,
            Some(Opt::Value(b'c', d)) => (o.basedir, o.named) = (d, true),
            // Anything else (a lone trailing -c, a kernel word such as -s)
            // starts the words: pid 1 must not die of a usage error.
            Some(_) => {
                o.rest = at;
                return o;
            }
            None => {
                o.rest = g.operands();
                return o;
            }
        }
    }
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
            // Valid signal numbers: cannot fail.
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
            // dup2 onto 0-2 from a fresh descriptor cannot fail.
            let _ = sys::dup2(fd, sys::Fd(n));
        }
        if fd.0 > 2 {
            sys::close(fd);
        }
    }
}

/// A tmpfs on /run (boot mode must have it; a container may refuse: then
/// /run is used as it is), the run-image copied in. (`rinit-stage2 -e`
/// records rinit's state in it.)
pub fn prepare_live(base: &PathBuf, container: bool) {
    let basedir = base.as_bytes();
    match mounts::mount_tmpfs(layout::LIVE) {
        Err(e) if container => err::info(&[b"using /run as it is: unable to mount a tmpfs: ", err::strerror(e)]),
        r => mounts::report(layout::LIVE, r),
    }
    let img = match PathBuf::join(basedir, &[b"/run-image"]) {
        Ok(p) => p,
        Err(e) => die(container, &[b"unable to use the basedir ", basedir], e),
    };
    let src = match sys::open_dir(img.as_cstr()) {
        Ok(fd) => fd,
        Err(e) => die(container, &[b"unable to read the run-image ", img.as_bytes()], e),
    };
    if let Err(e) = runimage::copy(src, layout::LIVE) {
        die(container, &[b"unable to copy the run-image from ", img.as_bytes()], e);
    }
    sys::close(src);
}

/// Points stdout and stderr at the catch-all logger's FIFO, if the
/// run-image has one (`rinit-maker` makes it in the logger's service
/// directory). Nothing reads it until the logger starts: the FIFO is
/// opened through a reading end that is closed again.
pub fn redirect_to_catchall() -> bool {
    let fifo = layout::CATCHALL_FIFO;
    let r = sys::open(fifo, Open::RDONLY | Open::NONBLOCK, 0).and_then(|rd| {
        let wr = sys::open(fifo, Open::WRONLY, 0);
        sys::close(rd);
        let wr = wr?;
        // dup2 onto 1 and 2 from a fresh descriptor cannot fail.
        let _ = sys::dup2(wr, sys::STDOUT);
        let _ = sys::dup2(wr, sys::STDERR);
        sys::close(wr);
        Ok(())
    });
    match r {
        Ok(()) => true,
        Err(errno::ENOENT) => false,
        Err(e) => {
            err::warn_unable(&[b"open ", fifo.to_bytes()], e);
            false
        }
    }
}

/// Where stage 1 looks for `rinit-stage2`: the tree's PATH as
/// `<basedir>/env/PATH` gives it (`rinit-maker` always writes it), else
/// `envdir::DEFAULT_PATH`. The rest of `env/`, and the inherited PATH of a
/// container, are `rinit-stage2 -e`'s business: stage 1 only needs to find it.
pub fn tree_path<'a>(basedir: &[u8], slot: &'a mut Option<conf::Value>) -> &'a [u8] {
    *slot = PathBuf::join(basedir, &[b"/env/PATH"]).ok().and_then(|p| conf::read(&p));
    match slot {
        Some(v) => v.as_bytes(),
        None => envdir::DEFAULT_PATH,
    }
}

/// Execs `rinit-stage2 -e [-C] [-L] basedir -- words...` (found in `search`,
/// the tree's PATH), which starts stage 2 in a child and makes pid 1 the
/// scanner with the tree's environment (`env/`): every service inherits it
/// from the scanner. If that fails: `die`.
pub fn exec_stage2(base: &CStr, container: bool, logger: bool, words: Argv<'static>, search: &[u8]) -> ! {
    let mut argv = ArgvBuf::<STAGE2_ARGS_MAX>::new();
    argv.push(c"rinit-stage2");
    argv.push(c"-e");
    if container {
        argv.push(c"-C");
    }
    if logger {
        argv.push(c"-L");
    }
    argv.push(base);
    argv.push(c"--");
    let mut full = false;
    words.for_each(&mut |w: &'static CStr| full |= !argv.push(w));
    if full {
        err::warn(&[b"more words than the capacity: the last ones are not passed to stage 2"]);
    }
    let e = sys::exec_search(c"rinit-stage2", search, argv.as_argv(), None);
    die(container, &[b"unable to exec rinit-stage2: the system will not come up"], e)
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
    let mut sh = ArgvBuf::<STAGE2_ARGS_MAX>::new();
    sh.push(c"sh");
    sh.push(c"-i");
    let e = sys::exec_search(c"sh", search, sh.as_argv(), None);
    err::warn_unable(&[b"exec sh: staying as a reaper"], e);
    last_resort()
}

/// Where a panic ends: exit 111, except in pid 1, which must never exit
/// (the kernel would panic): it stays and reaps.
pub fn last_resort() -> ! {
    if sys::getpid() != 1 {
        sys::exit(err::EXIT_SYS);
    }
    loop {
        // ECHILD or EINTR: the loop only reaps.
        let _ = sys::wait_pid(-1);
        sys::sleep_ms(1000);
    }
}
