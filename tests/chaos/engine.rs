//! Chaos: rinit-scan as pid 1 of fresh namespaces over a tree of services,
//! half of them logged with rinit-log, while services, supervisors and
//! loggers are killed with SIGKILL at random. Each logged service writes
//! `PID SEQ` lines, SEQ counting from 1 in each process, so that the logs
//! tell what was lost (a gap), duplicated (a line twice) or reordered (a
//! smaller SEQ after a larger one) whatever was killed when. At the end the
//! services are told to stop writing (the `stop` file): each writes
//! `PID end SEQ` after its last line, so that the tail of the last run is
//! checked too.
//!
//! Without cgroups a killed supervisor leaves its service running, orphaned
//! (re-parented to pid 1), while the new supervisor starts another: those
//! are counted as orphans, then killed so that the tree can settle.

use rinit_tests::{args, bin, wait_until, Proc, Sandbox};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lines a logged service writes between two looks at the `stop` file.
const BATCH: u32 = 50;

pub struct Config {
    pub services: usize,
    pub kills: u64,
    pub secs: u64,
    pub seed: u64,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Figures {
    pub kills: u64,
    pub killed_services: u64,
    pub killed_supervisors: u64,
    pub killed_loggers: u64,
    pub pid1_alive: bool,
    pub services: usize,
    /// Services (and loggers) running exactly once, under their supervisor.
    pub back: usize,
    /// Seconds from the last kill (and the orphans' end) to every service back.
    pub back_secs: f64,
    pub zombies: usize,
    pub orphans: usize,
    pub lines: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Why the tree did not settle, when it did not.
    pub unsettled: Option<String>,
}

/// A process of the tree, as /proc shows it.
#[derive(Debug, Clone)]
struct P {
    pid: u32,
    ppid: u32,
    comm: String,
    state: char,
    cwd: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Supervisor,
    Logger,
    Service,
}

/// xorshift64*, as the fuzzer's.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// Every process under `root` (host pids), `root` included.
fn tree(root: u32) -> Vec<P> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let comm = stat[stat.find('(').map_or(0, |i| i + 1)..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = rest.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        out.push(P { pid, ppid, comm, state, cwd });
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        todo.extend(children.split_whitespace().filter_map(|s| s.parse::<u32>().ok()));
    }
    out
}

/// The role of `p` in the tree, None for pid 1 and the services' helpers (`sleep`).
fn role(p: &P, pid1: u32, tree: &[P]) -> Option<Role> {
    if p.pid == pid1 || p.state == 'Z' {
        return None;
    }
    if p.comm == "rinit-supervise" {
        return Some(Role::Supervisor);
    }
    let parent = tree.iter().find(|q| q.pid == p.ppid)?;
    if parent.comm != "rinit-supervise" && parent.pid != pid1 {
        return None;
    }
    Some(if p.comm == "rinit-log" { Role::Logger } else { Role::Service })
}

pub struct Chaos {
    pub sb: Sandbox,
    scan: Proc,
    dirs: Vec<PathBuf>,
    logged: Vec<bool>,
}

impl Chaos {
    /// Builds `n` services, every second one logged, and starts the scanner.
    pub fn start(n: usize) -> Chaos {
        let mut sb = Sandbox::new();
        let mut dirs = Vec::new();
        let mut logged = Vec::new();
        for i in 0..n {
            let name = format!("scan/s{i}");
            if i % 2 == 0 {
                sb.service(
                    &name,
                    &format!(
                        "i=0\nwhile [ ! -e ../../stop ]; do\n  j=0\n  while [ $j -lt {BATCH} ]; do i=$((i+1)); j=$((j+1)); echo \"$$ $i\"; done\n  sleep 0.02\ndone\necho \"$$ end $i\"\nexec sleep 100000"
                    ),
                );
                sb.service(&format!("{name}/log"), "exec rinit-log n1000 s100000 ./main");
                dirs.push(sb.path(&format!("{name}/log")));
                logged.push(true);
            } else {
                sb.service(&name, "exec sleep 100000");
            }
            dirs.push(sb.path(&name));
            logged.push(false);
        }
        let scan = sb.spawn_pid1(args![bin("rinit-scan"), "-t0", "scan"]);
        Chaos { sb, scan, dirs, logged }
    }

    fn pid1(&self) -> u32 {
        self.scan.pid()
    }

    /// Per service directory: how many processes run it under a supervisor,
    /// and how many supervisors it has.
    fn census(&self, t: &[P]) -> (Vec<usize>, Vec<usize>) {
        let pid1 = self.pid1();
        let mut running = vec![0; self.dirs.len()];
        let mut supervisors = vec![0; self.dirs.len()];
        for p in t {
            let Some(i) = self.dirs.iter().position(|d| *d == p.cwd) else { continue };
            match role(p, pid1, t) {
                Some(Role::Supervisor) => supervisors[i] += 1,
                Some(_) if t.iter().any(|q| q.pid == p.ppid && q.comm == "rinit-supervise") => running[i] += 1,
                _ => {}
            }
        }
        (running, supervisors)
    }

    /// Services and loggers whose parent is pid 1: their supervisor was killed.
    fn orphans(&self, t: &[P]) -> Vec<u32> {
        let pid1 = self.pid1();
        t.iter()
            .filter(|p| p.ppid == pid1 && p.comm != "rinit-supervise" && p.state != 'Z' && self.dirs.contains(&p.cwd))
            .map(|p| p.pid)
            .collect()
    }

    fn all_back(&self) -> bool {
        let t = tree(self.pid1());
        let (running, supervisors) = self.census(&t);
        running.iter().all(|&n| n == 1) && supervisors.iter().all(|&n| n == 1)
    }

    /// Kills `cfg.kills` processes at random, evenly over `cfg.secs`.
    pub fn run(mut self, cfg: &Config) -> Figures {
        let mut f = Figures { services: self.dirs.len(), ..Figures::default() };
        let mut rng = Rng(cfg.seed.max(1));
        let pid1 = self.pid1();
        wait_until("every service up", Duration::from_secs(10), || self.all_back());
        let start = Instant::now();
        let every = Duration::from_secs(cfg.secs).as_secs_f64() / cfg.kills.max(1) as f64;
        let mut orphans = HashSet::new();
        while f.kills < cfg.kills {
            let due = start + Duration::from_secs_f64(every * f.kills as f64);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
            let t = tree(pid1);
            orphans.extend(self.orphans(&t));
            let victims: Vec<(u32, Role)> = t.iter().filter_map(|p| role(p, pid1, &t).map(|r| (p.pid, r))).collect();
            if victims.is_empty() {
                continue;
            }
            let (pid, r) = victims[rng.below(victims.len())];
            if kill(pid) {
                f.kills += 1;
                match r {
                    Role::Supervisor => f.killed_supervisors += 1,
                    Role::Logger => f.killed_loggers += 1,
                    Role::Service => f.killed_services += 1,
                }
            }
        }
        // The orphans keep running (no cgroup to find them by); once
        // counted they are ended so that their loggers' locks are freed.
        std::thread::sleep(Duration::from_millis(200));
        let t = tree(pid1);
        orphans.extend(self.orphans(&t));
        f.orphans = orphans.len();
        for p in self.orphans(&t) {
            kill(p);
        }
        let settle = Instant::now();
        let end = settle + Duration::from_secs(20);
        while !self.all_back() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        f.back_secs = settle.elapsed().as_secs_f64();
        let t = tree(pid1);
        let (running, supervisors) = self.census(&t);
        f.back = running.iter().zip(&supervisors).filter(|&(&r, &s)| r == 1 && s == 1).count();
        if f.back != f.services {
            f.unsettled = Some(format!("running {running:?}, supervisors {supervisors:?}, tree {t:?}"));
        }
        f.pid1_alive = self.scan.is_running() && rinit_tests::alive(pid1 as u64);
        self.finish_logs(&mut f);
        // A zombie reaped a moment later is not a leak: count what stays.
        std::thread::sleep(Duration::from_millis(300));
        f.zombies = tree(pid1).iter().filter(|p| p.state == 'Z').count();
        f
    }

    /// Stops the writers, waits for each service's `end` line, then counts.
    fn finish_logs(&self, f: &mut Figures) {
        fs::write(self.sb.path("stop"), "").expect("the stop file");
        let logs: Vec<&PathBuf> = self.dirs.iter().zip(&self.logged).filter(|(_, l)| **l).map(|(d, _)| d).collect();
        let pid1 = self.pid1();
        let end = Instant::now() + Duration::from_secs(20);
        for dir in &logs {
            let svc = dir.parent().expect("a service above its logger");
            loop {
                let t = tree(pid1);
                // The lines carry the writer's pid as the namespace sees it.
                let writers: Vec<u32> =
                    t.iter().filter(|p| p.cwd == svc && role(p, pid1, &t) == Some(Role::Service)).map(|p| ns_pid(p.pid)).collect();
                let text = lines(&dir.join("main"));
                if writers.iter().all(|w| text.iter().any(|l| l.starts_with(&format!("{w} end ")))) {
                    break;
                }
                if Instant::now() > end {
                    eprintln!("chaos: no end line from {writers:?} in {}", dir.display());
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for dir in &logs {
            let (n, lost, dup, ooo) = count(&lines(&dir.join("main")));
            f.lines += n;
            f.lost += lost;
            f.duplicated += dup;
            f.out_of_order += ooo;
        }
    }
}

/// The innermost pid of host pid `pid` (the last of `NSpid:`).
fn ns_pid(pid: u32) -> u32 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("NSpid:")).and_then(|l| l.split_whitespace().last()?.parse().ok()).unwrap_or(0)
}

fn kill(pid: u32) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else { return false };
    rustix::process::kill_process(p, rustix::process::Signal::KILL).is_ok()
}

/// Every line of a log directory: archives (`@...s`/`@...u`) by name, then `current`.
fn lines(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.starts_with('@'));
    names.sort();
    names.push("current".into());
    let mut out = Vec::new();
    for n in names {
        let text = fs::read_to_string(dir.join(n)).unwrap_or_default();
        out.extend(text.lines().map(str::to_string));
    }
    out
}

/// (lines, lost, duplicated, out of order) of `PID SEQ` lines: per writer,
/// SEQ must run 1, 2, ... up to its `end` line (or its last line when it
/// was killed).
pub fn count(text: &[String]) -> (u64, u64, u64, u64) {
    let mut seen: HashMap<&str, (HashSet<u64>, u64, Option<u64>)> = HashMap::new();
    let (mut n, mut dup, mut ooo) = (0, 0, 0);
    for l in text {
        let mut w = l.split(' ');
        let (Some(pid), Some(x)) = (w.next(), w.next()) else { continue };
        let e = seen.entry(pid).or_default();
        if x == "end" {
            e.2 = w.next().and_then(|s| s.parse().ok());
            continue;
        }
        let Ok(seq) = x.parse::<u64>() else { continue };
        n += 1;
        if !e.0.insert(seq) {
            dup += 1;
        } else if seq < e.1 {
            ooo += 1;
        }
        e.1 = e.1.max(seq);
    }
    let lost = seen.values().map(|(s, max, end)| end.unwrap_or(*max).max(*max) - s.len() as u64).sum();
    (n, lost, dup, ooo)
}

impl Figures {
    /// The figures, one a line, in a fenced block.
    pub fn text(&self) -> String {
        let mut t = String::from("```\n");
        t += &format!("{} kills ({} services, {} supervisors, {} loggers)\n", self.kills, self.killed_services, self.killed_supervisors, self.killed_loggers);
        t += &format!("pid 1 alive          {}\n", if self.pid1_alive { "yes" } else { "NO" });
        t += &format!("services back        {} of {} services and loggers (each running exactly once), in {:.2} s\n", self.back, self.services, self.back_secs);
        t += &format!("zombies              {}\n", self.zombies);
        t += &format!("log lines            {}\n", self.lines);
        t += &format!("lines lost           {}\n", self.lost);
        t += &format!("lines duplicated     {}\n", self.duplicated);
        t += &format!("lines out of order   {}\n", self.out_of_order);
        t += &format!("orphans              {} (services left running by a killed supervisor; ended)\n", self.orphans);
        if let Some(u) = &self.unsettled {
            t += &format!("unsettled: {u}\n");
        }
        t + "```\n"
    }
}
