//! A seeded mutation fuzzer for rinit's decoders and parsers, on stable
//! Rust (no coverage guidance here): each target starts from valid inputs,
//! mutates them with byte edits, splices and its format's own tokens, and
//! checks what must hold (no panic, round trips, indices in bounds). The
//! same seed gives the same cases, so a failure is replayed with its seed;
//! the input that failed is printed in hex by the panic hook.

use std::cell::RefCell;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use base::status::Status;
use base::tai64n::Tai64n;
use rinit_init::envdir::Env;
use rinit_init::request::{self, Request};
use rinit_log::regex::Regex;
use rinit_log::script::Script;
use rinit_rc::db::{self, Db, Kind, SvcIn, NONE};
use rinit_rc::graph::{self, Graph};
use rinit_rc::source::Source;
use rinit_supervise::deathtally::{self, Summary};

/// xorshift64*: small, fast, and the same everywhere for one seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// One decoder or parser under test.
pub struct Target {
    pub name: &'static str,
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Tokens of the format, inserted whole by the mutator.
    pub dict: &'static [&'static [u8]],
    /// Runs one case; panics when something that must hold does not.
    pub run: fn(&[u8]),
}

/// Longest input the mutator makes.
pub const INPUT_MAX: usize = 8192;

pub fn targets() -> Vec<Target> {
    vec![
        Target { name: "execline", seeds: execline_seeds, dict: EXECLINE_DICT, run: execline },
        Target { name: "compiled-db", seeds: db_seeds, dict: &[b"\0\0\0\0", b"\xff\xff\xff\xff", b"\x01\0\0\0"], run: compiled_db },
        Target { name: "log-regex", seeds: regex_seeds, dict: REGEX_DICT, run: log_regex },
        Target { name: "log-script", seeds: script_seeds, dict: &[b"\0", b"\x01", b"\xff"], run: log_script },
        Target { name: "status", seeds: status_seeds, dict: &[b"\0", b"\xff", b"\x40\0\0\0"], run: status },
        Target { name: "tai64n-text", seeds: tai_seeds, dict: &[b"@", b"4000000", b"f"], run: tai64n_text },
        Target { name: "shutdown-request", seeds: request_seeds, dict: &[b"p ", b"r ", b"c ", b" 0", b"\n", b"18446744073709551615"], run: shutdown_request },
        Target { name: "envdir-pair", seeds: env_seeds, dict: &[b"=", b"PATH", b"\0", b"\n"], run: envdir_pair },
        Target { name: "numbers", seeds: number_seeds, dict: &[b"0", b"9", b"\n", b" ", b"18446744073709551616"], run: numbers },
        Target { name: "rc-source-tree", seeds: tree_seeds, dict: TREE_DICT, run: rc_source_tree },
        Target { name: "death-tally", seeds: tally_seeds, dict: &[b"\0", b"\x89\x09", b"\x40\0\0\0"], run: death_tally },
    ]
}

/// One mutation of a seed (or of a splice of two).
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&seeds[rng.below(seeds.len())]);
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => out.insert(at, rng.next() as u8),
            3 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 if !out.is_empty() => {
                let a = rng.below(out.len());
                let b = (a + 1 + rng.below(32)).min(out.len());
                let piece: Vec<u8> = out[a..b].to_vec();
                out.splice(at..at, piece);
            }
            5 if !dict.is_empty() => {
                let t = dict[rng.below(dict.len())];
                out.splice(at..at, t.iter().copied());
            }
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => out.truncate(at),
        }
    }
    out.truncate(INPUT_MAX);
}

thread_local! {
    static CURRENT: RefCell<(&'static str, u64, Vec<u8>)> = const { RefCell::new(("", 0, Vec::new())) };
}

/// Prints the failing case before the default report (once per process).
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        CURRENT.with(|c| {
            if let Ok(c) = c.try_borrow() {
                let hex: String = c.2.iter().map(|b| format!("{b:02x}")).collect();
                eprintln!("fuzz: target {} failed, seed {}, input (hex) {hex}", c.0, c.1);
            }
        });
        default(info)
    }));
}

/// Runs `t` from `seed` until `more(cases so far)` says stop; the count.
pub fn run(t: &Target, seed: u64, more: &mut dyn FnMut(u64) -> bool) -> u64 {
    let seeds = (t.seeds)();
    let mut rng = Rng::new(seed);
    let mut input = Vec::with_capacity(INPUT_MAX);
    let mut n = 0;
    for s in &seeds {
        (t.run)(s);
    }
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.0 = t.name;
        c.1 = seed;
    });
    while more(n) {
        mutate(&mut rng, &seeds, t.dict, &mut input);
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            c.2.clear();
            c.2.extend_from_slice(&input);
        });
        (t.run)(&input);
        n += 1;
    }
    n
}

// ------------------------------------------------------------ targets

const EXECLINE_DICT: &[&[u8]] = &[b"{", b"}", b"\"", b"\\", b"#", b"\n", b" ", b"\\x41", b"\\0", b"\t", b"\\\n", b"\0"];

fn execline_seeds() -> Vec<Vec<u8>> {
    [&b"foreground { echo hi } echo \"a b\\\" c\"\n"[..], b"# comment\nsh -c \"exit 3\"\n", b"if { true } { echo \\x41\\t }", b""]
        .iter()
        .map(|s| s.to_vec())
        .collect()
}

fn execline(input: &[u8]) {
    let mut out = [0u8; 1024];
    if let Ok((used, words)) = rinit_rc::execline::tokenize(input, &mut out) {
        assert!(used <= out.len());
        assert!(words <= used, "{words} words in {used} bytes");
    }
}

fn db_seeds() -> Vec<Vec<u8>> {
    let deps_b = [0u32];
    let contents = [0u32, 1];
    let svc = |kind, name: &'static [u8], deps: &'static [u32]| SvcIn {
        kind,
        flags: 0,
        name,
        timeout_up: 5,
        timeout_down: 0,
        deps,
        up: b"echo\0hi\0",
        down: b"",
        producer_for: NONE,
        consumer_for: &[],
        pipeline_name: b"",
    };
    let deps_b: &'static [u32] = Box::leak(Box::new(deps_b));
    let contents: &'static [u32] = Box::leak(Box::new(contents));
    let get = move |i: usize| match i {
        0 => svc(Kind::Oneshot, b"a", &[]),
        1 => svc(Kind::Longrun, b"b", deps_b),
        _ => svc(Kind::Bundle, b"c", contents),
    };
    let mut out = vec![0u8; 4096];
    let mut rc = vec![0u32; 3];
    let n = db::write(3, &get, &mut rc, &mut out).expect("a seed database");
    out.truncate(n);
    vec![out]
}

/// Mutated databases get a checksum that matches, so that the checks
/// behind the checksum are the ones exercised.
fn compiled_db(input: &[u8]) {
    let mut b = input.to_vec();
    if b.len() >= 24 {
        let sum = db::checksum(&b);
        b[16..24].copy_from_slice(&sum.to_le_bytes());
    }
    let Ok(d) = Db::open(&b) else { return };
    for i in 0..d.len() as u32 {
        let s = d.svc(i);
        let _ = (s.kind(), s.name(), s.pipeline_name(), s.producer_for(), s.timeout_up(), s.flags());
        for l in [s.deps(), s.rdeps(), s.consumer_for()] {
            assert!(l.iter().all(|x| (x as usize) < d.len()), "an index out of bounds passed the checks");
        }
        for o in s.up().iter().chain(s.down().iter()) {
            assert!(d.cstr_nul(o).is_some(), "a bad argv word passed the checks");
        }
        let _ = d.find(s.name());
    }
    assert!(acyclic(&d), "a dependency cycle passed the checks");
}

/// Depth-first search with colours, written apart from rc/src/db.rs so
/// that a mistake there cannot hide itself.
fn acyclic(d: &Db) -> bool {
    fn visit(d: &Db, i: u32, colour: &mut [u8]) -> bool {
        match colour[i as usize] {
            1 => return false,
            2 => return true,
            _ => {}
        }
        colour[i as usize] = 1;
        if !d.svc(i).deps().iter().all(|x| visit(d, x, colour)) {
            return false;
        }
        colour[i as usize] = 2;
        true
    }
    let mut colour = vec![0u8; d.len()];
    (0..d.len() as u32).all(|i| visit(d, i, &mut colour))
}

const REGEX_DICT: &[&[u8]] = &[b"(", b")", b"|", b"*", b"+", b"?", b"[", b"]", b"^", b"$", b".", b"\\", b"[^a-z]", b"{2}", b"\n"];

fn regex_seeds() -> Vec<Vec<u8>> {
    [&b"^ab*c$\nxabbbc"[..], b"(foo|bar)+.baz\nfoofoo baz", b"[a-c]?x\\.y\nbx.y", b".*\n"].iter().map(|s| s.to_vec()).collect()
}

/// `pattern\nline`: compile, then match the line and the pattern itself.
fn log_regex(input: &[u8]) {
    thread_local! {
        static RE: RefCell<Box<Regex>> = RefCell::new(Box::new(Regex::new()));
    }
    let (pat, line) = match input.iter().position(|&c| c == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &b""[..]),
    };
    RE.with(|re| {
        let mut re = re.borrow_mut();
        if re.compile(pat).is_ok() {
            let _ = re.is_match(line);
            let _ = re.is_match(pat);
        }
    });
}

/// The directives a script is made of: its parser keeps `&'static`
/// strings, so they are made (mutated from valid ones) and leaked once,
/// and each case is a choice of them, one input byte pair each.
fn directive_pool() -> &'static [&'static CStr] {
    static POOL: OnceLock<Vec<&'static CStr>> = OnceLock::new();
    POOL.get_or_init(|| {
        let valid: Vec<Vec<u8>> = [
            &b"./d"[..], b"/var/log/x", b"n10", b"s4096", b"S100000", b"!gzip", b"t", b"T", b"1", b"2", b"e", b"=st",
            b"+^a.*b$", b"-[0-9]+", b"+(x|y)?z", b"-.*", b"s0", b"n", b"!", b"=",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        let mut rng = Rng::new(0x5eed);
        let mut pool: Vec<&'static CStr> = Vec::new();
        let mut d = Vec::new();
        for i in 0..4096 {
            if i < valid.len() {
                d.clone_from(&valid[i]);
            } else {
                mutate(&mut rng, &valid, REGEX_DICT, &mut d);
            }
            d.retain(|&c| c != 0);
            d.push(0);
            let leaked: &'static [u8] = Box::leak(d.clone().into_boxed_slice());
            pool.push(CStr::from_bytes_with_nul(leaked).expect("one NUL, at the end"));
        }
        pool
    })
}

fn script_seeds() -> Vec<Vec<u8>> {
    // Pool indices, two bytes each: "n10 s4096 ./d", "+^a.*b$ t 1", "-.* =st".
    vec![vec![2, 0, 3, 0, 0, 0], vec![12, 0, 6, 0, 8, 0], vec![15, 0, 11, 0]]
}

/// A script parses or is refused; a parsed one selects lines without fault.
fn log_script(input: &[u8]) {
    thread_local! {
        static SCRIPT: RefCell<Box<Script>> = RefCell::new(Box::new(Script::new()));
    }
    let pool = directive_pool();
    let directives = input.chunks_exact(2).take(24).map(|p| pool[u16::from_le_bytes([p[0], p[1]]) as usize % pool.len()]);
    SCRIPT.with(|s| {
        let mut s = s.borrow_mut();
        // Emptied by its counts: the parser overwrites every slot it uses
        // (a whole new Script per case would cost more than the parse).
        (s.n_actions, s.n_selectors, s.n_logdirs, s.n_status) = (0, 0, 0, 0);
        if s.parse(directives).is_ok() {
            assert!(s.n_actions > 0);
            for a in s.actions() {
                let _ = s.selects(a, input);
            }
        }
    });
}

fn status_seeds() -> Vec<Vec<u8>> {
    let st = Status { pid: 1234, wstat: 256, want_up: true, ready: true, ..Status::default() };
    vec![st.encode().to_vec(), Status::default().encode().to_vec()]
}

/// Decoding is total on 35 bytes, and what it decodes encodes back to a
/// record that decodes the same.
fn status(input: &[u8]) {
    if let Some(st) = Status::decode(input) {
        assert_eq!(Status::decode(&st.encode()), Some(st));
    }
}

fn tai_seeds() -> Vec<Vec<u8>> {
    vec![b"@400000006757a0bc1f2b3c4d".to_vec(), b"@4000000000000000000000000".to_vec()]
}

fn tai64n_text(input: &[u8]) {
    if let Some(t) = Tai64n::parse_text(input) {
        let mut b = base::fmt::Buf::<32>::new();
        t.write_text(&mut b);
        assert_eq!(Tai64n::parse_text(b.as_bytes()), Some(t));
    }
}

fn request_seeds() -> Vec<Vec<u8>> {
    vec![b"p 2000 0\n".to_vec(), b"r 18446744073709551615 60000\nc 0 0\n".to_vec(), b"h 1 2".to_vec()]
}

/// A request read back is the same request; framing does not depend on
/// where the reads cut the bytes.
fn shutdown_request(input: &[u8]) {
    let line = input.split(|&c| c == b'\n').next().unwrap_or(b"");
    if let Some(r) = Request::parse(line) {
        let e = r.encode();
        let b = e.as_bytes();
        assert_eq!(Request::parse(&b[..b.len() - 1]), Some(r));
    }
    let lines = |cut: usize| {
        let mut l = request::Lines::default();
        let mut got = Vec::new();
        let (a, b) = input.split_at(cut.min(input.len()));
        for part in [a, b] {
            l.feed(part, &mut |x| got.push(x.map(<[u8]>::to_vec)));
        }
        got
    };
    assert_eq!(lines(0), lines(input.len() / 2 + 1));
}

fn env_seeds() -> Vec<Vec<u8>> {
    vec![b"PATH=/bin:/usr/bin".to_vec(), b"A=".to_vec(), b"=x".to_vec()]
}

/// What is set can be read back.
fn envdir_pair(input: &[u8]) {
    thread_local! {
        static ENV: RefCell<Box<Env>> = RefCell::new(Box::new(Env::new()));
    }
    ENV.with(|env| {
        let mut env = env.borrow_mut();
        **env = Env::new();
        if env.set_pair(input).is_ok() {
            if let Some(eq) = input.iter().position(|&c| c == b'=') {
                let (name, value) = (&input[..eq], &input[eq + 1..]);
                if !name.is_empty() && !name.contains(&0) && !value.contains(&0) {
                    assert_eq!(env.get(name), Some(value), "set {name:?}, read back another value");
                }
            }
        }
        let _ = env.argv();
    });
}

fn number_seeds() -> Vec<Vec<u8>> {
    vec![b"0".to_vec(), b"18446744073709551615".to_vec(), b" 42\n".to_vec()]
}

fn numbers(input: &[u8]) {
    if let Some(v) = base::fmt::parse_u64(input) {
        let mut tmp = [0u8; 20];
        let digits = base::fmt::u64_dec(v, &mut tmp);
        let trimmed = input.iter().position(|&c| c != b'0').map_or(&b"0"[..], |i| &input[i..]);
        assert_eq!(digits, trimmed);
    }
    let _ = base::fmt::parse_u64_line(input);
    let _ = base::fmt::trim(input);
}

/// A directory of this thread (a test) for the targets that read files,
/// made at its first use and removed when the thread ends: on a tmpfs when
/// there is one, where a case costs no disk write. A process that died
/// first (or ran it on its main thread, whose thread-locals are not
/// dropped) leaves its own: the next one removes them.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        for e in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = e.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("rinit-fuzz-")?.split('-').next());
            if pid.is_some_and(|p| !std::path::Path::new("/proc").join(p).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let d = base.join(format!("rinit-fuzz-{}-{}-{what}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a scratch directory for the fuzzer");
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An s6-rc source tree as one input: entries `PATH\x1fCONTENTS` separated
/// by `\x1e`, PATH being `SERVICE/FILE` or `SERVICE/DIR.d/NAME`; an entry
/// whose path is not made of plain names is skipped.
const TREE_DICT: &[&[u8]] = &[
    b"\x1e", b"\x1f", b"/", b"\n", b"type\x1f", b"oneshot", b"longrun", b"bundle", b"dependencies", b"dependencies.d/",
    b"contents", b"contents.d/", b"producer-for\x1f", b"consumer-for\x1f", b"pipeline-name\x1f", b"timeout-up\x1f",
    b"notification-fd\x1f", b"flag-essential\x1f", b"up\x1f", b"down\x1f", b"run\x1f", b"{", b"}", b"\"", b"4294967296",
];

pub fn tree_seeds() -> Vec<Vec<u8>> {
    [
        &b"a/type\x1foneshot\n\x1ea/up\x1fforeground { echo hi } echo \"a b\"\n\x1ea/down\x1fecho bye\x1eb/type\x1flongrun\x1eb/run\x1f#!/bin/sh\nexec sleep 1\n\x1eb/dependencies\x1fa\n\x1ec/type\x1fbundle\x1ec/contents\x1fa\nb\n"[..],
        b"p/type\x1flongrun\x1ep/run\x1fx\x1ep/producer-for\x1fq\n\x1eq/type\x1flongrun\x1eq/run\x1fx\x1eq/consumer-for\x1fp\n\x1eq/pipeline-name\x1fpl\n\x1eq/notification-fd\x1f3\n\x1eq/timeout-up\x1f100\n\x1eq/flag-essential\x1f\x1eall/type\x1fbundle\x1eall/contents.d/pl\x1f\x1eall/contents.d/o\x1f\x1eo/type\x1foneshot\x1eo/up\x1fecho\x1eo/dependencies.d/p\x1f",
        b"",
    ]
    .iter()
    .map(|s| s.to_vec())
    .collect()
}

/// Writes the tree of `input` under `dir` (emptied first).
fn write_tree(dir: &std::path::Path, input: &[u8]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("the source directory");
    for entry in input.split(|&c| c == 0x1e) {
        let (path, contents) = match entry.iter().position(|&c| c == 0x1f) {
            Some(i) => (&entry[..i], &entry[i + 1..]),
            None => (entry, &b""[..]),
        };
        let parts: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
        let plain = |p: &&[u8]| !p.is_empty() && *p != b"." && *p != b".." && !p.contains(&0);
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(plain) {
            continue;
        }
        let mut p = dir.to_path_buf();
        for part in &parts {
            p.push(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(part));
        }
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&p, contents);
    }
}

fn rc_source_tree(input: &[u8]) {
    compile_tree(input);
}

/// A mutated tree either compiles into a database that passes every check
/// of `compiled_db` (true), or is refused with a message (false).
pub fn compile_tree(input: &[u8]) -> bool {
    // Statics: each is megabytes, too big to build on a thread's stack.
    static SRC: Mutex<Source> = Mutex::new(Source::new());
    static GRAPH: Mutex<Graph> = Mutex::new(Graph::new());
    thread_local! {
        static DIR: (Scratch, PathBuf, &'static [u8]) = {
            let s = Scratch::new("source");
            let d = s.0.join("src");
            let name: &'static [u8] = Box::leak(d.as_os_str().as_encoded_bytes().to_vec().into_boxed_slice());
            (s, d, name)
        };
    }
    let (dir, name) = DIR.with(|(_, d, n)| (d.clone(), *n));
    let (dir, name) = (&dir, &name);
    // Locked before the tree is written: the directory is shared too.
    let mut src = SRC.lock().unwrap_or_else(|e| e.into_inner());
    let mut g = GRAPH.lock().unwrap_or_else(|e| e.into_inner());
    write_tree(dir, input);
    // Emptied by its counts, as the parser overwrites every slot it uses.
    (src.n, src.text_len, src.nrefs, src.ndirs) = (0, 0, 0, 0);
    g.natoms = 0;
    let compiled = quiet(|| src.read_dir(*name).and_then(|()| graph::build(&mut src, &mut g)));
    match compiled {
        Err(e) => {
            assert!(!e.msg.as_bytes().is_empty(), "a refusal without a message");
            false
        }
        Ok(()) => {
            thread_local! {
                static OUT: RefCell<Vec<u8>> = RefCell::new(vec![0; 1 << 20]);
            }
            OUT.with(|out| {
                let mut out = out.borrow_mut();
                if let Ok(n) = graph::write_db(&src, &mut g, &mut out) {
                    let d = Db::open(&out[..n]).expect("a compiled database opens");
                    assert_eq!(d.len(), src.n, "services lost between the source and the database");
                    compiled_db(&out[..n]);
                }
            });
            true
        }
    }
}

/// Runs `f` with stderr on /dev/null: the compiler's warnings (one per
/// mutated tree, often) are not the fuzzer's output.
fn quiet<T>(f: impl FnOnce() -> T) -> T {
    use base::sys::{self, Fd, Open, OwnedFd};
    static FDS: OnceLock<Option<(OwnedFd, OwnedFd)>> = OnceLock::new();
    let fds = FDS.get_or_init(|| Some((sys::dup(Fd(2)).ok()?, sys::open(c"/dev/null", Open::WRONLY, 0).ok()?)));
    let Some((stderr, null)) = fds else { return f() };
    let _ = sys::dup2(null.fd(), Fd(2));
    let r = f();
    let _ = sys::dup2(stderr.fd(), Fd(2));
    r
}

fn tally_seeds() -> Vec<Vec<u8>> {
    let when = Tai64n::parse_text(b"@400000006757a0bc1f2b3c4d").expect("a stamp");
    let exited = deathtally::record(when, base::sys::WaitStatus(1 << 8));
    let killed = deathtally::record(when, base::sys::WaitStatus(9));
    vec![[exited, killed].concat(), exited.to_vec(), Vec::new()]
}

/// `supervise/death_tally` as its reader sees it: whole records, the newest last.
fn death_tally(input: &[u8]) {
    thread_local! {
        static DIR: (Scratch, std::ffi::CString) = {
            let s = Scratch::new("tally");
            std::fs::create_dir_all(s.0.join("supervise")).expect("supervise/");
            let name = std::ffi::CString::new(s.0.as_os_str().as_encoded_bytes()).expect("no NUL in a temporary path");
            (s, name)
        };
    }
    let (dir, name) = DIR.with(|(s, n)| (s.0.clone(), n.clone()));
    let (dir, name) = (&dir, &name);
    std::fs::write(dir.join("supervise/death_tally"), input).expect("write the tally");
    let fd = base::sys::open_dir(name).expect("open the scratch directory");
    let got = deathtally::summary_in(fd.fd());
    drop(fd);
    let n = deathtally::RECORD_LEN;
    if input.len() % n != 0 {
        assert!(got.is_err(), "a tally of {} bytes was read as whole records", input.len());
        return;
    }
    let last = input.len().checked_sub(2).map(|i| (input[i], input[i + 1]));
    assert_eq!(got.ok(), Some(Summary { deaths: (input.len() / n) as u64, last }));
}
