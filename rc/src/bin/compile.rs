//! rinit-rc-compile: s6-rc source directories → one compiled database
//! directory (`db` and `servicedirs/NAME` for longruns and oneshot data).
#![no_std]
#![no_main]

use base::err;
use base::sys::{self, Args, StaticCell, errno};
use rc::copy;
use rc::db::{Kind, MAX_DB_BYTES};
use rc::graph::{self, Graph};
use rc::source::Source;
use rinit_rc as rc;
use rc::cli::path;
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-rc-compile [ -v verbosity ] compiled source...";

static SRC: StaticCell<Source> = StaticCell::new(Source::new());
static GRAPH: StaticCell<Graph> = StaticCell::new(Graph::new());
static OUT: StaticCell<[u8; MAX_DB_BYTES]> = StaticCell::new([0; MAX_DB_BYTES]);

/// Files of a longrun's source directory that are s6-rc's, not the supervisor's.
const RC_FILES: &[&[u8]] = &[
    b"type",
    b"dependencies",
    b"dependencies.d",
    b"timeout-up",
    b"timeout-down",
    b"flag-essential",
    b"producer-for",
    b"consumer-for",
    b"pipeline-name",
    b"contents",
    b"contents.d",
    b"down",
];

fn main(args: Args) -> ! {
    err::set_prog(b"rinit-rc-compile");
    let mut opts = Options::new(args, b"v:");
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'v', _) => {}
            _ => err::usage(USAGE),
        }
    }
    let first = opts.operands();
    let Some(compiled) = args.get(first) else {
        err::usage(USAGE)
    };
    let compiled = compiled.to_bytes();
    if args.len() < first + 2 {
        err::usage(USAGE);
    }
    let (Some(src), Some(g), Some(out)) = (SRC.take(), GRAPH.take(), OUT.take()) else {
        sys::exit(err::EXIT_SYS)
    };

    for k in first + 1..args.len() {
        let Some(dir) = args.get(k) else { break };
        if let Err(e) = src.read_dir(dir.to_bytes()) {
            err::fatal(1, &[e.msg.as_bytes()]);
        }
    }
    if let Err(e) = graph::build(src, g) {
        err::fatal(1, &[e.msg.as_bytes()]);
    }
    let len = match graph::write_db(src, g, out) {
        Ok(l) => l,
        Err(_) => err::fatal(1, &[b"database too large (capacity MAX_DB_BYTES = 16 MiB)"]),
    };

    // The output directory: refused if it exists, as s6-rc-compile does.
    let mut dst = path(compiled, &[]);
    match sys::mkdir(dst.as_cstr(), 0o755) {
        Ok(()) => {}
        Err(errno::EEXIST) => err::fatal(
            err::EXIT_USAGE,
            &[b"unable to create ", compiled, b": already exists"],
        ),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"create ", compiled], e),
    }
    let sd = path(compiled, &[b"/servicedirs"]);
    if let Err(e) = sys::mkdir(sd.as_cstr(), 0o755) {
        err::fatal_unable(err::EXIT_SYS, &[b"create ", sd.as_bytes()], e);
    }
    for i in 0..src.n {
        let s = src.svcs[i];
        let name = src.name(i);
        let mut from = path(src.dir(s.src as usize), &[b"/", name]);
        let mut to = path(sd.as_bytes(), &[b"/", name]);
        let r = match s.kind {
            Kind::Longrun => copy::copy_tree(&mut from, &mut to, &|n| RC_FILES.contains(&n), &[b"run", b"finish"]),
            Kind::Oneshot if s.flags & rc::db::F_DATA != 0 => {
                // A oneshot keeps only its data/ (its working directory).
                // EEXIST is fine; any other failure is the copy's to report.
                let _ = sys::mkdir(to.as_cstr(), 0o755);
                // A path too long is a usage error here, never a copy of
                // the whole service directory in data/'s place.
                let (mut from, mut to) = (path(from.as_bytes(), &[b"/data"]), path(to.as_bytes(), &[b"/data"]));
                copy::copy_tree(&mut from, &mut to, &|_| false, &[])
            }
            _ => Ok(()),
        };
        if let Err(f) = r {
            f.fatal();
        }
    }
    dst.truncate(compiled.len());
    let db = path(compiled, &[b"/db"]);
    if let Err(f) = copy::write_file(&db, out.get(..len).unwrap_or(&[]), 0o644) {
        f.fatal();
    }
    sys::exit(0)
}

linker::entry!(main);
