//! rinit-maker: writes a basedir, the files `rinit` reads at boot and
//! `rinit-shutdownd` at shutdown (the s6-linux-init-maker role).
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options};
use base::sys::{self, Args};
use rinit_init::layout;
use rinit_init::maker::{self, Config};

const USAGE: &[u8] = b"rinit-maker [ -c basedir ] [ -b bindir ] [ -r compiled ] [ -G getty ] [ -1 ] [ -L ] [ -B ] [ -p path ] [ -m umask ] [ -t 0|1|2|3 ] [ -d devdir ] [ -s envstore ] [ -D runlevel ] [ -q grace_ms ] [ -C ] [ -W device,interval_ms,timeout_ms ] [ -V ] [ -n ] dir";

const HELP: &[u8] = concat!(
    "rinit-maker [ options ] dir: write a basedir for rinit into dir.\n",
    "\n",
    "  -c basedir   where dir will be at boot (default /etc/rinit): scripts and links name it\n",
    "  -b bindir    where rinit's programs will be at boot (default: this program's directory)\n",
    "  -r compiled  the compiled rinit-rc database rc.init starts from (default /etc/rinit-rc/compiled)\n",
    "  -G getty     an early getty service running this command line (a login prompt even if stage 2 fails)\n",
    "  -1           the catch-all logger also copies everything to /dev/console\n",
    "  -L           the catch-all logger writes to /dev/console only, no log directory\n",
    "  -B           no catch-all logger: the tree's output goes where stage 1's went\n",
    "  -p path      the tree's initial PATH (default bindir:/usr/bin:/usr/sbin:/bin:/sbin)\n",
    "  -m umask     stage 1's umask, octal (default 022)\n",
    "  -t style     catch-all log timestamps: 0 none, 1 TAI64N, 2 ISO 8601, 3 both (default 1)\n",
    "  -d devdir    mount a devtmpfs on devdir at boot (default: none, the kernel did it)\n",
    "  -s envstore  a directory where stage 1 stores the kernel's environment variables\n",
    "  -D runlevel  the runlevel (bundle) rc.init brings up (default default)\n",
    "  -q grace_ms  time between TERM and KILL at shutdown, ms (default 2000)\n",
    "  -C           container mode always (no kernel mounts, no catch-all logger, exit instead of reboot)\n",
    "  -W device,interval_ms,timeout_ms\n",
    "               pid 1 pets this hardware watchdog (e.g. /dev/watchdog,5000,30000) until reboot(2)\n",
    "  -V           disarm the watchdog just before reboot(2), if the device allows (default: stays armed)\n",
    "  -n           no cgroup per service (stage 1 does not mount cgroup2 nor delegate a cgroup)\n",
    "  --help       this text\n",
).as_bytes();

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-maker");
    let argv0 = args.get(0).map(|a| a.to_bytes()).unwrap_or(b"");
    let own_dir = match argv0.iter().rposition(|&c| c == b'/') {
        Some(i) if argv0.starts_with(b"/") => &argv0[..i],
        _ => b"/sbin",
    };
    let mut c = Config {
        basedir: layout::DEFAULT_BASEDIR,
        bindir: own_dir,
        early_getty: None,
        log_to_console: false,
        console_only_log: false,
        no_logger: false,
        path: None,
        umask: None,
        timestamps: 1,
        devtmpfs: None,
        envstore: None,
        runlevel: None,
        grace_ms: None,
        compiled: b"/etc/rinit-rc/compiled",
        container: false,
        watchdog: None,
        watchdog_disarm: false,
        no_cgroups: false,
    };
    // getopt's spellings (`-1B`, `-t2`), and GNU's `--help` as well.
    if (1..args.len()).any(|i| args.get(i).is_some_and(|a| a.to_bytes() == b"--help")) {
        help()
    }
    let mut g = Options::new(args, b"hc:b:r:G:1LBp:m:t:d:s:D:q:CW:Vn");
    for opt in &mut g {
        match opt {
            Opt::Flag(b'h') => help(),
            Opt::Value(b'c', v) => c.basedir = v,
            Opt::Value(b'b', v) => c.bindir = v,
            Opt::Value(b'r', v) => c.compiled = v,
            Opt::Value(b'G', v) => c.early_getty = Some(v),
            Opt::Flag(b'1') => c.log_to_console = true,
            Opt::Flag(b'L') => c.console_only_log = true,
            Opt::Flag(b'B') => c.no_logger = true,
            Opt::Value(b'p', v) => c.path = Some(v),
            Opt::Value(b'm', v) => c.umask = Some(v),
            Opt::Value(b't', v) => {
                c.timestamps = match v {
                    [d @ b'0'..=b'3'] => d - b'0',
                    _ => err::usage(USAGE),
                }
            }
            Opt::Value(b'd', v) => c.devtmpfs = Some(v),
            Opt::Value(b's', v) => c.envstore = Some(v),
            Opt::Value(b'D', v) => c.runlevel = Some(v),
            Opt::Value(b'q', v) => c.grace_ms = Some(v),
            Opt::Flag(b'C') => c.container = true,
            Opt::Value(b'W', v) => c.watchdog = Some(v),
            Opt::Flag(b'V') => c.watchdog_disarm = true,
            Opt::Flag(b'n') => c.no_cgroups = true,
            _ => err::usage(USAGE),
        }
    }
    // One operand: the directory to write.
    let i = g.operands();
    let dir = args.get(i).filter(|_| i + 1 == args.len()).map(|d| d.to_bytes());
    let Some(dir) = dir else { err::usage(USAGE) };
    if !c.basedir.starts_with(b"/") || !c.bindir.starts_with(b"/") {
        err::fatal(err::EXIT_USAGE, &[b"basedir and bindir must be absolute paths"]);
    }
    if let Some(m) = c.umask {
        if rinit_init::conf::parse_octal(m).is_none() {
            err::fatal(err::EXIT_USAGE, &[b"bad umask: ", m]);
        }
    }
    if let Some(g) = c.grace_ms {
        if base::fmt::parse_u64(g).is_none() {
            err::fatal(err::EXIT_USAGE, &[b"bad grace time: ", g]);
        }
    }
    if let Some(w) = c.watchdog
        && base::watchdog::parse(w).is_err()
    {
        err::fatal(err::EXIT_USAGE, &[b"bad watchdog (device,interval_ms,timeout_ms, interval shorter than timeout): ", w]);
    }
    match maker::make(dir, &c) {
        Ok(()) => sys::exit(0),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"write ", e.path.as_bytes()], e.err),
    }
}

/// `--help`, `-h`: the help text on stdout, exit 0.
fn help() -> ! {
    // A closed stdout: nothing left to print to.
    let _ = sys::write_all(sys::STDOUT, HELP);
    sys::exit(0)
}

linker::entry!(main);
