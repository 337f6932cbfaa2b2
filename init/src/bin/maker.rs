//! rinit-maker: writes a basedir, the files `rinit` reads at boot and
//! `rinit-shutdownd` at shutdown (the s6-linux-init-maker role).
#![no_std]
#![no_main]

use base::err;
use base::sys::{self, Args};
use rinit_init::layout;
use rinit_init::maker::{self, Config};

const USAGE: &[u8] = b"rinit-maker [ -c basedir ] [ -b bindir ] [ -r compiled ] [ -G getty ] [ -1 ] [ -L ] [ -B ] [ -p path ] [ -m umask ] [ -t 0|1|2|3 ] [ -d devdir ] [ -s envstore ] [ -D runlevel ] [ -q grace_ms ] [ -C ] dir";

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
    };
    let mut i = 1;
    let mut dir = None;
    while let Some(a) = args.get(i) {
        let a = a.to_bytes();
        i += 1;
        let mut value = || -> &'static [u8] {
            let v = args.get(i).map(|v| v.to_bytes()).unwrap_or_else(|| err::usage(USAGE));
            i += 1;
            v
        };
        match a {
            b"--help" | b"-h" => {
                // A closed stdout: nothing left to print to.
                let _ = sys::write_all(sys::STDOUT, HELP);
                sys::exit(0)
            }
            b"-c" => c.basedir = value(),
            b"-b" => c.bindir = value(),
            b"-r" => c.compiled = value(),
            b"-G" => c.early_getty = Some(value()),
            b"-1" => c.log_to_console = true,
            b"-L" => c.console_only_log = true,
            b"-B" => c.no_logger = true,
            b"-p" => c.path = Some(value()),
            b"-m" => c.umask = Some(value()),
            b"-t" => {
                c.timestamps = match value() {
                    [d @ b'0'..=b'3'] => d - b'0',
                    _ => err::usage(USAGE),
                }
            }
            b"-d" => c.devtmpfs = Some(value()),
            b"-s" => c.envstore = Some(value()),
            b"-D" => c.runlevel = Some(value()),
            b"-q" => c.grace_ms = Some(value()),
            b"-C" => c.container = true,
            _ if a.starts_with(b"-") => err::usage(USAGE),
            _ => {
                if dir.replace(a).is_some() {
                    err::usage(USAGE);
                }
            }
        }
    }
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
    match maker::make(dir, &c) {
        Ok(()) => sys::exit(0),
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to write ", e.path.as_bytes()], e.err),
    }
}

linker::entry!(main);
