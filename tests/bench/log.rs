//! bench-log: rinit-log and s6-log (from the peer directory: see peer.rs)
//! on the same input, in one run.
//!
//!     cargo build --release -p rinit-log && cargo run --release -p rinit-tests --bin bench-log
//!
//! The input (generated here, ~10% of lines hold `ERROR`) is fed through a
//! pipe in 64 KiB writes by a thread of this process; each logger writes a
//! log directory on /dev/shm (tmpfs: the disk's speed is not measured),
//! with `s16000000` so both rotate at the same points. Figures per run:
//! wall time from spawn to exit (end of input), throughput in MB of input
//! per second and lines per second, CPU seconds (user + system, from this
//! process's cutime/cstime in /proc/self/stat) per MB of input, and the
//! logger's peak RSS (VmHWM, read just before its input ends). Each figure
//! is the median of `--runs R` runs (default 3).
//!
//! Options: `--mb N` input size (default 100), `--runs R`, `--s6 PATH`
//! (s6-log itself, overriding the peer's), `--readme` (rewrites the
//! README's bench-log block).

mod peer;
mod readme;

use rinit_tests::bin_dir;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Figures {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
}

fn input(mb: usize) -> (Vec<u8>, usize) {
    let mut v = Vec::with_capacity(mb << 20);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut lines = 0;
    while v.len() < mb << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let level = if x % 10 == 0 { "ERROR" } else { "INFO" };
        let pad = "x".repeat((x >> 8) as usize % 60);
        let line = format!("svc[{}]: {level} request {} handled in {} ms {pad}\n", x % 9000 + 1000, x >> 40, x % 997);
        v.extend_from_slice(line.as_bytes());
        lines += 1;
    }
    (v, lines)
}

/// Children's user + system time so far, in seconds.
fn children_cpu() -> f64 {
    let s = fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    // After the command name: field 3 is index 0; cutime is field 16, cstime 17.
    let ticks: f64 = f[13].parse::<f64>().unwrap() + f[14].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok();
    out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
}

fn hwm_kib(pid: u32) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn run_once(prog: &Path, script: &[&str], data: &[u8], dir: &Path) -> Figures {
    let _ = fs::remove_dir_all(dir);
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let mut c = Command::new(prog)
        .args(script)
        .current_dir(dir.parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn logger");
    let pid = c.id();
    let mut w = c.stdin.take().unwrap();
    let mut rss = 0;
    for (i, chunk) in data.chunks(64 * 1024).enumerate() {
        w.write_all(chunk).expect("feed logger");
        if i % 64 == 0 {
            rss = rss.max(hwm_kib(pid).unwrap_or(0));
        }
    }
    rss = rss.max(hwm_kib(pid).unwrap_or(0));
    drop(w);
    let st = c.wait().unwrap();
    let wall = t0.elapsed().as_secs_f64();
    assert!(st.success(), "{} failed: {st}", prog.display());
    Figures { wall, cpu: children_cpu() - cpu0, rss_kib: rss }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mb: usize = opt("--mb").map_or(100, |v| v.parse().unwrap());
    let runs: usize = opt("--runs").map_or(3, |v| v.parse().unwrap());
    let peer = peer::peer();
    let s6 = opt("--s6").map(PathBuf::from).unwrap_or_else(|| peer.bin("s6-log"));
    let rinit = bin_dir().join("rinit-log");
    assert!(rinit.exists(), "{} is not built: cargo build --release -p rinit-log", rinit.display());
    assert!(s6.exists(), "{} is missing (apt-get install s6)", s6.display());

    let (data, lines) = input(mb);
    let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let work = base.join(format!("bench-log-{}", std::process::id()));
    fs::create_dir_all(&work).unwrap();
    let dir = work.join("d");
    let d = "./d";
    let scenarios: [(&str, Vec<&str>); 3] = [
        ("plain", vec!["--", "n10", "s16000000", d]),
        ("t (TAI64N)", vec!["--", "n10", "s16000000", "t", d]),
        ("-.* +ERROR", vec!["--", "n10", "s16000000", "-.*", "+ERROR", d]),
    ];
    let size_mb = data.len() as f64 / 1e6;
    let mut out = format!("{}\n", peer.header());
    out += &format!("input: {:.1} MB, {} lines, {runs} runs each (medians); log dir on {}\n", size_mb, lines, base.display());
    out.push('\n');
    out.push_str("| scenario | logger | MB/s | lines/s | CPU s/MB | max RSS KiB |\n");
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    let mut ratios = Vec::new();
    for (name, script) in &scenarios {
        let mut res = Vec::new();
        for (label, prog) in [("rinit-log", &rinit), ("s6-log", &s6)] {
            let mut walls = Vec::new();
            let mut cpus = Vec::new();
            let mut rss = Vec::new();
            for _ in 0..runs {
                let f = run_once(prog, script, &data, &dir);
                walls.push(f.wall);
                cpus.push(f.cpu);
                rss.push(f.rss_kib as f64);
            }
            let (wall, cpu, rss) = (median(walls), median(cpus), median(rss));
            out += &format!("| {name} | {label} | {:.1} | {:.0} | {:.4} | {:.0} |\n",
                size_mb / wall,
                lines as f64 / wall,
                cpu / size_mb,
                rss
            );
            res.push((wall, cpu, rss));
        }
        ratios.push((name, res[1].0 / res[0].0, res[0].1 / res[1].1.max(1e-9), res[0].2 / res[1].2));
    }
    out.push('\n');
    out.push_str("| scenario | throughput rinit/s6 | CPU rinit/s6 | RSS rinit/s6 |\n");
    out.push_str("|---|---:|---:|---:|\n");
    for (name, thr, cpu, rss) in ratios {
        out += &format!("| {name} | {thr:.2}x | {cpu:.2}x | {rss:.2}x |\n");
    }
    print!("{out}");
    if args.iter().any(|a| a == "--readme") {
        readme::rewrite("bench-log", &out);
    }
    let _ = fs::remove_dir_all(&work);
}
