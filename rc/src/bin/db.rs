//! rinit-rc-db: questions to a compiled database (s6-rc-db's role).
#![no_std]
#![no_main]

use base::err;
use base::fmt::Buf;
use base::path::PathBuf;
use base::sys::{self, Args};
use rc::db::{Db, Kind, Svc};
use rc::live;
use rinit_rc as rc;
use rc::cli::{line, open_db};
use base::options::{Opt, Options};

const USAGE: &[u8] = b"rinit-rc-db [ -u | -d ] [ -l live | -c compiled ] type|contents|dependencies|all-dependencies|reverse-dependencies|all-reverse-dependencies|timeouts|flags|pipeline|script NAME | list all|oneshots|longruns|bundles|services | atomics NAME... | graph [ NAMES... ] | status [ -l live ] [ -j ] [ scandir ]";
const STATUS_USAGE: &[u8] = b"rinit-rc-db status [ -l live ] [ -j ] [ scandir ]";

fn main(args: Args) -> ! {
    if args.get(1).map(|c| c.to_bytes()) == Some(b"status") {
        // rinit-status's table, run by rinit-status: its messages are
        // rinit-status's (set first, the name that counts).
        err::set_prog(b"rinit-status");
        status(args);
    }
    err::set_prog(b"rinit-rc-db");
    let mut live_dir: &[u8] = live::DEFAULT_LIVE;
    let mut compiled: Option<&[u8]> = None;
    let mut down = false;
    let mut opts = Options::new(args, b"l:c:ud");
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'l', v) => live_dir = v,
            Opt::Value(b'c', v) => compiled = Some(v),
            Opt::Flag(b'u') => down = false,
            Opt::Flag(b'd') => down = true,
            _ => err::usage(USAGE),
        }
    }
    let i = opts.operands();
    let dir = match compiled {
        Some(c) => PathBuf::join(c, &[]),
        None => PathBuf::join(live_dir, &[b"/compiled"]),
    };
    let Ok(dir) = dir else { err::usage(USAGE) };
    if args.get(i).map(|c| c.to_bytes()) == Some(b"graph") {
        let db = open_db(dir.as_bytes());
        graph(&db, &mut (i + 1..args.len()).filter_map(|k| args.get(k)).map(|c| c.to_bytes()));
    }
    let (Some(cmd), Some(arg)) = (args.get(i), args.get(i + 1)) else {
        err::usage(USAGE)
    };
    let (cmd, arg) = (cmd.to_bytes(), arg.to_bytes());
    let db = open_db(dir.as_bytes());

    if cmd == b"list" {
        for k in 0..db.len() as u32 {
            let s = db.svc(k);
            let want = match arg {
                b"all" => true,
                b"services" => s.kind() != Kind::Bundle,
                b"oneshots" => s.kind() == Kind::Oneshot,
                b"longruns" => s.kind() == Kind::Longrun,
                b"bundles" => s.kind() == Kind::Bundle,
                _ => err::usage(USAGE),
            };
            if want {
                line(&[s.name()]);
            }
        }
        sys::exit(0);
    }
    if cmd == b"atomics" {
        // The atomic services the names stand for (bundles resolved), once each.
        let mut seen = [0u8; rc::db::MAX_SERVICES];
        for k in i + 1..args.len() {
            let name = args.get(k).map(|a| a.to_bytes()).unwrap_or(b"");
            let Some(s) = db.find(name) else {
                err::fatal(1, &[b"unknown service name ", name])
            };
            let mark = |x: u32, seen: &mut [u8]| seen.get_mut(x as usize).map(|m| *m = 1);
            if s.kind() == Kind::Bundle {
                s.deps().iter().for_each(|d| {
                    mark(d, &mut seen);
                });
            } else {
                mark(s.index, &mut seen);
            }
        }
        names(&db, (0..db.len() as u32).filter(|&k| seen.get(k as usize) == Some(&1)));
        sys::exit(0);
    }
    let Some(s) = db.find(arg) else {
        err::fatal(1, &[b"unknown service name ", arg])
    };
    match cmd {
        b"type" => line(&[s.kind().name()]),
        b"contents" => {
            if s.kind() != Kind::Bundle {
                err::fatal(1, &[arg, b" is not a bundle"]);
            }
            names(&db, s.deps().iter());
        }
        b"dependencies" => names(&db, s.deps().iter()),
        b"reverse-dependencies" => names(&db, s.rdeps().iter()),
        b"all-dependencies" => closure(&db, s, true),
        b"all-reverse-dependencies" => closure(&db, s, false),
        b"timeouts" => {
            let mut b = Buf::<64>::new();
            b.u64(s.timeout_up() as u64)
                .byte(b'\n')
                .u64(s.timeout_down() as u64);
            line(&[b.as_bytes()]);
        }
        b"flags" => {
            let mut b = Buf::<16>::new();
            b.hex(s.flags() as u64, 8);
            line(&[b.as_bytes()]);
        }
        b"pipeline" => {
            // From this service down the producer-for chain to the last consumer.
            let mut cur = Some(s.index);
            let mut steps = 0;
            while let Some(c) = cur {
                let x = db.svc(c);
                line(&[x.name()]);
                cur = x.producer_for();
                steps += 1;
                if steps > db.len() {
                    break;
                }
                if cur.is_none()
                    && let Some(p) = x.pipeline_name()
                {
                    line(&[b"pipeline-name: ", p]);
                }
            }
        }
        b"script" => {
            if s.kind() != Kind::Oneshot {
                err::fatal(1, &[arg, b" is not a oneshot"]);
            }
            let l = if down { s.down() } else { s.up() };
            for w in l.iter() {
                line(&[s.word_str(w)]);
            }
        }
        _ => err::usage(USAGE),
    }
    sys::exit(0)
}

/// `status [ -l live ] [ -j ] [ scandir ]`: rinit-status's table with
/// rinit-rc's view of the live state (rinit-status runs this when there is
/// one). Its options after its name, as rinit-status takes them.
fn status(args: Args) -> ! {
    let mut live_dir: &[u8] = live::DEFAULT_LIVE;
    let mut json = false;
    let mut opts = Options::from_word(args, b"l:j", 2);
    for o in opts.by_ref() {
        match o {
            Opt::Value(b'l', v) => live_dir = v,
            Opt::Flag(b'j') => json = true,
            _ => err::usage(STATUS_USAGE),
        }
    }
    let i = opts.operands();
    if args.get(i + 1).is_some() {
        err::usage(STATUS_USAGE);
    }
    rc::statusview::show(live_dir, json, args.get(i).unwrap_or(supervise::statusrow::DEFAULT_SCANDIR))
}

/// `graph [names...]`: the DOT picture of the names' closure, or of all.
fn graph<'n>(db: &Db, names: &mut dyn Iterator<Item = &'n [u8]>) -> ! {
    let mut pick = [0u8; rc::db::MAX_SERVICES];
    let mut stack = [0u32; rc::db::MAX_SERVICES];
    if let Err(name) = rc::dot::select(db, names, &mut pick, &mut stack) {
        err::fatal(1, &[b"unknown service name ", name]);
    }
    let mut out = base::out::Out::stdout();
    rc::dot::write(db, &pick, &mut stack, &mut out);
    out.flush();
    sys::exit(0)
}

fn names(db: &Db, it: impl Iterator<Item = u32>) {
    for d in it {
        line(&[db.svc(d).name()]);
    }
}

/// Every service reached from `s` through dependencies (or dependents), sorted.
fn closure(db: &Db, s: Svc, deps: bool) {
    let mut seen = [0u8; rc::db::MAX_SERVICES];
    let mut stack = [0u32; rc::db::MAX_SERVICES];
    let mut top = 1usize;
    stack[0] = s.index;
    while top > 0 {
        top -= 1;
        let x = db.svc(stack.get(top).copied().unwrap_or(0));
        let next = if deps { x.deps() } else { x.rdeps() };
        for d in next.iter() {
            if let Some(m) = seen.get_mut(d as usize)
                && *m == 0
            {
                *m = 1;
                if let Some(t) = stack.get_mut(top) {
                    *t = d;
                    top += 1;
                }
            }
        }
    }
    for k in 0..db.len() {
        if seen.get(k) == Some(&1) && k as u32 != s.index {
            line(&[db.svc(k as u32).name()]);
        }
    }
}

linker::entry!(main);
