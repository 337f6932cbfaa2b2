//! Generating a basedir (the s6-linux-init-maker role): the file layout
//! stage 1 and stage 3 read, written in one place. What each piece is:
//! - `bin/`: `init` (link to rinit), `halt`, `poweroff`, `reboot`,
//!   `shutdown` (links to rinit-shutdown), `telinit` (runs scripts/runlevel);
//! - `conf/`: stage 1's settings (see `conf`);
//! - `env/`: the tree's environment (an envdir);
//! - `scripts/`: `rc.init`, `runlevel`, `rc.shutdown`, `rc.shutdown.final`;
//! - `run-image/`: copied to /run at boot: the scan directory `service/`
//!   with the scanner's signal handlers and finish, the shutdown daemon,
//!   the catch-all logger, the optional early getty; `uncaught-logs/`.

use crate::conf;
use crate::layout;
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, errno, Errno, Open};

/// Longest generated script.
pub const SCRIPT_MAX: usize = 2048;

/// Everything `rinit-maker`'s options decide.
pub struct Config<'a> {
    /// Where the basedir will be at boot (`-c`).
    pub basedir: &'a [u8],
    /// Where rinit's programs will be at boot (`-b`).
    pub bindir: &'a [u8],
    pub early_getty: Option<&'a [u8]>,
    pub log_to_console: bool,
    pub console_only_log: bool,
    pub no_logger: bool,
    pub path: Option<&'a [u8]>,
    pub umask: Option<&'a [u8]>,
    pub timestamps: u8,
    pub devtmpfs: Option<&'a [u8]>,
    pub envstore: Option<&'a [u8]>,
    pub runlevel: Option<&'a [u8]>,
    pub grace_ms: Option<&'a [u8]>,
    pub compiled: &'a [u8],
    pub container: bool,
    pub watchdog: Option<&'a [u8]>,
    pub watchdog_disarm: bool,
    pub no_cgroups: bool,
}

/// The failing path and why.
pub struct MakeError {
    pub path: PathBuf,
    pub err: Errno,
}

type R = Result<(), MakeError>;

fn at(dir: &[u8], rel: &[u8]) -> Result<PathBuf, MakeError> {
    PathBuf::join(dir, &[b"/", rel]).map_err(|err| MakeError { path: PathBuf::new(), err })
}

fn fail(p: &PathBuf, err: Errno) -> MakeError {
    let mut path = PathBuf::new();
    // A PathBuf into another of the same capacity: fits.
    let _ = path.push(p.as_bytes());
    MakeError { path, err }
}

fn mkdir(dir: &[u8], rel: &[u8], mode: u32) -> R {
    let p = at(dir, rel)?;
    match sys::mkdir(p.as_cstr(), mode) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(fail(&p, e)),
    }
    sys::chmod(p.as_cstr(), mode).map_err(|e| fail(&p, e))
}

fn file(dir: &[u8], rel: &[u8], content: &[u8], mode: u32) -> R {
    let p = at(dir, rel)?;
    // Usually absent (ENOENT): replaced just below.
    let _ = sys::unlink(p.as_cstr());
    let fd = sys::open(p.as_cstr(), Open::WRONLY | Open::CREATE | Open::TRUNC, mode).map_err(|e| fail(&p, e))?;
    let r = sys::write_all(fd, content).and_then(|_| sys::fchmod(fd, mode));
    sys::close(fd);
    r.map_err(|e| fail(&p, e))
}

fn script(dir: &[u8], rel: &[u8], b: &Buf<SCRIPT_MAX>) -> R {
    if b.overflowed {
        return Err(fail(&at(dir, rel)?, errno::E2BIG));
    }
    file(dir, rel, b.as_bytes(), 0o755)
}

fn link(dir: &[u8], rel: &[u8], target_dir: &[u8], prog: &[u8]) -> R {
    let p = at(dir, rel)?;
    let t = PathBuf::join(target_dir, &[b"/", prog]).map_err(|e| fail(&p, e))?;
    // Usually absent (ENOENT): replaced just below.
    let _ = sys::unlink(p.as_cstr());
    sys::symlink(t.as_cstr(), p.as_cstr()).map_err(|e| fail(&p, e))
}

fn setting(dir: &[u8], name: &[u8], value: Option<&[u8]>) -> R {
    let Some(v) = value else { return Ok(()) };
    let mut b = Buf::<{ conf::VALUE_MAX + 1 }>::new();
    b.push(v).byte(b'\n');
    let mut rel = Buf::<64>::new();
    rel.push(b"conf/").push(name);
    file(dir, rel.as_bytes(), b.as_bytes(), 0o644)
}

/// Writes the whole basedir into `dir`.
pub fn make(dir: &[u8], c: &Config) -> R {
    for d in [&b""[..], b"bin", b"conf", b"env", b"scripts", b"run-image", b"run-image/service",
        b"run-image/service/.s6-svscan", b"run-image/rinit"]
    {
        mkdir(dir, d, 0o755)?;
    }
    make_bin(dir, c)?;
    make_conf(dir, c)?;
    make_scripts(dir, c)?;
    make_run_image(dir, c)
}

fn make_bin(dir: &[u8], c: &Config) -> R {
    link(dir, b"bin/init", c.bindir, b"rinit")?;
    for name in [&b"halt"[..], b"poweroff", b"reboot", b"shutdown"] {
        let mut rel = Buf::<32>::new();
        rel.push(b"bin/").push(name);
        link(dir, rel.as_bytes(), c.bindir, b"rinit-shutdown")?;
    }
    let mut b = Buf::<SCRIPT_MAX>::new();
    b.push(b"#!/bin/sh\n# telinit RUNLEVEL: switch the machine to another runlevel (bundle).\nexec ");
    b.push(c.basedir).push(layout::RUNLEVEL).push(b" \"$@\"\n");
    script(dir, b"bin/telinit", &b)
}

fn make_conf(dir: &[u8], c: &Config) -> R {
    setting(dir, conf::UMASK, c.umask)?;
    setting(dir, conf::DEVTMPFS, c.devtmpfs)?;
    setting(dir, conf::ENVSTORE, c.envstore)?;
    setting(dir, conf::RUNLEVEL, c.runlevel)?;
    setting(dir, conf::GRACE, c.grace_ms)?;
    setting(dir, conf::WATCHDOG, c.watchdog)?;
    for (on, name) in [(c.container, conf::CONTAINER), (c.watchdog_disarm, conf::WATCHDOG_DISARM), (c.no_cgroups, conf::NO_CGROUPS)] {
        if on {
            setting(dir, name, Some(b""))?;
        }
    }
    let mut path = Buf::<1024>::new();
    match c.path {
        Some(p) => path.push(p),
        // The last entry: where Debian's execline keeps `if`, `foreground`...
        // for the oneshots' scripts, which get the tree's PATH.
        None => path.push(c.bindir).push(b":/usr/bin:/usr/sbin:/bin:/sbin:/usr/lib/execline/bin"),
    };
    path.byte(b'\n');
    file(dir, b"env/PATH", path.as_bytes(), 0o644)
}

fn make_scripts(dir: &[u8], c: &Config) -> R {
    let mut b = Buf::<SCRIPT_MAX>::new();
    b.push(b"#!/bin/sh\n\
# rc.init (generated by rinit-maker): stage 2. $1 is the runlevel, the\n\
# bundle to bring up; the kernel command line's other words follow. The\n\
# word poweroff (or reboot, halt) shuts the machine down again a second\n\
# after the runlevel is up (time for a login prompt to show): how a boot\n\
# test ends by itself. The word timeline prints the boot's timeline (an\n\
# SVG picture) once the runlevel is up, each line after `rinit timeline: `\n\
# (the console may be shared with a getty).\n\
rl=\"$1\"\nshift\n\
rinit-rc-init -c ");
    b.push(c.compiled).push(b" /run/service || exit\n\
rinit-rc -v2 -up change \"$rl\"\nr=$?\n\
[ $r = 0 ] && echo \"rinit: info: $rl is up at $(cut -d' ' -f1 /proc/uptime) s of uptime\"\n\
t=$(rinit-rc timeline -s) && echo \"rinit: info: $t\"\n\
for w in \"$@\"; do\n  case \"$w\" in\n    timeline) rinit-rc timeline | sed 's/^/rinit timeline: /' ;;\n    poweroff|reboot|halt) sleep 1; exec ");
    b.push(c.basedir).push(b"/bin/\"$w\" ;;\n  esac\ndone\nexit $r\n");
    script(dir, b"scripts/rc.init", &b)?;

    b.clear();
    b.push(b"#!/bin/sh\n# runlevel RUNLEVEL (generated by rinit-maker): make exactly RUNLEVEL's services up.\n\
exec rinit-rc -v2 -up change \"$1\"\n");
    script(dir, b"scripts/runlevel", &b)?;

    b.clear();
    b.push(b"#!/bin/sh\n# rc.shutdown (generated by rinit-maker): stage 3 starts by stopping\n\
# every service, in reverse dependency order, while the tree still runs.\n\
exec rinit-rc -v2 -bDa change\n");
    script(dir, b"scripts/rc.shutdown", &b)?;

    b.clear();
    b.push(b"#!/bin/sh\n# rc.shutdown.final (generated by rinit-maker): runs after every process\n\
# has been killed, before the file systems are unmounted. Nothing by default.\n:\n");
    script(dir, b"scripts/rc.shutdown.final", &b)
}

fn make_run_image(dir: &[u8], c: &Config) -> R {
    for sig in [&b"SIGTERM"[..], b"SIGINT", b"SIGPWR", b"SIGUSR1", b"SIGUSR2"] {
        let mut rel = Buf::<64>::new();
        rel.push(b"run-image/service/.s6-svscan/").push(sig);
        link(dir, rel.as_bytes(), c.bindir, b"rinit-shutdown")?;
    }
    link(dir, b"run-image/service/.s6-svscan/finish", c.bindir, b"rinit-shutdown")?;
    link(dir, b"run-image/service/.s6-svscan/crash", c.bindir, b"rinit-shutdown")?;

    let mut sd = Buf::<64>::new();
    sd.push(b"run-image/service/").push(layout::SHUTDOWND);
    mkdir(dir, sd.as_bytes(), 0o755)?;
    let mut run = Buf::<64>::new();
    run.push(sd.as_bytes()).push(b"/run");
    link(dir, run.as_bytes(), c.bindir, b"rinit-shutdownd")?;
    sd.push(b"/notification-fd");
    file(dir, sd.as_bytes(), b"3\n", 0o644)?;

    if !c.no_logger && !c.container {
        make_logger(dir, c)?;
    }
    if let Some(g) = c.early_getty {
        let mut rel = Buf::<64>::new();
        rel.push(b"run-image/service/").push(layout::EARLY_GETTY);
        mkdir(dir, rel.as_bytes(), 0o755)?;
        rel.push(b"/run");
        let mut b = Buf::<SCRIPT_MAX>::new();
        b.push(b"#!/bin/sh\n# The early getty (rinit-maker -G): a login prompt even if stage 2 fails.\nexec ");
        b.push(g).byte(b'\n');
        script(dir, rel.as_bytes(), &b)?;
    }
    Ok(())
}

fn make_logger(dir: &[u8], c: &Config) -> R {
    let mut rel = Buf::<64>::new();
    rel.push(b"run-image/service/").push(layout::CATCHALL);
    mkdir(dir, rel.as_bytes(), 0o755)?;
    rel.push(b"/run");
    let mut b = Buf::<SCRIPT_MAX>::new();
    b.push(b"#!/bin/sh\n# The catch-all logger (generated by rinit-maker): everything the\n\
# supervision tree prints reaches it through the FIFO stage 1 made.\nexec <");
    b.push(layout::CATCHALL_FIFO.to_bytes());
    b.push(if c.log_to_console || c.console_only_log { &b" >/dev/console 2>&1\n"[..] } else { b" 2>/dev/console\n" });
    b.push(b"exec rinit-log --");
    if c.log_to_console || c.console_only_log {
        b.push(b" 1");
    }
    if !c.console_only_log {
        match c.timestamps {
            1 => b.push(b" t"),
            2 => b.push(b" T"),
            3 => b.push(b" t T"),
            _ => &mut b,
        };
        b.push(b" n10 s1000000 ").push(layout::UNCAUGHT_LOGS);
    }
    b.byte(b'\n');
    script(dir, rel.as_bytes(), &b)?;
    // The FIFO stage 1 points the tree's output at: made here, copied
    // into /run with the rest of the run-image.
    rel.truncate(rel.len() - b"run".len());
    rel.push(b"fifo");
    let p = at(dir, rel.as_bytes())?;
    // Usually absent (ENOENT): replaced just below.
    let _ = sys::unlink(p.as_cstr());
    sys::mkfifo(p.as_cstr(), 0o600).map_err(|e| fail(&p, e))?;
    if !c.console_only_log {
        mkdir(dir, b"run-image/uncaught-logs", 0o2700)?;
    }
    Ok(())
}
