//! bench-cgroup-chaos: random SIGKILLs on a supervision tree's
//! supervisors, services and loggers, then a count of what runs. A killed
//! supervisor leaves its service running and its successor starts another
//! copy, unless the successor can find and end the old one: rinit with a
//! cgroup per service does, rinit without cgroups and Debian's s6 do not.
//!
//!     cargo build --release && cargo run --release -p rinit-tests --bin bench-cgroup-chaos
//!
//! Each scanner runs as pid 1 of fresh user, pid and mount namespaces over
//! a scan directory of N services, each with a logger. A service's `run`
//! is `sleep` with an argument of its own, a logger's `cat` with one: so
//! copies are counted from /proc, in the scanner's pid namespace. K kills
//! are spread over S seconds, each on a process drawn at random among the
//! supervisors, services and loggers; then the tree gets up to 15 s to
//! settle (every service and logger running, nothing changing for 2 s).
//! "Orphans" are the copies beyond the first of a service or logger.
//!
//! Options: `--services N` (50), `--kills K` (1000), `--seconds S` (60),
//! `--only rinit|rinit-nocg|s6`, `--readme` (write the figures into README.md
//! between its bench-cgroup-chaos markers).

use rinit_tests::bin_dir;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Options {
    services: usize,
    kills: usize,
    seconds: u64,
    only: Option<String>,
    readme: bool,
}

struct Impl {
    name: &'static str,
    scanner: PathBuf,
    supervisor: &'static str,
    /// PATH for the scanner (its supervisor first).
    path: String,
    cgroups: bool,
}

#[derive(Default)]
struct Figures {
    kills: usize,
    kills_by_kind: [usize; 3],
    services_once: usize,
    services_missing: usize,
    loggers_once: usize,
    orphans: usize,
    supervisors: usize,
    settle_ms: u128,
}

fn main() {
    let o = parse_args();
    let bins = bin_dir();
    let own = format!("{}:/usr/bin:/bin", bins.display());
    let mut impls = vec![
        Impl { name: "rinit", scanner: bins.join("rinit-scan"), supervisor: "rinit-supervise", path: own.clone(), cgroups: true },
        Impl { name: "rinit-nocg", scanner: bins.join("rinit-scan"), supervisor: "rinit-supervise", path: own, cgroups: false },
    ];
    if Path::new("/usr/bin/s6-svscan").exists() {
        impls.push(Impl {
            name: "s6",
            scanner: "/usr/bin/s6-svscan".into(),
            supervisor: "s6-supervise",
            path: "/usr/bin:/bin".into(),
            cgroups: false,
        });
    } else {
        eprintln!("bench-cgroup-chaos: no /usr/bin/s6-svscan (apt-get install s6): s6 left out");
    }
    impls.retain(|i| o.only.as_deref().is_none_or(|n| n == i.name));
    let mut rows = vec![];
    for i in &impls {
        eprintln!("bench-cgroup-chaos: {}: {} kills over {} s on {} services...", i.name, o.kills, o.seconds, o.services);
        match run(i, &o) {
            Ok(f) => rows.push((i, f)),
            Err(e) => eprintln!("bench-cgroup-chaos: {}: {e}", i.name),
        }
    }
    let text = report(&o, &rows);
    print!("{text}");
    if o.readme {
        write_readme(&text);
    }
}

fn parse_args() -> Options {
    let mut o = Options { services: 50, kills: 1000, seconds: 60, only: None, readme: false };
    let mut a = std::env::args().skip(1);
    while let Some(w) = a.next() {
        let mut num = || a.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| usage());
        match w.as_str() {
            "--services" => o.services = num() as usize,
            "--kills" => o.kills = num() as usize,
            "--seconds" => o.seconds = num(),
            "--only" => o.only = Some(a.next().unwrap_or_else(|| usage())),
            "--readme" => o.readme = true,
            _ => usage(),
        }
    }
    o
}

fn usage() -> ! {
    eprintln!("usage: bench-cgroup-chaos [--services N] [--kills K] [--seconds S] [--only rinit|rinit-nocg|s6] [--readme]");
    std::process::exit(100)
}

fn script(p: &Path, body: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The private cgroup under the host's cgroup2 mount.
fn make_cgroup(tag: &str) -> Result<PathBuf, String> {
    let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let mnt = info
        .lines()
        .find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            (post.split(' ').next() == Some("cgroup2")).then(|| pre.split(' ').nth(4).unwrap_or("").to_owned())
        })
        .ok_or("no cgroup2 mount")?;
    let p = PathBuf::from(mnt).join(format!("rinit-chaos-{}-{tag}", std::process::id()));
    fs::create_dir(&p).map_err(|e| format!("mkdir {}: {e}", p.display()))?;
    Ok(p)
}

fn remove_cgroup(p: &Path) {
    let _ = fs::write(p.join("cgroup.kill"), "1");
    for e in fs::read_dir(p).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup(&e.path());
        }
    }
    let end = Instant::now() + Duration::from_secs(5);
    while fs::remove_dir(p).is_err() && p.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn service_arg(i: usize) -> String {
    format!("100000.{:04}", i + 1)
}

fn logger_arg(i: usize) -> String {
    format!("/dev/null/logger-{i}")
}

/// What runs in the tree, from /proc: supervisors, and the copies of each
/// service's and logger's program.
#[derive(Default)]
struct Census {
    supervisors: Vec<u32>,
    services: HashMap<usize, Vec<u32>>,
    loggers: HashMap<usize, Vec<u32>>,
}

fn census(ns: &str, supervisor: &str, n: usize) -> Census {
    let by_service: HashMap<String, usize> = (0..n).map(|i| (service_arg(i), i)).collect();
    let by_logger: HashMap<String, usize> = (0..n).map(|i| (logger_arg(i), i)).collect();
    let mut c = Census::default();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if fs::read_link(format!("/proc/{pid}/ns/pid")).map(|l| l.to_string_lossy().into_owned()).ok().as_deref() != Some(ns) {
            continue;
        }
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z') {
            continue;
        }
        let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv: Vec<String> = cmd.split(|&c| c == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let prog = argv.first().map(|a| a.rsplit('/').next().unwrap_or("").to_owned()).unwrap_or_default();
        if prog == supervisor {
            c.supervisors.push(pid);
        } else if prog == "sleep" {
            if let Some(&i) = argv.get(1).and_then(|a| by_service.get(a)) {
                c.services.entry(i).or_default().push(pid);
            }
        } else if prog == "cat" {
            if let Some(&i) = argv.get(2).and_then(|a| by_logger.get(a)) {
                c.loggers.entry(i).or_default().push(pid);
            }
        }
    }
    c
}

/// xorshift64*: enough randomness to pick victims, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

fn kill9(pid: u32) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
}

fn run(i: &Impl, o: &Options) -> Result<Figures, String> {
    let work = std::env::temp_dir().join(format!("rinit-chaos-{}-{}", std::process::id(), i.name));
    let _ = fs::remove_dir_all(&work);
    let scan = work.join("scan");
    for s in 0..o.services {
        let d = scan.join(format!("svc-{s:02}"));
        script(&d.join("run"), &format!("exec sleep {}", service_arg(s)));
        script(&d.join("log/run"), &format!("exec cat - {}", logger_arg(s)));
    }
    let cg = if i.cgroups { Some(make_cgroup(i.name)?) } else { None };
    if let Some(cg) = &cg {
        fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
        fs::write(scan.join(".s6-svscan/cgroup"), format!("{}\n", cg.display())).unwrap();
    }
    let r = chaos(i, o, &scan);
    if let Some(cg) = &cg {
        remove_cgroup(cg);
    }
    let _ = fs::remove_dir_all(&work);
    r
}

fn chaos(i: &Impl, o: &Options, scan: &Path) -> Result<Figures, String> {
    let mut child: Child = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "--"])
        .arg("/usr/bin/env")
        .arg(format!("PATH={}", i.path))
        .arg(&i.scanner)
        .arg(scan)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let r = chaos_in(i, o, child.id());
    let _ = child.kill();
    let _ = child.wait();
    r
}

fn chaos_in(i: &Impl, o: &Options, wrapper: u32) -> Result<Figures, String> {
    let n = o.services;
    // The scanner: the wrapper's child; its pid namespace is the tree's.
    let end = Instant::now() + Duration::from_secs(10);
    let ns = loop {
        let kids = fs::read_to_string(format!("/proc/{wrapper}/task/{wrapper}/children")).unwrap_or_default();
        if let Some(p) = kids.split_whitespace().next() {
            if let Ok(l) = fs::read_link(format!("/proc/{p}/ns/pid")) {
                break l.to_string_lossy().into_owned();
            }
        }
        if Instant::now() > end {
            return Err("the scanner did not start".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    settle(&ns, i.supervisor, n, Duration::from_secs(30)).ok_or("the tree did not come up")?;

    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1;
    let mut rng = Rng(seed);
    let mut f = Figures::default();
    let t0 = Instant::now();
    let step = Duration::from_secs(o.seconds) / o.kills.max(1) as u32;
    for k in 0..o.kills {
        let at = t0 + step * k as u32;
        if let Some(d) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let c = census(&ns, i.supervisor, n);
        let groups: [Vec<u32>; 3] = [
            c.supervisors,
            c.services.into_values().flatten().collect(),
            c.loggers.into_values().flatten().collect(),
        ];
        let total: usize = groups.iter().map(Vec::len).sum();
        if total == 0 {
            continue;
        }
        let mut pick = rng.next(total);
        for (kind, g) in groups.iter().enumerate() {
            if pick < g.len() {
                kill9(g[pick]);
                f.kills += 1;
                f.kills_by_kind[kind] += 1;
                break;
            }
            pick -= g.len();
        }
    }
    let t1 = Instant::now();
    let c = settle(&ns, i.supervisor, n, Duration::from_secs(15)).unwrap_or_else(|| census(&ns, i.supervisor, n));
    f.settle_ms = t1.elapsed().as_millis();
    f.supervisors = c.supervisors.len();
    for s in 0..n {
        let copies = c.services.get(&s).map_or(0, Vec::len);
        let logs = c.loggers.get(&s).map_or(0, Vec::len);
        f.services_once += (copies == 1) as usize;
        f.services_missing += (copies == 0) as usize;
        f.loggers_once += (logs == 1) as usize;
        f.orphans += copies.saturating_sub(1) + logs.saturating_sub(1);
    }
    Ok(f)
}

/// Waits until every service and logger runs and the census has not
/// changed for 2 s; None at the deadline.
fn settle(ns: &str, supervisor: &str, n: usize, limit: Duration) -> Option<Census> {
    let end = Instant::now() + limit;
    let mut last: Option<(usize, usize, usize)> = None;
    let mut since = Instant::now();
    loop {
        let c = census(ns, supervisor, n);
        let shape = (
            c.supervisors.len(),
            c.services.values().map(Vec::len).sum::<usize>(),
            c.loggers.values().map(Vec::len).sum::<usize>(),
        );
        let full = c.services.len() == n && c.loggers.len() == n && c.supervisors.len() == 2 * n;
        if last != Some(shape) {
            last = Some(shape);
            since = Instant::now();
        } else if full && since.elapsed() >= Duration::from_secs(2) {
            return Some(c);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn report(o: &Options, rows: &[(&Impl, Figures)]) -> String {
    let mut s = String::new();
    s += &format!(
        "cgroup chaos: {} SIGKILLs over {} s on random supervisors, services and loggers of {} services with a logger each\n\n",
        o.kills, o.seconds, o.services
    );
    s += "| tree                                  | kills (sup/svc/log) | services running once | loggers running once | orphans | supervisors |\n";
    s += "|---------------------------------------|---------------------|-----------------------|----------------------|---------|-------------|\n";
    for (i, f) in rows {
        let what = match i.name {
            "rinit" => "rinit, a cgroup per service",
            "rinit-nocg" => "rinit without cgroups",
            _ => "Debian's s6 (s6-svscan, s6-supervise)",
        };
        let kills = format!("{} ({}/{}/{})", f.kills, f.kills_by_kind[0], f.kills_by_kind[1], f.kills_by_kind[2]);
        let once = format!("{} of {}", f.services_once, o.services);
        let logs = format!("{} of {}", f.loggers_once, o.services);
        let sups = format!("{} of {}", f.supervisors, 2 * o.services);
        s += &format!("| {what:<37} | {kills:>19} | {once:>21} | {logs:>20} | {:>7} | {sups:>11} |\n", f.orphans);
    }
    s
}

fn write_readme(text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let Ok(readme) = fs::read_to_string(&path) else { return };
    let (b, e) = ("<!-- bench-cgroup-chaos begin -->\n", "<!-- bench-cgroup-chaos end -->");
    let (Some(i), Some(j)) = (readme.find(b), readme.find(e)) else {
        return eprintln!("bench-cgroup-chaos: README.md has no bench-cgroup-chaos markers");
    };
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let date = Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%d at %H:%M UTC"]).output();
    let date = date.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
    let new = format!("{}{b}As measured on {date}:\n\n```\n{text}```\n{}", &readme[..i], &readme[j..]);
    let _ = fs::write(&path, new);
}
