//! rinit-svok: exit 0 if the service directory is supervised, 1 if not.
#![no_std]
#![no_main]

use base::{err, sys::Args};
use base::control;

const USAGE: &[u8] = b"rinit-svok servicedir";

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-svok");
    let Some(dir) = args.get(1) else { err::usage(USAGE) };
    match control::is_supervised(dir.to_bytes()) {
        Ok(yes) => base::sys::exit(if yes { 0 } else { 1 }),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"check ", dir.to_bytes()], e),
    }
}

linker::entry!(main);
