//! rinit-svstat: prints the state of a supervised service, as s6-svstat
//! does: a human line, or the `-o` fields asked for, space-separated.
#![no_std]
#![no_main]

use base::sys::{self, Args};
use base::tai64n::Tai64n;
use base::path::PathBuf;
use base::{control, err, status};
use base::options::{Opt, Options};
use rinit_supervise::notifystate;
use rinit_supervise::statustext::{self, Line, View};

const USAGE: &[u8] = b"rinit-svstat [ -uwNrpest | -o up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir";

const READ_STATUS: &[u8] = b"unable to read status for ";

/// Most fields one call prints (`-o` lists and letters together).
pub const MAX_FIELDS: usize = 32;

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-svstat");
    let mut fields = [0u8; MAX_FIELDS];
    let mut nfields = 0;
    let mut numeric = false;
    let mut add = |f: u8| {
        let Some(slot) = fields.get_mut(nfields) else {
            err::too_many(b"fields", MAX_FIELDS)
        };
        *slot = f;
        nfields += 1;
    };
    let mut opts = Options::new(args, b"uwNrpesto:n");
    for o in &mut opts {
        match o {
            Opt::Flag(b'n') => numeric = true,
            Opt::Flag(c) => add(statustext::short_field(c).unwrap_or(0)),
            Opt::Value(_, list) => {
                for f in list.split(|&c| c == b',').filter(|f| !f.is_empty()) {
                    match statustext::field_index(f) {
                        Some(i) => add(i),
                        None => err::fatal(err::EXIT_USAGE, &[b"invalid option field: ", f]),
                    }
                }
            }
            Opt::Bad(_) => err::usage(USAGE),
        }
    }
    let Some(dir) = args.get(opts.operands()).map(|d| d.to_bytes()) else { err::usage(USAGE) };

    match control::is_supervised(dir) {
        Ok(true) => {}
        Ok(false) => err::fatal(1, &[READ_STATUS, dir, b": s6-supervise not running"]),
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[READ_STATUS, dir], e),
    }
    let st = match status::read(dir) {
        Ok(s) => s,
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[READ_STATUS, dir], e),
    };
    let normally_up = match PathBuf::join(dir, &[b"/down"]).and_then(|p| sys::exists(p.as_cstr())) {
        Ok(down) => !down,
        Err(e) => err::fatal_sys(err::EXIT_SYS, &[READ_STATUS, dir], e),
    };
    let view = View { st, normally_up, now: Tai64n::now() };

    let mut line = Line::new();
    if nfields == 0 {
        view.human(numeric, &mut line);
        // What the service said over sd_notify, if it did.
        let mut buf = [0u8; notifystate::FILE_MAX];
        match notifystate::read(dir, &mut buf) {
            Ok(said) => statustext::push_said(&said, &mut line),
            Err(e) => err::warn_unable(&[b"read supervise/notify-status for ", dir], e),
        }
    } else {
        for (i, f) in fields.iter().take(nfields).enumerate() {
            if i > 0 {
                line.byte(b' ');
            }
            view.field(*f, &mut line);
        }
    }
    line.byte(b'\n');
    match sys::write_all(sys::STDOUT, line.as_bytes()) {
        Ok(()) => sys::exit(0),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"write to stdout"], e),
    }
}

linker::entry!(main);
