//! rinit-svscanctl: sends s6-svscanctl's command letters to the scanner of
//! a scan directory, through `.s6-svscan/control`.
#![no_std]
#![no_main]

use base::fmt::Buf;
use base::sys::{self, errno, Args};
use base::path::PathBuf;
use base::{control, err};
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-svscanctl [ -zabhitqnN ] svscandir";

/// Most command letters sent in one call.
pub const MAX_COMMANDS: usize = 64;

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-svscanctl");
    let mut letters = Buf::<MAX_COMMANDS>::new();
    let mut opts = Options::new(args, b"zabhitqnN");
    for o in &mut opts {
        match o {
            Opt::Flag(c) => {
                letters.byte(c);
            }
            _ => err::usage(USAGE),
        }
    }
    if letters.overflowed {
        err::too_many(b"commands", MAX_COMMANDS);
    }
    let Some(dir) = args.get(opts.operands()).map(|d| d.to_bytes()) else { err::usage(USAGE) };

    match control::send_scanner(dir, letters.as_bytes()) {
        Ok(()) => sys::exit(0),
        Err(errno::ENXIO) => err::fatal(err::EXIT_USAGE, &[b"unable to control ", dir, b": supervisor not listening"]),
        Err(e) if e == errno::ENOENT && scanner_dir_exists(dir) => err::fatal(
            err::EXIT_USAGE,
            &[b"something is wrong with the ", dir, b"/.s6-svscan directory. errno reported: ", err::strerror(e)],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"control ", dir], e),
    }
}

/// Is there a `.s6-svscan` directory (a scan dir whose control FIFO is missing)?
fn scanner_dir_exists(dir: &[u8]) -> bool {
    let p = PathBuf::join(dir, &[b"/.s6-svscan"]);
    p.and_then(|p| sys::exists(p.as_cstr())).unwrap_or(false)
}

linker::entry!(main);
