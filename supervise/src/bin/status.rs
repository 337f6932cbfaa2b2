//! rinit-status: one table of every supervised service of a scan
//! directory (`/run/service` by default), loggers under their service: its
//! state, pid, for how long, ready since, restarts and last exit from the
//! death tally, and the wanted state. With a cgroup per service
//! (`.s6-svscan/cgroup`), the memory and the processes its cgroup counts
//! (`memory.current`, `pids.current`). `-j`: one JSON object per line.
//! Only s6's formats are read, so a tree supervised by s6-supervise shows
//! as well; a directory that cannot be read is a row saying why, never the
//! end of the table.
//!
//! With a live rinit-rc state (`-l`, or `/run/rinit-rc` when it has a
//! database) the table is `rinit-rc-db status`'s, the same with each
//! service's type and whether rinit-rc counts it up, oneshots and bundles
//! included: rinit-status runs the rinit-rc-db beside it, so the reader of
//! rinit-rc's database is in one program, not two.
#![no_std]
#![no_main]

use base::err;
use base::options::{Opt, Options};
use base::sys::{self, Args, ArgvBuf, StaticCell};

use rinit_supervise::statusrow::{self, Rows, DEFAULT_SCANDIR};
use rinit_supervise::statustable::{self, Shown};
use rinit_supervise::statustext::LINE_MAX;

const USAGE: &[u8] = b"rinit-status [ -l live ] [ -j ] [ scandir ]";
/// The database of rinit-rc's live directory when none is given
/// (rinit-rc's `DEFAULT_LIVE`).
const DEFAULT_DB: &core::ffi::CStr = c"/run/rinit-rc/compiled/db";
/// The program that shows rinit-rc's view, looked for beside this one.
const RC_DB: &[u8] = b"/rinit-rc-db\0";
/// Most words handed over to rinit-rc-db, its name and `status` included
/// (and the NULL that ends them): more is a usage error.
const ARGV_MAX: usize = 16;

static ROWS: StaticCell<Rows> = StaticCell::new(Rows::new());

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-status");
    let mut live = false;
    let mut json = false;
    let mut opts = Options::new(args, b"l:j");
    for o in &mut opts {
        match o {
            Opt::Value(b'l', _) => live = true,
            Opt::Flag(b'j') => json = true,
            _ => err::usage(USAGE),
        }
    }
    let scan = args.get(opts.operands()).unwrap_or(DEFAULT_SCANDIR);
    if args.get(opts.operands() + 1).is_some() {
        err::usage(USAGE);
    }
    // The default live state counts when it has a database; one whose
    // presence cannot be told is rinit-rc-db's to report. Asked with
    // access(2), never an open that a FIFO put there would block.
    if live || sys::exists(DEFAULT_DB) != Ok(false) {
        hand_over(args);
    }
    let Some(rows) = ROWS.take() else { sys::exit(err::EXIT_SYS) };
    let cgroup = statusrow::read_scandir(rows, scan);
    statustable::show(rows, Shown { rc: false, cgroup }, json)
}

/// Becomes `rinit-rc-db status` with this program's arguments: the
/// rinit-rc-db beside this program (never one found through PATH: the
/// one of the same build, whose table is this one's).
#[inline(never)]
fn hand_over(args: Args) -> ! {
    let mut exe = [0u8; LINE_MAX + RC_DB.len()];
    let dir_end = match sys::readlink(c"/proc/self/exe", &mut exe[..LINE_MAX]) {
        Ok(own) => own.iter().rposition(|&c| c == b'/').unwrap_or(0),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"read /proc/self/exe"], e),
    };
    let end = dir_end + RC_DB.len();
    if let Some(name) = exe.get_mut(dir_end..end) {
        name.copy_from_slice(RC_DB);
    }
    let Some(prog) = exe.get(..end).and_then(sys::cstr) else { sys::exit(err::EXIT_SYS) };
    let mut argv = ArgvBuf::<ARGV_MAX>::new();
    argv.push(prog);
    argv.push(c"status");
    for k in 1..args.len() {
        if !args.get(k).is_some_and(|a| argv.push(a)) {
            err::usage(USAGE);
        }
    }
    let e = sys::exec(prog, argv.as_argv(), None);
    err::fatal_unable(err::EXIT_SYS, &[b"run ", prog.to_bytes()], e)
}

// No s6 program shows a table: no s6 name to answer to.
linker::entry!(no_s6_name, main, linker::exit_after_panic);
