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
//!
//! Meanwhile rinit-rc changes the state of a database of its own installed
//! under the same scanner (longruns and oneshots with dependencies, `RC`):
//! `-u` and `-d` changes of random selections, one after the other, some of
//! them killed at a random moment. The longruns' services are among the
//! victims, their supervisors are not: a supervisor started again by the
//! scanner starts its service down (rinit-rc-init's `down` file, as
//! s6-rc's), which no rinit-rc run is told of. Afterwards the live state
//! must be consistent: a last `-u change default` succeeds, `list` counts
//! every service up and `diff` finds no longrun that disagrees.

use rinit_tests::{args, bin, wait_until, Proc, Sandbox};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
    pub rc: RcFigures,
}

/// What the rinit-rc changes under way came to.
#[derive(Debug, Default)]
pub struct RcFigures {
    /// Changes run, and how they ended.
    pub changes: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub killed: u64,
    /// The last `-u change default` exited 0.
    pub final_ok: bool,
    /// Atomic services in `default`, those `list` counts up after it, and
    /// those of them that are up (longruns: their supervisors agree).
    pub services: usize,
    pub counted_up: usize,
    pub up: usize,
    /// What disagreed, when something did.
    pub inconsistent: Option<String>,
}

/// The rinit-rc database of the chaos: `(name, type, dependencies)`; every
/// longrun sleeps, every oneshot runs `true` up and down. `default` holds
/// them all; `left` and `right` pull in two overlapping parts.
const RC: &[(&str, &str, &[&str])] = &[
    ("r0", "longrun", &[]),
    ("r1", "longrun", &["r0"]),
    ("r2", "longrun", &[]),
    ("o0", "oneshot", &[]),
    ("o1", "oneshot", &["o0", "r0"]),
    ("o2", "oneshot", &["r1"]),
    ("r3", "longrun", &["r2", "o2"]),
    ("o3", "oneshot", &["o1", "r3"]),
];
/// The selections a change picks from.
const RC_SELECTIONS: &[&str] = &["default", "left", "right", "r0", "o0", "r2", "o3"];
/// Out of this many changes, one is killed at a random moment of its first `RC_KILL_MS`.
const RC_KILL_ONE_IN: usize = 3;
const RC_KILL_MS: usize = 60;

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
    /// The rinit-rc longruns' service directories, whose supervisors are spared.
    rc_dirs: Vec<PathBuf>,
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
        let rc_dirs = install_rc(&sb);
        Chaos { sb, scan, dirs, logged, rc_dirs }
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
        let stop_rc = Arc::new(AtomicBool::new(false));
        let changes = {
            let (live, stop, seed) = (self.sb.path("live"), stop_rc.clone(), cfg.seed);
            std::thread::spawn(move || rc_changes(&live, &stop, seed))
        };
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
            let victims: Vec<(u32, Role)> = t
                .iter()
                .filter_map(|p| role(p, pid1, &t).map(|r| (p.pid, r, &p.cwd)))
                .filter(|&(_, r, cwd)| r != Role::Supervisor || !self.rc_dirs.contains(cwd))
                .map(|(pid, r, _)| (pid, r))
                .collect();
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
        stop_rc.store(true, Ordering::Relaxed);
        f.rc = changes.join().unwrap_or_default();
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
        self.check_rc(&mut f.rc);
        f.pid1_alive = self.scan.is_running() && rinit_tests::alive(pid1 as u64);
        self.finish_logs(&mut f);
        // A zombie reaped a moment later is not a leak: count what stays.
        std::thread::sleep(Duration::from_millis(300));
        f.zombies = tree(pid1).iter().filter(|p| p.state == 'Z').count();
        f
    }

    /// The last `-u change default`, then `list` and `diff` must agree that
    /// every service is up (a longrun whose service was just killed is back
    /// within its supervisor's throttle).
    fn check_rc(&self, rc: &mut RcFigures) {
        let live = self.sb.path("live");
        let out = rinit_rc(&live, &["-t", "20000", "-u", "change", "default"]).output().expect("run rinit-rc");
        rc.final_ok = out.status.success();
        rc.services = RC.len();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let list = rinit_rc(&live, &["list"]).output().expect("run rinit-rc list");
            let listed = String::from_utf8_lossy(&list.stdout).into_owned();
            rc.counted_up = RC.iter().filter(|(n, ..)| listed.lines().any(|l| l == *n)).count();
            let diff = rinit_rc(&live, &["diff"]).output().expect("run rinit-rc diff");
            let disagree: Vec<String> = String::from_utf8_lossy(&diff.stdout).lines().map(str::to_string).collect();
            rc.up = rc.counted_up - disagree.iter().filter(|l| l.starts_with('-')).count().min(rc.counted_up);
            if rc.final_ok && diff.status.success() && rc.counted_up == rc.services {
                rc.inconsistent = None;
                return;
            }
            rc.inconsistent = Some(format!("{said}list {listed:?}, diff {disagree:?}"));
            if Instant::now() > end {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

/// Writes the rinit-rc source of `RC`, compiles it and installs it under
/// the scanner (once its control FIFO is there) into `live`, then brings
/// `default` up. Returns the longruns' service directories.
fn install_rc(sb: &Sandbox) -> Vec<PathBuf> {
    for (name, kind, deps) in RC {
        sb.write(&format!("rcsrc/{name}/type"), &format!("{kind}\n"));
        if *kind == "longrun" {
            sb.script(&format!("rcsrc/{name}/run"), "exec sleep 100000");
        } else {
            sb.write(&format!("rcsrc/{name}/up"), "true\n");
            sb.write(&format!("rcsrc/{name}/down"), "true\n");
        }
        sb.write(&format!("rcsrc/{name}/dependencies"), &deps.iter().map(|d| format!("{d}\n")).collect::<String>());
    }
    let bundles: [(&str, Vec<&str>); 3] =
        [("default", RC.iter().map(|(n, ..)| *n).collect()), ("left", vec!["o1", "r1"]), ("right", vec!["o3"])];
    for (name, contents) in bundles {
        sb.write(&format!("rcsrc/{name}/type"), "bundle\n");
        sb.write(&format!("rcsrc/{name}/contents"), &contents.iter().map(|d| format!("{d}\n")).collect::<String>());
    }
    wait_until("the scanner's control FIFO", Duration::from_secs(10), || sb.path("scan/.s6-svscan/control").exists());
    for cmd in [args![bin("rinit-rc-compile"), "rccomp", "rcsrc"], args![bin("rinit-rc-init"), "-c", "rccomp", "-l", "live", "scan"]] {
        let out = sb.run(cmd);
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = rinit_rc(&sb.path("live"), &["-u", "change", "default"]).output().expect("run rinit-rc");
    assert!(out.status.success(), "rinit-rc -u change default: {}", String::from_utf8_lossy(&out.stderr));
    RC.iter().filter(|(_, kind, _)| *kind == "longrun").map(|(n, ..)| sb.path(&format!("scan/{n}"))).collect()
}

/// `rinit-rc -l LIVE ARGS...`, quiet, its output captured.
fn rinit_rc(live: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin("rinit-rc"));
    c.arg("-l").arg(live).args(args).env("PATH", rinit_tests::test_path()).stdin(Stdio::null());
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// `-u` and `-d` changes of random selections, one after the other, until
/// `stop`; one in RC_KILL_ONE_IN is killed at a random moment.
fn rc_changes(live: &Path, stop: &AtomicBool, seed: u64) -> RcFigures {
    let mut f = RcFigures::default();
    let mut rng = Rng(seed.max(1) ^ 0x9e37_79b9_7f4a_7c15);
    while !stop.load(Ordering::Relaxed) {
        let dir = if rng.below(2) == 0 { "-u" } else { "-d" };
        let sel = RC_SELECTIONS[rng.below(RC_SELECTIONS.len())];
        let Ok(mut child) = rinit_rc(live, &["-v0", "-t", "10000", dir, "change", sel]).stdout(Stdio::null()).stderr(Stdio::null()).spawn()
        else {
            continue;
        };
        f.changes += 1;
        if rng.below(RC_KILL_ONE_IN) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(RC_KILL_MS) as u64));
            // It may have ended already: then it counts by how it ended.
            let _ = child.kill();
        }
        match child.wait().map(|s| s.code()) {
            Ok(Some(0)) => f.succeeded += 1,
            Ok(Some(_)) => f.failed += 1,
            _ => f.killed += 1,
        }
    }
    f
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
        let rc = &self.rc;
        t += &format!(
            "rinit-rc changes     {} under way ({} succeeded, {} failed, {} killed)\n",
            rc.changes, rc.succeeded, rc.failed, rc.killed
        );
        t += &format!(
            "rinit-rc afterwards  -u change default {}, {} of {} services counted up, {} of them up\n",
            if rc.final_ok { "succeeded" } else { "FAILED" },
            rc.counted_up,
            rc.services,
            rc.up
        );
        if let Some(u) = &self.unsettled {
            t += &format!("unsettled: {u}\n");
        }
        if let Some(u) = &rc.inconsistent {
            t += &format!("rinit-rc inconsistent: {u}\n");
        }
        t + "```\n"
    }
}
