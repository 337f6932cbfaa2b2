//! bench-rc: figures for rinit-rc (not a test). Prints a table:
//! compile time and database size for 100 / 1000 services, rinit-rc-init,
//! `change -u default` and `-d` for 1000 longruns in a chain and in a
//! fan-out (no dependencies between them: all start at once), and the floor
//! (1000 fork+exec+wait of a tiny static binary, the same kind of binary as
//! the services' `run`). The same runs with s6-rc side by side, as ratios:
//! s6-rc-compile, s6-rc-init and s6-rc from the peer directory (peer.rs:
//! `S6_PEER_DIR`, the static musl set, or Debian's), with that directory
//! first in `PATH` so s6-rc finds execline and s6 from the same set.
//! `S6RC_BIN_DIR` overrides where s6-rc's own programs are. `--readme`
//! rewrites the README's bench-rc block.
//!
//! `cargo run --release -p rinit-tests --bin bench-rc`

mod peer;
mod readme;

use rinit_tests::bin_dir;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A 130-byte static x86_64 ELF: `loop { pause() }` (sleep forever) or
/// `exit(0)`: the smallest `run` there can be.
fn tiny_elf(exit: bool) -> Vec<u8> {
    let code: &[u8] = if exit {
        &[0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05] // mov eax,60; xor edi,edi; syscall
    } else {
        &[0xb8, 34, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7] // mov eax,34 (pause); syscall; jmp back
    };
    let base: u64 = 0x400000;
    let total = (64 + 56 + code.len()) as u64;
    let mut e = Vec::new();
    e.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    e.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e.extend_from_slice(&0x3eu16.to_le_bytes()); // x86_64
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&(base + 120).to_le_bytes()); // entry
    e.extend_from_slice(&64u64.to_le_bytes()); // phoff
    e.extend_from_slice(&0u64.to_le_bytes()); // shoff
    e.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    e.extend_from_slice(&5u32.to_le_bytes()); // R X
    e.extend_from_slice(&0u64.to_le_bytes());
    e.extend_from_slice(&base.to_le_bytes());
    e.extend_from_slice(&base.to_le_bytes());
    e.extend_from_slice(&total.to_le_bytes());
    e.extend_from_slice(&total.to_le_bytes());
    e.extend_from_slice(&0x1000u64.to_le_bytes());
    e.extend_from_slice(code);
    e
}

fn write(p: &Path, s: &[u8], exec: bool) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, s).unwrap();
    if exec {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Chain,
    FanOut,
}

/// n longruns (`run` = the sleeper) in a chain or a fan-out, bundle `default`.
fn source(dir: &Path, n: usize, shape: Shape, sleeper: &[u8]) {
    let _ = fs::remove_dir_all(dir);
    let mut names = Vec::new();
    for i in 0..n {
        let s = dir.join(format!("svc{i:04}"));
        write(&s.join("type"), b"longrun\n", false);
        write(&s.join("run"), sleeper, true);
        if shape == Shape::Chain && i > 0 {
            write(
                &s.join("dependencies"),
                format!("svc{:04}\n", i - 1).as_bytes(),
                false,
            );
        }
        names.push(format!("svc{i:04}"));
    }
    write(&dir.join("default/type"), b"bundle\n", false);
    write(
        &dir.join("default/contents"),
        (names.join("\n") + "\n").as_bytes(),
        false,
    );
}

struct Tool {
    compile: PathBuf,
    init: PathBuf,
    rc: PathBuf,
    /// `PATH` for its runs: its own set's helpers first.
    path: String,
    /// The scanner command over `scan`, from the same set: s6-rc 0.7's
    /// s6-rc-init waits on s6-svscan's own ways of bringing supervisors up.
    scan: String,
    /// Why `init` and `change` cannot run, if they cannot.
    missing: Option<String>,
    /// Shell lines that, in the run's mount namespace, put a missing
    /// s6-ftrigrd where `init` looks for it (see `stand_in_helper`).
    setup: String,
    /// What stands in for the missing s6-ftrigrd, for the header.
    stand_in: Option<String>,
}

fn rinit_tool() -> Tool {
    let d = bin_dir();
    Tool {
        compile: d.join("rinit-rc-compile"),
        init: d.join("rinit-rc-init"),
        rc: d.join("rinit-rc"),
        path: rinit_tests::test_path(),
        scan: format!("{} -C 4000 scan", d.join("rinit-scan").display()),
        missing: None,
        setup: String::new(),
        stand_in: None,
    }
}

fn s6rc_tool(peer: &peer::Peer) -> Option<Tool> {
    let d = std::env::var_os("S6RC_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| peer.dir.clone());
    let t = Tool {
        compile: d.join("s6-rc-compile"),
        init: d.join("s6-rc-init"),
        rc: d.join("s6-rc"),
        path: format!("{}:{}:{}", d.display(), peer.dir.display(), rinit_tests::test_path()),
        scan: format!("{} -t0 {} 4000 scan", peer.bin("s6-svscan").display(), peer.scan_capacity_flag()),
        missing: None,
        setup: String::new(),
        stand_in: None,
    };
    if !t.compile.is_file() {
        eprintln!("bench-rc: {} is missing: rinit alone", t.compile.display());
        return None;
    }
    let (missing, setup, stand_in) = match missing_helper(&t.init) {
        None => (None, String::new(), None),
        Some(helper) => match stand_in_helper(&helper, peer) {
            Some((setup, from)) => {
                let from = if from.starts_with(&work_dir().display().to_string()) {
                    "tests/bench/ftrigrd.c (built now)".to_string()
                } else {
                    from
                };
                let note = format!("{} (missing from the set) stood in by {from}", helper.display());
                (None, setup, Some(note))
            }
            None => (
                Some(format!(
                    "{}, which {} runs, is missing; the set has no s6-ftrigrd of its own (bin/ or libexec/) and ftrigrd.c could not be built to stand in",
                    helper.display(),
                    t.init.display()
                )),
                String::new(),
                None,
            ),
        },
    };
    Some(Tool { missing, setup, stand_in, ..t })
}

/// A static set built with a prefix that is not installed (the musl set's
/// s6-rc-init runs /tmp/s6static/libexec/s6-ftrigrd, the path it was built
/// for) gets, in the run's own mount namespace, a tmpfs over the nearest
/// existing directory above that path and an s6-ftrigrd there: the set's
/// own, from its bin/ or a libexec/ beside it, else `ftrigrd.c` beside this
/// file, built now (musl-gcc or gcc, static), which speaks the ftrigr
/// protocol of s6 2.15. Not Debian's: its s6-ftrigrd (s6 2.11) speaks an
/// older one and fails s6-rc 0.7's handshake ("unable to sync with client:
/// Protocol error"). None when there is neither, or when the tmpfs would
/// hide the work area.
fn stand_in_helper(helper: &Path, peer: &peer::Peer) -> Option<(String, String)> {
    let own = [peer.bin("s6-ftrigrd"), peer.dir.join("../libexec/s6-ftrigrd")];
    let from = match own.into_iter().find(|p| p.is_file()) {
        Some(f) => f,
        None => build_ftrigrd()?,
    };
    let dir = helper.parent()?;
    let above = dir.ancestors().find(|a| a.is_dir())?;
    if above == Path::new("/") || work_dir().starts_with(above) {
        return None;
    }
    let setup = format!(
        "mount -t tmpfs stand-in {a} && mkdir -p {d} && cp {f} {h} || exit 4\n",
        a = above.display(),
        d = dir.display(),
        f = from.display(),
        h = helper.display()
    );
    Some((setup, from.display().to_string()))
}

/// `ftrigrd.c` compiled static into the work area; None without a compiler.
fn build_ftrigrd() -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/ftrigrd.c");
    let out = work_dir().join("s6-ftrigrd");
    ["musl-gcc", "gcc"].into_iter().find_map(|cc| {
        let ok = Command::new(cc)
            .args(["-O2", "-static", "-o"])
            .arg(&out)
            .arg(&src)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| out.clone())
    })
}

/// s6-rc-init and s6-rc wait for supervisors through s6-ftrigrd, which they
/// run by the absolute path s6 was built with (its libexec directory), not
/// through `PATH`. A set shipped without it cannot run them: say so.
fn missing_helper(init: &Path) -> Option<PathBuf> {
    let bytes = fs::read(init).ok()?;
    let name = b"/s6-ftrigrd";
    let end = bytes.windows(name.len()).position(|w| w == name)? + name.len();
    let start = bytes[..end].iter().rposition(|&b| b == 0).map_or(0, |z| z + 1);
    let helper = PathBuf::from(String::from_utf8_lossy(&bytes[start..end]).into_owned());
    (!helper.exists()).then_some(helper)
}

/// Times in ms of (init, up, down) in a fresh namespace.
/// Times in ms of (init, up, down) in a fresh namespace, and the CPU time
/// (user + system, ms) of the `-u` change itself when /usr/bin/time exists:
/// what the service manager costs, apart from the supervisors it waits for.
fn run_change(work: &Path, t: &Tool) -> (f64, f64, f64, Option<f64>) {
    let cpu_file = work.join("cpu.txt");
    let _ = fs::remove_file(&cpu_file);
    let timer = if Path::new("/usr/bin/time").exists() {
        format!("/usr/bin/time -f '%U %S' -o {} ", cpu_file.display())
    } else {
        String::new()
    };
    let script = format!(
        "{setup}cd {w}\nrm -rf scan live\nmkdir scan\n{scan} >scan.log 2>&1 &\n\
         while [ ! -p scan/.s6-svscan/control ]; do sleep 0.01; done\n\
         t0=$(date +%s%N)\n{init} -c {w}/comp -l {w}/live {w}/scan || exit 1\nt1=$(date +%s%N)\n\
         {timer}{rc} -l {w}/live -u change default || exit 2\nt2=$(date +%s%N)\n\
         {rc} -l {w}/live -d change default || exit 3\nt3=$(date +%s%N)\n\
         echo $((t1-t0)) $((t2-t1)) $((t3-t2))\n",
        w = work.display(),
        setup = t.setup,
        scan = t.scan,
        init = t.init.display(),
        rc = t.rc.display()
    );
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--pid",
            "--fork",
            "--kill-child=SIGKILL",
            "/bin/sh",
            "-c",
            &script,
        ])
        .env("PATH", &t.path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = s
        .split_whitespace()
        .filter_map(|x| x.parse::<f64>().ok())
        .map(|ns| ns / 1e6)
        .collect();
    if v.len() != 3 {
        panic!(
            "run failed: {}\n{}",
            s,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cpu = fs::read_to_string(&cpu_file).ok().and_then(|c| {
        let v: Vec<f64> = c
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (v.len() == 2).then(|| (v[0] + v[1]) * 1e3)
    });
    (v[0], v[1], v[2], cpu)
}

fn compile(work: &Path, t: &Tool, src: &Path) -> (f64, u64) {
    let out = work.join("comp");
    let _ = fs::remove_dir_all(&out);
    let t0 = Instant::now();
    let st = Command::new(&t.compile)
        .env("PATH", &t.path)
        .arg(&out)
        .arg(src)
        .status()
        .unwrap();
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    assert!(st.success(), "compile failed");
    let db = if out.join("db").exists() {
        out.join("db")
    } else {
        out.clone()
    };
    let size = if db.is_file() {
        fs::metadata(&db).unwrap().len()
    } else {
        dir_size(&out)
    };
    (ms, size)
}

fn dir_size(p: &Path) -> u64 {
    fs::read_dir(p)
        .map(|r| {
            r.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        dir_size(&e.path())
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The work area: on tmpfs when there is one (as /run is on a real
/// system): the disk's metadata costs would otherwise dominate every figure.
fn work_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    tmp.join(format!("bench-rc-{}", std::process::id()))
}

fn main() {
    let work = work_dir();
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).unwrap();
    let sleeper = tiny_elf(false);
    let exiter = work.join("exit0");
    write(&exiter, &tiny_elf(true), true);

    // The machine is shared: every time figure is the best of `runs`.
    let runs: usize = std::env::var("BENCH_RC_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let best_of = |k: usize, f: &mut dyn FnMut() -> f64| (0..k).map(|_| f()).fold(f64::MAX, f64::min);
    let best = |f: &mut dyn FnMut() -> f64| best_of(runs, f);
    // A compilation takes milliseconds: one pause of the machine outweighs
    // it, so it gets five times the samples.
    let compile_runs = 5 * runs;

    // The floor: 1000 fork+exec+wait of the tiny binary.
    let floor = best(&mut || {
        let t0 = Instant::now();
        for _ in 0..1000 {
            Command::new(&exiter).status().unwrap();
        }
        t0.elapsed().as_secs_f64() * 1e3
    });

    let peer = peer::peer();
    let tools: Vec<(&str, Tool)> = std::iter::once(("rinit", rinit_tool()))
        .chain(s6rc_tool(&peer).map(|t| ("s6-rc", t)))
        .collect();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: String, vals: Vec<String>| rows.push((name, vals));
    for n in [100usize, 1000] {
        let src = work.join(format!("src-{n}"));
        source(&src, n, Shape::Chain, &sleeper);
        let mut t = Vec::new();
        let mut s = Vec::new();
        for (_, tool) in &tools {
            let mut size = 0;
            t.push(best_of(compile_runs, &mut || {
                let (ms, sz) = compile(&work, tool, &src);
                size = sz;
                ms
            }));
            s.push(size as f64);
        }
        row(format!("compile {n} services (ms)"), fmt(&t));
        row(format!("database size {n} services (bytes)"), fmt(&s));
    }
    for (shape, label) in [(Shape::FanOut, "fan-out"), (Shape::Chain, "chain")] {
        let src = work.join(format!("src-{label}"));
        source(&src, 1000, shape, &sleeper);
        let (mut i, mut u, mut d, mut cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (_, tool) in &tools {
            if tool.missing.is_some() {
                for v in [&mut i, &mut u, &mut d, &mut cpu] {
                    v.push(f64::NAN);
                }
                continue;
            }
            compile(&work, tool, &src);
            let (mut a, mut b, mut c, mut p) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
            for _ in 0..runs {
                let (x, y, z, w) = run_change(&work, tool);
                (a, b, c) = (a.min(x), b.min(y), c.min(z));
                p = p.min(w.unwrap_or(f64::NAN));
            }
            i.push(a);
            u.push(b);
            d.push(c);
            cpu.push(if p == f64::MAX { f64::NAN } else { p });
        }
        row(format!("init, 1000 longruns {label} (ms)"), fmt(&i));
        row(format!("change -u default, 1000 {label} (ms)"), fmt(&u));
        row(format!("change -d default, 1000 {label} (ms)"), fmt(&d));
        row(
            format!("  CPU of the -u change itself, {label} (ms)"),
            fmt(&cpu),
        );
    }
    row(
        "floor: 1000 fork+exec+wait (ms)".into(),
        vec![format!("{floor:.1}")],
    );

    let mut header = format!("| {:<44} |", "figure");
    for (name, _) in &tools {
        header.push_str(&format!(" {name:>10} |"));
    }
    if tools.len() > 1 {
        header.push_str(" rinit/s6-rc |");
    }
    let mut out = String::new();
    out += &format!("{}\n", peer.header());
    out += &format!("best of {runs} runs each (BENCH_RC_RUNS), of {} for a compilation\n", 5 * runs);
    for (name, t) in &tools {
        out += &format!("{name}: scanner {}\n", peer::shown(Path::new(t.scan.split_whitespace().next().unwrap_or(""))));
        if let Some(s) = &t.stand_in {
            out += &format!("{name}: {s}\n");
        }
        if let Some(why) = &t.missing {
            out += &format!("{name}: init and change not measured: {why}\n");
        }
    }
    out.push('\n');
    out += &format!("{header}\n");
    out += &format!("|{}|\n", "-".repeat(header.len() - 2));
    for (name, vals) in &rows {
        let mut l = format!("| {name:<44} |");
        for v in vals {
            l.push_str(&format!(" {v:>10} |"));
        }
        if tools.len() > 1 && vals.len() == 2 {
            match (vals[0].parse::<f64>(), vals[1].parse::<f64>()) {
                (Ok(a), Ok(b)) if b > 0.0 => l.push_str(&format!(" {:>11.2} |", a / b)),
                _ => l.push_str(&format!(" {:>11} |", "-")),
            }
        }
        out += &format!("{l}\n");
    }
    print!("{out}");
    if std::env::args().any(|a| a == "--readme") {
        readme::rewrite("bench-rc", &format!("```\n{out}```\n"));
    }
    let _ = fs::remove_dir_all(&work);
}

fn fmt(v: &[f64]) -> Vec<String> {
    v.iter().map(|x| if x.is_finite() { format!("{x:.1}") } else { "-".into() }).collect()
}
