//! The container entrypoint's command line: `rinit [ options ] -- [ CMD
//! [ ARG... ] ]`. Read once, at the start; a bad option is a usage error
//! (exit 100) before anything runs.

use base::err;
use base::fmt;
use base::options::{Opt, Options as Getopt};
use base::sys::{self, Args};

pub const USAGE: &[u8] = b"rinit [ -v verbosity ] [ -s servicedirs ] [ -r rcsource ] [ -w wait_ms ] [ -f continue|warn|stop ] [ -e code ]... [ -t grace_ms ] [ -g ] [ -p ] -- [ CMD [ ARG... ] ]";

/// Where s6 service directories are looked for when `-s` is not given.
pub const SERVICE_DIR: &[u8] = b"/etc/rinit/service";
/// Where an s6-rc source tree is looked for when `-r` is not given.
pub const RC_DIR: &[u8] = b"/etc/rinit/rc";
/// How long CMD waits for the services by default (ms).
pub const DEFAULT_WAIT_MS: u64 = 5000;
/// Time between TERM and KILL at the end, by default (ms).
pub const DEFAULT_GRACE_MS: u64 = 3000;
/// Default verbosity: warnings and errors only, so the container's output is CMD's.
pub const DEFAULT_VERBOSITY: u64 = 1;
/// Most `-e` codes.
pub const OK_CODES_MAX: usize = 16;

/// What happens when the services are not all up when the wait ends (`-f`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Late {
    /// CMD starts, nothing said.
    Continue,
    /// One line naming the late or failed services, then CMD starts.
    Warn,
    /// One line, then the container stops (exit 111).
    Stop,
}

pub struct Options {
    /// 0 fewer warnings (late, critical, grace), 1 warnings (default), 2 info lines.
    pub verbosity: u64,
    pub services: &'static [u8],
    /// `-s` given: the directory must exist.
    pub services_given: bool,
    pub rc: &'static [u8],
    /// `-r` given: the source tree must exist.
    pub rc_given: bool,
    pub wait_ms: u64,
    pub late: Late,
    /// CMD's exit codes that count as success (`-e`).
    pub ok_codes: [u8; OK_CODES_MAX],
    pub ok_len: usize,
    pub grace_ms: u64,
    /// `-g`: CMD in its own process group, signals to the whole group.
    pub group: bool,
    /// `-p`: each line a service prints starts with its name.
    pub prefix: bool,
    /// Index in argv of CMD (argc when there is none).
    pub cmd: usize,
}

impl Options {
    pub fn info(&self) -> bool {
        self.verbosity >= 2
    }
    pub fn warnings(&self) -> bool {
        self.verbosity >= 1
    }
    /// CMD's code as the container reports it: 0 when `-e` lists it.
    pub fn map_code(&self, code: u8) -> u8 {
        if self.ok_codes.get(..self.ok_len).unwrap_or(&[]).contains(&code) { 0 } else { code }
    }
}

fn number(v: &[u8]) -> u64 {
    fmt::parse_u64(v).unwrap_or_else(|| err::usage(USAGE))
}

pub fn parse(args: &Args) -> Options {
    let verbosity = match sys::getenv(b"RINIT_VERBOSITY") {
        Some(v) => fmt::parse_u64(v.to_bytes()).unwrap_or(DEFAULT_VERBOSITY),
        None => DEFAULT_VERBOSITY,
    };
    let mut o = Options {
        verbosity,
        services: SERVICE_DIR,
        services_given: false,
        rc: RC_DIR,
        rc_given: false,
        wait_ms: DEFAULT_WAIT_MS,
        late: Late::Warn,
        ok_codes: [0; OK_CODES_MAX],
        ok_len: 0,
        grace_ms: DEFAULT_GRACE_MS,
        group: false,
        prefix: false,
        cmd: 1,
    };
    let mut g = Getopt::new(*args, b"v:s:r:w:f:e:t:gpC");
    for opt in &mut g {
        match opt {
            Opt::Value(b'v', v) => o.verbosity = number(v),
            Opt::Value(b's', v) => (o.services, o.services_given) = (v, true),
            Opt::Value(b'r', v) => (o.rc, o.rc_given) = (v, true),
            Opt::Value(b'w', v) => o.wait_ms = number(v),
            Opt::Value(b't', v) => o.grace_ms = number(v),
            Opt::Value(b'f', v) => {
                o.late = match v {
                    b"continue" => Late::Continue,
                    b"warn" => Late::Warn,
                    b"stop" => Late::Stop,
                    _ => err::usage(USAGE),
                }
            }
            Opt::Value(b'e', v) => {
                let c = number(v);
                // More than OK_CODES_MAX codes, or one past 255: bad usage.
                match o.ok_codes.get_mut(o.ok_len) {
                    Some(slot) if c <= 255 => *slot = c as u8,
                    _ => err::usage(USAGE),
                }
                o.ok_len += 1;
            }
            Opt::Flag(b'g') => o.group = true,
            Opt::Flag(b'p') => o.prefix = true,
            // Container mode is what this is: -C is accepted as in the basedir's mode.
            Opt::Flag(b'C') => {}
            _ => err::usage(USAGE),
        }
    }
    o.cmd = g.operands();
    o
}
