//! bench-supervise: rinit's supervision tree (rinit-scan + rinit-supervise)
//! and s6's (s6-svscan + s6-supervise, from the peer directory: see peer.rs)
//! measured side by side in one run, with the cost of one fork+exec+wait as
//! the floor.
//!
//!     cargo build --release && cargo run --release -p rinit-tests --bin bench-supervise
//!
//! Each scanner runs as pid 1 of fresh user, pid and mount namespaces
//! (`unshare`), so killing it ends everything it started. Every service's
//! `run` is a tiny static binary that pauses forever, built here with gcc.
//! Both implementations write s6's status file, so one reader serves both:
//! "up" means every `supervise/status` holds a non-zero pid.
//!
//! Options: `--runs R` (medians over R runs, default 3), `--sizes 10,100,1000`,
//! `--trials K` (latency samples, default 9), `--only rinit|s6`, `--cost N`
//! (supervisors for the whole-cost figure, default 200; 0 skips it),
//! `--readme` (rewrites the README's bench-supervise block), `-v` (every sample).

mod peer;
mod readme;

use rinit_tests::{bin_dir, children, median, status};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service program: pauses forever; `tiny -x` exits 0 at once (the floor).
const TINY_C: &str = r#"
__asm__(".globl _start\n_start:\n"
        " cmpq $2,(%rsp)\n jne 2f\n"
        " mov 16(%rsp),%rsi\n cmpw $0x782d,(%rsi)\n jne 2f\n cmpb $0,2(%rsi)\n jne 2f\n"
        " mov $60,%eax\n xor %edi,%edi\n syscall\n"
        "2: mov $34,%eax\n syscall\n jmp 2b\n");
"#;

/// The floor: N serial fork+execve+waitpid of `tiny -x` from a small C
/// process (a supervisor is small too; fork's cost grows with the parent).
/// With a third argument `vfork`, the spawns are clone(CLONE_VM|CLONE_VFORK)
/// (posix_spawn's way: no page tables copied, no copy-on-write faults after).
const FLOOR_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
    if (argc < 3) return 100;
    int n = atoi(argv[1]), v = argc > 3 && !strcmp(argv[3], "vfork");
    char *args[] = { argv[2], "-x", 0 }, *env[] = { 0 };
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        int st;
        pid_t p = v ? vfork() : fork();
        if (p < 0) return 111;
        if (p == 0) { execve(argv[2], args, env); _exit(127); }
        if (waitpid(p, &st, 0) != p || st != 0) return 111;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    return 0;
}
"#;

const FLOOR_SPAWNS: u32 = 2000;
/// How long a service must have been up before it is killed for the restart figure.
const READY_FOR: Duration = Duration::from_millis(1100);
/// Give up waiting for services after this long.
const DEADLINE: Duration = Duration::from_secs(60);

struct Options {
    runs: usize,
    sizes: Vec<usize>,
    trials: usize,
    only: Option<String>,
    /// Supervisors (services down) for the whole-cost figure; 0: not measured.
    cost_n: usize,
    readme: bool,
    /// Print every sample to stderr.
    verbose: bool,
}

/// One supervision tree implementation under test.
struct Impl {
    name: &'static str,
    scanner: PathBuf,
    supervisor: PathBuf,
    /// Scanner options before the scan dir: no periodic rescan, room for every service.
    opts: Vec<String>,
    /// None when its binaries are absent: the column says "missing".
    present: bool,
}

/// Figures of one implementation; None = not measured.
#[derive(Default)]
struct Figures {
    start_empty: Vec<f64>,
    up: Vec<Vec<f64>>,
    sup_rss: Option<f64>,
    sup_pss: Option<f64>,
    /// Mean VmPTE per supervisor (its page tables, the top level apart).
    sup_pte: Option<f64>,
    scan_rss: Option<f64>,
    scan_pss: Option<f64>,
    restart: Vec<f64>,
    down: Vec<f64>,
    up_again: Vec<f64>,
    /// Per supervisor, KiB, one sample per run: growth of the kernel's
    /// KernelStack, PageTables, unreclaimable slab, and the supervisors' own Pss.
    cost: [Vec<f64>; 4],
    failures: Vec<String>,
}

fn main() {
    let o = parse_args();
    // On a tmpfs, as a scan directory is at boot (/run): a disk's journal
    // would time itself rather than the supervisors.
    let base = ["/dev/shm", "/run/shm"].iter().map(PathBuf::from).find(|d| is_tmpfs(d)).unwrap_or_else(std::env::temp_dir);
    let work = base.join(format!("rinit-bench-supervise-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).expect("create work dir");
    let tiny = cc(&work, "tiny", TINY_C, &["-nostdlib", "-Os"]);
    let floor_bin = cc(&work, "floor", FLOOR_C, &["-O2"]);

    let rinit_dir = bin_dir();
    let peer = peer::peer();
    let cap = peer.scan_capacity_flag();
    let impls = [
        Impl {
            name: "rinit",
            scanner: rinit_dir.join("rinit-scan"),
            supervisor: rinit_dir.join("rinit-supervise"),
            opts: vec!["-t0".into(), "-C".into(), "4096".into()],
            present: false,
        },
        Impl {
            name: "s6",
            scanner: peer.bin("s6-svscan"),
            supervisor: peer.bin("s6-supervise"),
            opts: vec!["-t0".into(), cap.into(), "4096".into()],
            present: false,
        },
    ];
    let impls: Vec<Impl> = impls
        .into_iter()
        .map(|mut i| {
            let wanted = o.only.as_deref().is_none_or(|w| w == i.name);
            i.present = wanted && i.scanner.is_file() && i.supervisor.is_file();
            if wanted && !i.present {
                eprintln!("bench: {}: {} or {} is missing", i.name, i.scanner.display(), i.supervisor.display());
            }
            i
        })
        .collect();
    let mut figs: Vec<Figures> = impls.iter().map(|_| Figures { up: vec![Vec::new(); o.sizes.len()], ..Default::default() }).collect();

    let mut floor = Vec::new();
    let mut floor_vfork = Vec::new();
    let lat_size = o.sizes.iter().copied().find(|&n| n >= 2 * o.trials).unwrap_or(2 * o.trials);
    let max_size = o.sizes.iter().copied().max().unwrap_or(0);

    // Warm the page cache and the dynamic loader's files once per implementation.
    for i in impls.iter().filter(|i| i.present) {
        if let Ok(t) = Tree::start(i, &work, &tiny, 10) {
            t.stop();
        }
    }
    for run in 0..o.runs {
        eprintln!("bench: run {}/{}", run + 1, o.runs);
        floor.push(measure_floor(&floor_bin, &tiny, false));
        floor_vfork.push(measure_floor(&floor_bin, &tiny, true));
        for (k, &n) in o.sizes.iter().enumerate() {
            // Interleaved, so that a busy moment of the machine hurts both.
            for (i, f) in impls.iter().zip(figs.iter_mut()) {
                if !i.present {
                    continue;
                }
                if k == 0 {
                    match Tree::start(i, &work, &tiny, 0) {
                        Ok(t) => {
                            f.start_empty.push(t.up_secs);
                            t.stop();
                        }
                        Err(e) => f.failures.push(e),
                    }
                }
                let t = match Tree::start(i, &work, &tiny, n) {
                    Ok(t) => t,
                    Err(e) => {
                        f.failures.push(e);
                        continue;
                    }
                };
                f.up[k].push(t.up_secs);
                if run == 0 && n == max_size {
                    t.memory(f);
                }
                if run == 0 && n == lat_size {
                    t.latencies(f, o.trials);
                }
                t.stop();
            }
        }
        if o.cost_n > 0 {
            for (i, f) in impls.iter().zip(figs.iter_mut()).filter(|(i, _)| i.present) {
                match whole_cost(i, &work, &tiny, o.cost_n) {
                    Ok(c) => c.iter().zip(f.cost.iter_mut()).for_each(|(x, v)| v.push(*x)),
                    Err(e) => f.failures.push(format!("whole cost: {e}")),
                }
            }
        }
        if !o.sizes.contains(&lat_size) && run == 0 {
            for (i, f) in impls.iter().zip(figs.iter_mut()).filter(|(i, _)| i.present) {
                match Tree::start(i, &work, &tiny, lat_size) {
                    Ok(t) => {
                        t.latencies(f, o.trials);
                        t.stop();
                    }
                    Err(e) => f.failures.push(e),
                }
            }
        }
    }
    floor.push(measure_floor(&floor_bin, &tiny, false));
    floor_vfork.push(measure_floor(&floor_bin, &tiny, true));

    let table = report(&o, &peer, &impls, &figs, (&floor, &floor_vfork), &tiny, max_size, lat_size);
    print!("{table}");
    if o.readme {
        readme::rewrite("bench-supervise", &format!("```\n{table}```\n"));
    }
    let _ = fs::remove_dir_all(&work);
    if o.verbose {
        for (i, f) in impls.iter().zip(&figs) {
            let ms = |v: &[f64]| v.iter().map(|x| format!("{:.3}", x * 1e3)).collect::<Vec<_>>().join(" ");
            eprintln!("bench: {}: up ms by size: {:?}", i.name, f.up.iter().map(|v| ms(v)).collect::<Vec<_>>());
            eprintln!("bench: {}: restart ms: {}", i.name, ms(&f.restart));
            eprintln!("bench: {}: down ms: {}", i.name, ms(&f.down));
            eprintln!("bench: {}: up again ms: {}", i.name, ms(&f.up_again));
        }
        eprintln!("bench: floor µs: {:?}", floor.iter().map(|x| (x * 1e6) as u64).collect::<Vec<_>>());
    }
    let failed = figs.iter().any(|f| !f.failures.is_empty());
    for (i, f) in impls.iter().zip(&figs) {
        for e in &f.failures {
            eprintln!("bench: {}: {e}", i.name);
        }
    }
    std::process::exit(if failed { 1 } else { 0 });
}

fn parse_args() -> Options {
    let mut o = Options { runs: 3, sizes: vec![10, 100, 1000], trials: 9, only: None, cost_n: 200, readme: false, verbose: false };
    let mut a = std::env::args().skip(1);
    let bad = |m: &str| -> ! {
        eprintln!("bench-supervise: {m}\nusage: bench-supervise [--runs R] [--sizes 10,100,1000] [--trials K] [--only rinit|s6] [--cost N] [--readme] [-v]");
        std::process::exit(100)
    };
    while let Some(x) = a.next() {
        let mut val = || a.next().unwrap_or_else(|| bad("missing value"));
        match x.as_str() {
            "--runs" => o.runs = val().parse().unwrap_or_else(|_| bad("bad --runs")),
            "--trials" => o.trials = val().parse().unwrap_or_else(|_| bad("bad --trials")),
            "--sizes" => {
                o.sizes = val().split(',').map(|s| s.parse().unwrap_or_else(|_| bad("bad --sizes"))).collect()
            }
            "--only" => o.only = Some(val()),
            "--cost" => o.cost_n = val().parse().unwrap_or_else(|_| bad("bad --cost")),
            "--readme" => o.readme = true,
            "-v" | "--verbose" => o.verbose = true,
            _ => bad("unknown argument"),
        }
    }
    if o.runs == 0 || o.trials == 0 || o.sizes.is_empty() {
        bad("runs, trials and sizes must not be empty");
    }
    o
}

/// Compiles one C file into a static binary in `dir`.
fn cc(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    let out = dir.join(name);
    fs::write(&c, src).expect("write C source");
    let st = Command::new("gcc")
        .args(["-static", "-Wl,--build-id=none", "-s", "-o"])
        .arg(&out)
        .arg(&c)
        .args(flags)
        .status()
        .expect("gcc (apt-get install gcc libc6-dev: scripts/deps does it)");
    assert!(st.success(), "gcc failed on {name}.c");
    out
}

/// Seconds per fork+exec+wait (or vfork+exec+wait), over FLOOR_SPAWNS serial spawns.
fn measure_floor(floor_bin: &Path, tiny: &Path, vfork: bool) -> f64 {
    let mode = if vfork { "vfork" } else { "fork" };
    let out = Command::new(floor_bin).arg(FLOOR_SPAWNS.to_string()).arg(tiny).arg(mode).output().expect("run floor");
    let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(f64::NAN);
    assert!(out.status.success() && ns.is_finite(), "the floor measurement failed: {:?}", out.status);
    ns / 1e9 / FLOOR_SPAWNS as f64
}

/// A scanner running as pid 1 of its own namespaces over `n` services.
struct Tree {
    wrapper: Child,
    scanner: u32,
    dir: PathBuf,
    services: Vec<PathBuf>,
    /// Seconds from spawning the namespace to every service up (n = 0: to the
    /// scanner's control FIFO accepting a writer).
    up_secs: f64,
    started: Instant,
}

impl Tree {
    fn start(i: &Impl, work: &Path, tiny: &Path, n: usize) -> Result<Tree, String> {
        let dir = work.join(format!("{}-{}", i.name, n));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut services = Vec::with_capacity(n);
        for k in 0..n {
            let s = dir.join(format!("s{k:04}"));
            fs::create_dir(&s).map_err(|e| e.to_string())?;
            symlink(tiny, s.join("run")).map_err(|e| e.to_string())?;
            services.push(s);
        }
        let log = fs::File::create(work.join(format!("{}-{}.log", i.name, n))).map_err(|e| e.to_string())?;
        let path = format!("{}:/usr/bin:/bin", i.scanner.parent().map(|p| p.display().to_string()).unwrap_or_default());
        let started = Instant::now();
        let wrapper = Command::new("unshare")
            .args(["--user", "--map-root-user", "--pid", "--fork", "--mount", "--kill-child=SIGKILL", "--"])
            .arg(&i.scanner)
            .args(&i.opts)
            .arg(&dir)
            .env_clear()
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("unable to spawn unshare: {e}"))?;
        let mut t = Tree { wrapper, scanner: 0, dir, services, up_secs: f64::NAN, started };
        let end = started + DEADLINE;
        if n == 0 {
            let control = t.dir.join(".s6-svscan/control");
            while fs::OpenOptions::new().write(true).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32).open(&control).is_err() {
                t.check(end)?;
                std::thread::sleep(Duration::from_micros(50));
            }
        } else {
            // One status file at a time, in order: a service found up is
            // never read again, and the poller stays off the CPU the trees
            // need (a full pass over 1000 files every millisecond would not).
            let mut k = 0;
            while k < n {
                if status(&t.services[k]).is_some_and(|s| s.pid != 0) {
                    k += 1;
                    continue;
                }
                t.check(end).map_err(|e| format!("{e} ({} of {n} services not up)", n - k))?;
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        t.up_secs = t.started.elapsed().as_secs_f64();
        t.scanner = children(t.wrapper.id()).first().copied().ok_or("the scanner vanished")?;
        Ok(t)
    }

    /// Fails when the scanner died or the deadline passed.
    fn check(&mut self, end: Instant) -> Result<(), String> {
        if let Ok(Some(st)) = self.wrapper.try_wait() {
            let log = fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default();
            return Err(format!("the scanner exited ({st}): {}", log.trim()));
        }
        if Instant::now() > end {
            return Err(format!("not up after {DEADLINE:?}"));
        }
        Ok(())
    }

    /// Mean Rss and Pss per supervisor, and the scanner's, in KiB.
    fn memory(&self, f: &mut Figures) {
        // Let the last supervisors finish their start-up writes.
        std::thread::sleep(Duration::from_millis(200));
        let sups = children(self.scanner);
        let mut rss = 0.0;
        let mut pss = 0.0;
        let (mut k, mut pte, mut kp) = (0.0, 0.0, 0.0);
        for p in &sups {
            if let Some((r, s)) = rss_pss(*p) {
                rss += r;
                pss += s;
                k += 1.0;
            }
            if let Some(t) = vm_pte(*p) {
                pte += t;
                kp += 1.0;
            }
        }
        if k > 0.0 {
            f.sup_rss = Some(rss / k);
            f.sup_pss = Some(pss / k);
        }
        if kp > 0.0 {
            f.sup_pte = Some(pte / kp);
        }
        if let Some((r, s)) = rss_pss(self.scanner) {
            f.scan_rss = Some(r);
            f.scan_pss = Some(s);
        }
    }

    /// Restart after kill, and svc -d / -u round trips, through the status file.
    fn latencies(&self, f: &mut Figures, trials: usize) {
        let wait = READY_FOR.saturating_sub(self.started.elapsed() - Duration::from_secs_f64(self.up_secs));
        std::thread::sleep(wait);
        let runs = self.run_processes();
        for svc in self.services.iter().take(trials) {
            match restart(svc, &runs) {
                Ok(s) => f.restart.push(s),
                Err(e) => f.failures.push(format!("restart of {}: {e}", svc.display())),
            }
        }
        for svc in self.services.iter().skip(trials).take(trials) {
            match round_trip(svc) {
                Ok((d, u)) => {
                    f.down.push(d);
                    f.up_again.push(u);
                }
                Err(e) => f.failures.push(format!("svc round trip of {}: {e}", svc.display())),
            }
        }
    }

    /// Host pid of every service's `run`, by its working directory (the service dir).
    fn run_processes(&self) -> Vec<(PathBuf, u32)> {
        let mut v = Vec::new();
        for sup in children(self.scanner) {
            for run in children(sup) {
                if let Ok(cwd) = fs::read_link(format!("/proc/{run}/cwd")) {
                    v.push((cwd, run));
                }
            }
        }
        v
    }

    /// Kills the namespace (its pid 1 dies, the kernel kills the rest) and
    /// waits until the scanner is gone, so the next measurement starts clean.
    fn stop(mut self) {
        let _ = self.wrapper.kill();
        let _ = self.wrapper.wait();
        let end = Instant::now() + Duration::from_secs(30);
        while self.scanner != 0 && rinit_tests::alive(self.scanner as u64) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The whole cost of a supervised service, per supervisor: a scanner starts
/// over an empty scan directory, then `n` services marked `down` are added
/// and a rescan asked for; what the kernel's KernelStack, PageTables and
/// unreclaimable slab grew by meanwhile, divided by `n`, and the mean Pss of
/// the supervisors. /proc/meminfo is the whole machine's: whatever else runs
/// moves it too, hence medians over runs.
fn whole_cost(i: &Impl, work: &Path, tiny: &Path, n: usize) -> Result<[f64; 4], String> {
    let mut t = Tree::start(i, work, tiny, 0)?;
    let before = settled_kernel_kib()?;
    for k in 0..n {
        let s = t.dir.join(format!("d{k:04}"));
        fs::create_dir(&s).map_err(|e| e.to_string())?;
        symlink(tiny, s.join("run")).map_err(|e| e.to_string())?;
        fs::write(s.join("down"), "").map_err(|e| e.to_string())?;
        t.services.push(s);
    }
    let mut ctl = fs::OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(t.dir.join(".s6-svscan/control"))
        .map_err(|e| format!("unable to open .s6-svscan/control: {e}"))?;
    ctl.write_all(b"a").map_err(|e| e.to_string())?;
    let end = Instant::now() + DEADLINE;
    let mut k = 0;
    while k < n {
        // A supervisor has set up when its status file is there.
        if status(&t.services[k]).is_some() {
            k += 1;
            continue;
        }
        t.check(end).map_err(|e| format!("{e} ({} of {n} supervisors not started)", n - k))?;
        std::thread::sleep(Duration::from_micros(500));
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = kernel_kib()?;
    let sups = children(t.scanner);
    let pss: Vec<f64> = sups.iter().filter_map(|&p| rss_pss(p).map(|m| m.1)).collect();
    t.stop();
    if sups.len() != n || pss.len() != n {
        return Err(format!("{} supervisors found, {} measured, {n} expected", sups.len(), pss.len()));
    }
    let per = |k: usize| (after[k] - before[k]) / n as f64;
    // Slab freed elsewhere meanwhile can outweigh what the supervisors
    // took: a shrink is another process's noise, not a saving of theirs.
    Ok([per(0), per(1), per(2).max(0.0), pss.iter().sum::<f64>() / n as f64])
}

/// `kernel_kib` once the slab has settled: the processes and files of a
/// tree torn down just before are freed after a grace period (RCU), and
/// their objects going meanwhile would cancel the new supervisors' own.
/// Settled: three reads 100 ms apart within 64 KiB (a supervisor takes
/// about 20), or 5 s.
fn settled_kernel_kib() -> Result<[f64; 3], String> {
    let end = Instant::now() + Duration::from_secs(5);
    let mut last = kernel_kib()?;
    let mut calm = 0;
    while calm < 3 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
        let now = kernel_kib()?;
        calm = if (now[2] - last[2]).abs() < 64.0 { calm + 1 } else { 0 };
        last = now;
    }
    Ok(last)
}

/// KernelStack and PageTables from /proc/meminfo, and the unreclaimable
/// slab (`slab_in_use_kib`, or meminfo's SUnreclaim where /sys/kernel/slab
/// cannot be read), in KiB.
fn kernel_kib() -> Result<[f64; 3], String> {
    let m = fs::read_to_string("/proc/meminfo").map_err(|e| format!("unable to read /proc/meminfo: {e}"))?;
    let field = |name: &str| -> Result<f64, String> {
        m.lines()
            .find(|l| l.split(':').next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .ok_or(format!("/proc/meminfo has no {name}"))
    };
    let slab = match slab_in_use_kib() {
        Some(k) => k,
        None => field("SUnreclaim")?,
    };
    Ok([field("KernelStack")?, field("PageTables")?, slab])
}

/// The unreclaimable slab objects in use, in KiB: for each cache of
/// /sys/kernel/slab (the merged ones once, not through their aliases)
/// without `reclaim_account`, `objects` × `slab_size`. Objects, not pages:
/// SUnreclaim counts slab pages, and a tree torn down just before leaves
/// free objects in pages the next tree fills without a page more, which
/// made a supervisor's task, files and signal structures look free.
/// None when the directory cannot be read (it is root's).
fn slab_in_use_kib() -> Option<f64> {
    let num = |p: &Path| -> Option<f64> { fs::read_to_string(p).ok()?.split_whitespace().next()?.parse().ok() };
    let mut bytes = 0.0;
    let mut caches = 0;
    for e in fs::read_dir("/sys/kernel/slab").ok()?.flatten() {
        if !e.file_type().ok()?.is_dir() {
            continue; // an alias of a merged cache
        }
        let d = e.path();
        if num(&d.join("reclaim_account")) != Some(0.0) {
            continue;
        }
        bytes += num(&d.join("objects"))? * num(&d.join("slab_size"))?;
        caches += 1;
    }
    (caches > 0).then_some(bytes / 1024.0)
}

/// Kills the `run` of `svc` (up for more than a second) and times until the
/// status file names a new pid.
fn restart(svc: &Path, runs: &[(PathBuf, u32)]) -> Result<f64, String> {
    let old = status(svc).ok_or("no status")?.pid;
    let canon = fs::canonicalize(svc).map_err(|e| e.to_string())?;
    let host = runs.iter().find(|(cwd, _)| *cwd == canon).map(|r| r.1).ok_or("its run process was not found")?;
    if ns_pid(host) != Some(old) {
        return Err(format!("host pid {host} is not the status file's pid {old}"));
    }
    let pid = rustix::process::Pid::from_raw(host as i32).ok_or("bad pid")?;
    let t0 = Instant::now();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).map_err(|e| e.to_string())?;
    poll(svc, t0, |p| p != 0 && p != old)
}

/// Writes `d` then `u` to the supervisor's control FIFO; times each until the
/// status file says down (pid 0) and up again (a new pid).
fn round_trip(svc: &Path) -> Result<(f64, f64), String> {
    let mut ctl = fs::OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(svc.join("supervise/control"))
        .map_err(|e| format!("unable to open supervise/control: {e}"))?;
    let t0 = Instant::now();
    ctl.write_all(b"d").map_err(|e| e.to_string())?;
    let d = poll(svc, t0, |p| p == 0)?;
    let t1 = Instant::now();
    ctl.write_all(b"u").map_err(|e| e.to_string())?;
    let u = poll(svc, t1, |p| p != 0)?;
    Ok((d, u))
}

/// Reads the status file in a tight loop until `done(pid)`; seconds since `t0`.
fn poll(svc: &Path, t0: Instant, done: impl Fn(u64) -> bool) -> Result<f64, String> {
    let end = t0 + Duration::from_secs(5);
    loop {
        if let Some(s) = status(svc)
            && done(s.pid)
        {
            return Ok(t0.elapsed().as_secs_f64());
        }
        if Instant::now() > end {
            return Err("no change in supervise/status after 5 s".into());
        }
        std::thread::yield_now();
    }
}

/// The pid a host process has inside its innermost pid namespace.
fn ns_pid(host: u32) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{host}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// (Rss, Pss) in KiB from /proc/PID/smaps_rollup.
fn rss_pss(pid: u32) -> Option<(f64, f64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<f64> {
        s.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("Rss:")?, field("Pss:")?))
}

/// VmPTE in KiB from /proc/PID/status.
fn vm_pte(pid: u32) -> Option<f64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmPTE:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Is `dir` a writable tmpfs mount point?
fn is_tmpfs(dir: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let listed = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[2] == "tmpfs" && Path::new(f[1]) == dir && f[3].split(',').any(|o| o == "rw")
    });
    listed && !mounts.lines().any(|l| l.split_whitespace().nth(1) == dir.to_str() && l.contains("noexec"))
}

fn secs(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(s) if s >= 1.0 => format!("{s:.3} s"),
        Some(s) if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        Some(s) => format!("{:.0} µs", s * 1e6),
    }
}

fn kib(v: Option<f64>) -> String {
    v.map(|k| format!("{k:.0} KiB")).unwrap_or_else(|| "-".into())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

fn v2s(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

fn file_size(p: &Path) -> Option<f64> {
    fs::metadata(p).ok().map(|m| m.len() as f64)
}

#[allow(clippy::too_many_arguments)]
fn report(o: &Options, peer: &peer::Peer, impls: &[Impl], figs: &[Figures], (floor, floor_vfork): (&[f64], &[f64]), tiny: &Path, max_n: usize, lat_n: usize) -> String {
    let fl = median(floor);
    let col = |i: usize, v: &dyn Fn(&Figures) -> String| -> String {
        if impls[i].present { v(&figs[i]) } else { "missing".into() }
    };
    let both = |v: &dyn Fn(&Figures) -> Option<f64>| -> (Option<f64>, Option<f64>) {
        let a = if impls[0].present { v(&figs[0]) } else { None };
        let b = if impls[1].present { v(&figs[1]) } else { None };
        (a, b)
    };
    let mut rows: Vec<[String; 5]> = Vec::new();
    // A target is about rinit's figure (and s6's, for relative targets).
    type Goal<'a> = Option<(&'a str, &'a dyn Fn(f64, Option<f64>) -> bool)>;
    let mut row = |what: String, show: &dyn Fn(Option<f64>) -> String, v: &dyn Fn(&Figures) -> Option<f64>, goal: Goal| {
        let (a, b) = both(v);
        let target = match (goal, a) {
            (Some((text, met)), Some(a)) => format!("{text}: {}", if met(a, b) { "met" } else { "NOT met" }),
            (Some((text, _)), None) => text.to_string(),
            (None, _) => String::new(),
        };
        rows.push([what, col(0, &|_| show(a)), col(1, &|_| show(b)), ratio(a, b), target]);
    };
    let ratio_of = |x: f64| v2s(x, 2);
    let below_s6 = |a: f64, b: Option<f64>| b.is_some_and(|b| a <= 0.7 * b);

    row("scanner start, empty scandir".into(), &secs, &|f| median(&f.start_empty), None);
    for (k, &n) in o.sizes.iter().enumerate() {
        let big = n == max_n;
        row(format!("{n} longruns up"), &secs, &|f| median(&f.up[k]), big.then_some(("≤ 0.7× s6", &below_s6 as _)));
        let per_floor = |f: &Figures| Some(median(&f.up[k])? / (fl? * 2.0 * n as f64));
        let show = |v: Option<f64>| v.map(ratio_of).unwrap_or("-".into());
        row(format!("  ÷ floor × {} spawns", 2 * n), &show, &per_floor, big.then_some(("≤ 1.25", &|a: f64, _| a <= 1.25)));
    }
    row(format!("RSS per supervisor ({max_n} up)"), &kib, &|f| f.sup_rss, Some(("≤ 32 KiB", &|a, _| a <= 32.0)));
    row(format!("Pss per supervisor ({max_n} up)"), &kib, &|f| f.sup_pss, Some(("≤ 8 KiB", &|a, _| a <= 8.0)));
    row(format!("VmPTE per supervisor ({max_n} up)"), &kib, &|f| f.sup_pte, Some(("≤ 12 KiB", &|a, _| a <= 12.0)));
    row(format!("scanner RSS ({max_n} up)"), &kib, &|f| f.scan_rss, Some(("≤ 64 KiB", &|a, _| a <= 64.0)));
    row(format!("scanner Pss ({max_n} up)"), &kib, &|f| f.scan_pss, None);
    if o.cost_n > 0 {
        let n = o.cost_n;
        let one = |k: usize| move |f: &Figures| median(&f.cost[k]);
        let kib1 = |v: Option<f64>| v.map(|k| format!("{k:.1} KiB")).unwrap_or_else(|| "-".into());
        row(format!("kernel stack per supervisor ({n} down)"), &kib1, &one(0), None);
        row(format!("page tables per supervisor ({n} down)"), &kib1, &one(1), None);
        row(format!("unreclaimable slab per supervisor ({n} down)"), &kib1, &one(2), None);
        row(format!("Pss per supervisor ({n} down)"), &kib1, &one(3), None);
        let total = |f: &Figures| Some(median(&f.cost[0])? + median(&f.cost[1])? + median(&f.cost[2])? + median(&f.cost[3])?);
        row(format!("whole cost per supervisor ({n} down)"), &kib1, &total, Some(("≤ 36 KiB", &|a, _| a <= 36.0)));
    }
    row("restart: kill → new pid (up > 1 s)".into(), &secs, &|f| median(&f.restart), Some(("≤ 0.5 ms", &|a, _| a <= 0.5e-3)));
    row("svc -d → down (pid 0)".into(), &secs, &|f| median(&f.down), None);
    row("svc -u → up (new pid)".into(), &secs, &|f| median(&f.up_again), None);
    let bytes = |v: Option<f64>| v.map(|b| format!("{b:.0} B")).unwrap_or("-".into());
    let (sa, sb) = (file_size(&impls[0].scanner), file_size(&impls[1].scanner));
    rows.push(["scanner binary".into(), col(0, &|_| bytes(sa)), col(1, &|_| bytes(sb)), ratio(sa, sb), String::new()]);
    let (pa, pb) = (file_size(&impls[0].supervisor), file_size(&impls[1].supervisor));
    rows.push(["supervisor binary".into(), col(0, &|_| bytes(pa)), col(1, &|_| bytes(pb)), ratio(pa, pb), String::new()]);

    let mut out = format!(
        "{}\n\
         supervision: rinit (rinit-scan + rinit-supervise) vs {} (s6-svscan + s6-supervise), measured in the same run\n\
         scan dirs on {}; `run` = a {} B static binary that pauses; up times: median of {} runs from spawning the namespace; latencies: median of {} on the {lat_n}-service tree\n\
         floor: fork+exec+wait of that binary from a small static C process: {} each (median of {} rounds of {FLOOR_SPAWNS}); with clone(CLONE_VM|CLONE_VFORK) instead of fork: {} each ({} of fork's)\n{}\n",
        peer.header(),
        peer.s6_version(),
        tiny.parent().and_then(Path::parent).map(|p| p.display().to_string()).unwrap_or_default(),
        file_size(tiny).unwrap_or(0.0),
        o.runs,
        o.trials,
        secs(fl),
        floor.len(),
        secs(median(floor_vfork)),
        ratio(median(floor_vfork), fl),
        if o.cost_n > 0 {
            format!(
                "whole cost: {} services marked down added to a running scanner by a rescan; growth of /proc/meminfo's KernelStack, PageTables and {} ÷ {}, plus the supervisors' mean Pss; median of {} runs (the whole machine's figures: other load moves them; a shrink of the slab counts as 0)\n",
                o.cost_n,
                if slab_in_use_kib().is_some() { "the unreclaimable slab objects in use (/sys/kernel/slab)" } else { "SUnreclaim (slab pages: /sys/kernel/slab is not readable)" },
                o.cost_n,
                o.runs
            )
        } else {
            String::new()
        },
    );
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w4 = rows.iter().map(|r| r[4].chars().count()).max().unwrap_or(0).max(12);
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    out += &format!("| {} | {:>10} | {:>10} | {:>8} | {} |\n", pad("measure", w0), "rinit", "s6", "rinit/s6", pad("rinit target", w4));
    out += &format!("|{}|{}|{}|{}|{}|\n", "-".repeat(w0 + 2), "-".repeat(12), "-".repeat(12), "-".repeat(10), "-".repeat(w4 + 2));
    for r in &rows {
        out += &format!("| {} | {:>10} | {:>10} | {:>8} | {} |\n", pad(&r[0], w0), r[1], r[2], r[3], pad(&r[4], w4));
    }
    out
}
