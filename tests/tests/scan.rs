//! rinit-scan, the s6-svscan role: supervisors per service directory, log
//! pairing through a pipe the scanner holds, rescans, the control FIFO and
//! signals, reaping as pid 1, and its ends (finish, crash).
//!
//! The supervisor is rinit-supervise when it is built; until then, Debian's
//! s6-supervise under that name (same on-disk formats, same letters).

use rinit_tests::*;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A scan directory in a sandbox, and the PATH its scanner runs with.
struct Tree {
    sb: Sandbox,
    scan: PathBuf,
    path: String,
}

impl Tree {
    /// None when neither rinit-supervise nor s6-supervise is available.
    fn new() -> Option<Tree> {
        let sb = Sandbox::new();
        let scan = sb.mkdir("scan");
        let mut path = test_path();
        if !bin_dir().join("rinit-supervise").exists() {
            let s6 = require("s6-supervise")?;
            let d = sb.mkdir("supervisor-bin");
            std::os::unix::fs::symlink(s6, d.join("rinit-supervise")).expect("symlink");
            path = format!("{}:{path}", d.display());
        }
        Some(Tree { sb, scan, path })
    }

    /// `<scan>/<rel>`, a service directory whose `run` is the shell `body`.
    fn service(&self, rel: &str, body: &str) -> PathBuf {
        self.sb.service(&format!("scan/{rel}"), body)
    }

    fn svc(&self, rel: &str) -> PathBuf {
        self.scan.join(rel)
    }

    /// rinit-scan as pid 1 of fresh namespaces, with `opts` before the scan dir.
    fn start(&mut self, opts: &[&str]) -> Proc {
        let mut a: Vec<OsString> = vec!["/usr/bin/env".into(), format!("PATH={}", self.path).into(), bin("rinit-scan").into()];
        a.extend(opts.iter().map(OsString::from));
        a.push(self.scan.clone().into());
        let refs: Vec<&OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        let p = self.sb.spawn_pid1(&refs);
        let ctl = self.scan.join(".s6-svscan/control");
        wait_until("the control FIFO", SOON, || send(&ctl, "").is_ok());
        p
    }

    /// Writes command letters to the scanner's control FIFO.
    fn command(&self, letters: &str) {
        send(&self.scan.join(".s6-svscan/control"), letters).expect("write .s6-svscan/control");
    }
}

fn send(fifo: &Path, letters: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).custom_flags(0o4000 /* O_NONBLOCK */).open(fifo)?;
    f.write_all(letters.as_bytes())
}

/// Writes letters to a supervisor's control FIFO.
fn svc_command(svc: &Path, letters: &str) {
    send(&svc.join("supervise/control"), letters).expect("write supervise/control");
}

fn up_pid(svc: &Path) -> Option<u64> {
    status(svc).map(|s| s.pid).filter(|&p| p != 0)
}

fn wait_up(svc: &Path) -> u64 {
    wait_until(&format!("{} to be up", svc.display()), SOON, || up_pid(svc).is_some());
    up_pid(svc).unwrap_or(0)
}

fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn comm(pid: u64) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// The process state letter (R, S, Z...) of a host pid.
fn state(pid: u32) -> char {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit(')').next().unwrap_or("").trim_start().chars().next().unwrap_or('?')
}

/// The host pid of the process that is `nspid` inside the scanner's pid
/// namespace (status files hold namespace pids), searched among its descendants.
fn host_pid(scanner: u32, nspid: u64) -> Option<u32> {
    let mut todo = vec![scanner];
    while let Some(p) = todo.pop() {
        let st = fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let inner = st.lines().find(|l| l.starts_with("NSpid:")).and_then(|l| l.split_whitespace().last());
        if inner.and_then(|s| s.parse::<u64>().ok()) == Some(nspid) {
            return Some(p);
        }
        todo.extend(children(p));
    }
    None
}

/// The host pid of the service's `run`, once it is up.
fn wait_up_host(scanner: u32, svc: &Path) -> u32 {
    let mut found = None;
    wait_until(&format!("{} to be up", svc.display()), SOON, || {
        found = up_pid(svc).and_then(|p| host_pid(scanner, p));
        found.is_some()
    });
    found.unwrap_or(0)
}

fn supervisors(scanner: u32) -> usize {
    children(scanner).into_iter().filter(|&c| comm(c as u64) == "rinit-supervise").count()
}

#[test]
fn starts_one_supervisor_per_service() {
    let Some(mut t) = Tree::new() else { return };
    t.service("a", "exec sleep 100");
    t.service("b", "exec sleep 100");
    t.service("b/log", "exec cat >/dev/null");
    t.sb.service("elsewhere/c", "exec sleep 100");
    std::os::unix::fs::symlink("../elsewhere/c", t.svc("c")).unwrap();
    t.sb.write("scan/not-a-dir", "");
    let p = t.start(&[]);
    for s in ["a", "b", "b/log", "c"] {
        wait_up(&t.svc(s));
    }
    assert_eq!(supervisors(p.pid()), 4, "{}", p.output());
}

#[test]
fn notifies_readiness_on_the_d_fd() {
    let Some(t) = Tree::new() else { return };
    let mut sb = t.sb;
    let note = sb.path("ready");
    let cmd = format!("PATH={} exec {} -d 3 {} 3>{}", t.path, bin("rinit-scan").display(), t.scan.display(), note.display());
    let _p = sb.spawn_pid1(args!["/bin/sh", "-c", cmd]);
    wait_until("the readiness newline", SOON, || fs::read(&note).unwrap_or_default() == b"\n");
}

#[test]
fn skips_dot_names() {
    let Some(mut t) = Tree::new() else { return };
    t.service(".hidden", "exec sleep 100");
    t.service("visible", "exec sleep 100");
    let p = t.start(&[]);
    wait_up(&t.svc("visible"));
    // A later service proves a full rescan went by.
    t.service("later", "exec sleep 100");
    t.command("a");
    wait_up(&t.svc("later"));
    assert!(!t.svc(".hidden/supervise").exists());
    assert_eq!(supervisors(p.pid()), 2);
}

#[test]
fn rescan_adds_a_new_service() {
    let Some(mut t) = Tree::new() else { return };
    t.service("first", "exec sleep 100");
    let _p = t.start(&[]);
    wait_up(&t.svc("first"));
    t.service("second", "exec sleep 100");
    t.command("a");
    wait_up(&t.svc("second"));
}

#[test]
fn rescans_on_the_timer() {
    let Some(mut t) = Tree::new() else { return };
    let _p = t.start(&["-t", "100"]);
    t.service("new", "exec sleep 100");
    wait_up(&t.svc("new"));
}

#[test]
fn rescan_h_stops_a_removed_service() {
    let Some(mut t) = Tree::new() else { return };
    t.service("stays", "exec sleep 100");
    t.service("goes", "exec sleep 100");
    t.service("goes/log", "exec cat > /dev/null");
    let p = t.start(&[]);
    let stays = wait_up_host(p.pid(), &t.svc("stays")) as u64;
    let goes = wait_up_host(p.pid(), &t.svc("goes")) as u64;
    // A dot-name is out of the scan, and the supervisor keeps its directory.
    fs::rename(t.svc("goes"), t.svc(".gone")).unwrap();
    t.command("h");
    wait_until("the removed service to stop", SOON, || !alive(goes));
    // The logger drains the pipe to its end, then its supervisor exits too.
    wait_until("its supervisors to exit", SOON, || supervisors(p.pid()) == 1);
    assert!(alive(stays));
}

/// A new version moved in under a known name while the old one's
/// supervisor still runs in the directory moved aside (what an update
/// killed between its steps leaves): the scanner tells directories apart
/// by identity, as s6-svscan does, so the new one is supervised at once
/// and the old supervisor goes at the next prune.
#[test]
fn a_directory_put_in_place_of_another_gets_its_own_supervisor() {
    let Some(mut t) = Tree::new() else { return };
    t.service("svc", "exec sleep 100");
    let p = t.start(&[]);
    let old = wait_up_host(p.pid(), &t.svc("svc")) as u64;
    t.service(".svc.new", "exec sleep 100");
    fs::rename(t.svc("svc"), t.svc(".svc.old")).unwrap();
    fs::rename(t.svc(".svc.new"), t.svc("svc")).unwrap();
    t.command("a");
    let new = wait_up_host(p.pid(), &t.svc("svc")) as u64;
    assert_ne!(new, old);
    assert!(alive(old), "a rescan alone stops nothing");
    t.command("n");
    wait_until("the old service to stop", SOON, || !alive(old));
    wait_until("its supervisor to exit", SOON, || supervisors(p.pid()) == 1);
    assert!(alive(new));
}

#[test]
fn restarts_a_supervisor_that_dies() {
    let Some(mut t) = Tree::new() else { return };
    t.service("a", "exec sleep 100");
    let p = t.start(&[]);
    wait_up(&t.svc("a"));
    let sup = children(p.pid())[0];
    let _ = std::process::Command::new("kill").arg("-KILL").arg(sup.to_string()).status();
    wait_until("a new supervisor", SOON, || children(p.pid()).iter().any(|&c| c != sup && comm(c as u64) == "rinit-supervise"));
}

/// The service prints numbered lines (`generation line`), then sleeps; the
/// test kills services and loggers at the moments a lost line would show:
/// with the logger down while the service writes, and with the service
/// dead while its lines wait in the pipe. Every line must arrive once, in order.
#[test]
fn log_pairing_keeps_every_line_across_restarts() {
    let Some(mut t) = Tree::new() else { return };
    let out = t.sb.path("log.out");
    let generation = t.sb.path("gen");
    let written = t.sb.path("written");
    t.service(
        "talker",
        &format!(
            "g=$(cat {gen} 2>/dev/null || echo 0); echo $((g+1)) > {gen}\n\
             i=1; while [ $i -le 300 ]; do echo \"$g $i\"; i=$((i+1)); done\n\
             echo $((g+1)) > {written}\nexec sleep 100",
            gen = generation.display(),
            written = written.display()
        ),
    );
    t.service("talker/log", &format!("exec cat >> {}", out.display()));
    let svc = t.svc("talker");
    let log = t.svc("talker/log");
    let _p = t.start(&[]);
    let lines = || fs::read_to_string(&out).unwrap_or_default().lines().count();
    let all_written = |gens: usize| fs::read_to_string(&written).unwrap_or_default().trim() == gens.to_string();
    // Kills the service (or logger) once it is up and waits for its successor.
    let kill = |dir: &Path| {
        let old = wait_up(dir);
        svc_command(dir, "k");
        wait_until("a restart", SOON, || up_pid(dir).is_some_and(|p| p != old));
    };
    wait_up(&log);
    wait_until("generation 0 logged", SOON, || lines() == 300);
    let mut gens = 1;
    for round in 0..2 {
        // Logger down: what the service writes waits in the pipe.
        svc_command(&log, "d");
        wait_until("the logger to be down", SOON, || status(&log).is_some_and(|s| s.pid == 0));
        for _ in 0..2 {
            wait_until("the service to finish writing", SOON, || all_written(gens));
            kill(&svc);
            gens += 1;
        }
        wait_until("the service to finish writing", SOON, || all_written(gens));
        // Service dead, logger back: the lines were held by the scanner.
        if round == 1 {
            svc_command(&svc, "d");
            wait_until("the service to be down", SOON, || status(&svc).is_some_and(|s| s.pid == 0));
        }
        svc_command(&log, "u");
        wait_until("every generation logged", SOON, || lines() == gens * 300);
        // A logger killed while idle comes back and loses nothing.
        kill(&log);
        if round == 1 {
            svc_command(&svc, "u");
            gens += 1;
            wait_until("the last generation logged", SOON, || lines() == gens * 300);
        }
    }
    let expected: Vec<String> = (0..gens).flat_map(|g| (1..=300).map(move |i| format!("{g} {i}"))).collect();
    let got: Vec<String> = fs::read_to_string(&out).unwrap().lines().map(String::from).collect();
    assert!(got == expected, "lines lost, duplicated or out of order ({} lines, {} expected)", got.len(), expected.len());
}

#[test]
fn a_log_added_to_a_supervised_service_is_picked_up_on_rescan() {
    let Some(mut t) = Tree::new() else { return };
    let out = t.sb.path("log.out");
    t.service("talker", "echo hello from $$\nexec sleep 100");
    let svc = t.svc("talker");
    let _p = t.start(&[]);
    let first = wait_up(&svc);
    // The logger appears while the service runs: the rescan starts it at once.
    fs::create_dir(svc.join("log")).unwrap();
    t.service("talker/log", &format!("exec cat >> {}", out.display()));
    t.command("a");
    let log = t.svc("talker/log");
    wait_up(&log);
    // The running service is left alone; its next start writes into the logger.
    assert_eq!(up_pid(&svc), Some(first), "the service was restarted by the rescan");
    svc_command(&svc, "t");
    wait_until("the service to come back", SOON, || up_pid(&svc).is_some_and(|p| p != first));
    let second = up_pid(&svc).unwrap();
    wait_until("its line in the log", SOON, || fs::read_to_string(&out).unwrap_or_default() == format!("hello from {second}\n"));
    // And from then on it is an ordinary pair: the pipe outlives the service's restarts.
    svc_command(&svc, "t");
    wait_until("a third start", SOON, || up_pid(&svc).is_some_and(|p| p != second));
    let third = up_pid(&svc).unwrap();
    let want = format!("hello from {second}\nhello from {third}\n");
    wait_until("both lines in the log", SOON, || fs::read_to_string(&out).unwrap_or_default() == want);
}

#[test]
fn reaps_100_orphaned_grandchildren_as_pid_1() {
    let Some(mut t) = Tree::new() else { return };
    let mark = t.sb.path("spawned");
    t.service(
        "orphans",
        &format!(
            "i=0; while [ $i -lt 100 ]; do (sleep 1 &); i=$((i+1)); done\necho > {}\nexec sleep 100",
            mark.display()
        ),
    );
    let p = t.start(&[]);
    let scanner = p.pid();
    wait_until("the orphans to be spawned", SOON, || mark.exists());
    // The orphans were reparented to pid 1, the scanner...
    wait_until("100 orphans adopted", SOON, || children(scanner).len() >= 101);
    // ...which reaps them all when they die: no zombie is left.
    wait_until("every orphan reaped", Duration::from_secs(8), || {
        let c = children(scanner);
        c.len() == 1 && c.iter().all(|&k| state(k) != 'Z')
    });
}

#[test]
fn reaps_orphans_as_a_subreaper_when_not_pid_1() {
    let Some(t) = Tree::new() else { return };
    let mark = t.sb.path("spawned");
    t.service("orphans", &format!("i=0; while [ $i -lt 10 ]; do (sleep 1 &); i=$((i+1)); done\necho > {}\nexec sleep 100", mark.display()));
    let mut sb = t.sb;
    let cmd = format!("PATH={} exec {} {}", t.path, bin("rinit-scan").display(), t.scan.display());
    // A shell is pid 1 here; the scanner is its child.
    let p = sb.spawn(args!["/bin/sh", "-c", cmd]);
    let mut scanner = 0;
    wait_until("the scanner to start", SOON, || {
        scanner = children(p.pid()).into_iter().find(|&c| comm(c as u64) == "rinit-scan").unwrap_or(0);
        scanner != 0
    });
    wait_until("the orphans to be spawned", SOON, || mark.exists());
    // qemu-user (7.2) refuses PR_SET_CHILD_SUBREAPER (EINVAL): there the
    // scanner must say so, and the orphans go to pid 1.
    if qemu_user() && p.output().contains("unable to become a subreaper: orphans will go elsewhere: Invalid argument") {
        return;
    }
    wait_until("10 orphans adopted by the scanner", SOON, || children(scanner).len() >= 11);
    wait_until("every orphan reaped", SOON, || {
        let c = children(scanner);
        c.len() == 1 && c.iter().all(|&k| state(k) != 'Z')
    });
}

#[test]
fn runs_sigterm_script_instead_of_default() {
    let Some(mut t) = Tree::new() else { return };
    let mark = t.sb.path("sigterm-ran");
    t.sb.script("scan/.s6-svscan/SIGTERM", &format!("echo yes > {}", mark.display()));
    t.service("a", "exec sleep 100");
    let mut p = t.start(&[]);
    let pid = wait_up_host(p.pid(), &t.svc("a")) as u64;
    p.signal(15);
    wait_until("the SIGTERM script to run", SOON, || mark.exists());
    // Nothing was stopped: the scanner still works.
    t.service("b", "exec sleep 100");
    t.command("a");
    wait_up(&t.svc("b"));
    assert!(p.is_running());
    assert!(alive(pid));
}

#[test]
fn terminates_on_sigterm_and_runs_finish() {
    let Some(mut t) = Tree::new() else { return };
    let pidfile = t.sb.path("svc.pid");
    let mark = t.sb.path("finish.out");
    t.service("a", &format!("echo $$ > {}; exec sleep 100", pidfile.display()));
    t.service("a/log", "exec cat > /dev/null");
    // finish runs in the scanner's place: the service must be gone by then.
    t.sb.script(
        "scan/.s6-svscan/finish",
        &format!(
            "if kill -0 $(cat {}) 2>/dev/null; then echo service-alive; else echo service-gone; fi > {}",
            pidfile.display(),
            mark.display()
        ),
    );
    let mut p = t.start(&[]);
    wait_up(&t.svc("a"));
    wait_up(&t.svc("a/log"));
    p.signal(15);
    let st = p.wait_timeout(Duration::from_secs(8)).expect("the scanner to end");
    assert!(st.success(), "{st:?} {}", p.output());
    assert_eq!(fs::read_to_string(&mark).unwrap_or_default().trim(), "service-gone");
}

#[test]
fn debian_s6_svscanctl_drives_rinit_scan() {
    let Some(mut t) = Tree::new() else { return };
    let Some(ctl) = require("s6-svscanctl") else { return };
    let mut p = t.start(&[]);
    t.service("late", "exec sleep 100");
    let scan = t.scan.clone();
    assert!(t.sb.run(args![ctl, "-a", scan]).status.success());
    wait_up(&t.svc("late"));
    assert!(t.sb.run(args![ctl, "-t", scan]).status.success());
    let st = p.wait_timeout(SOON).expect("the scanner to end");
    assert!(st.success(), "{st:?} {}", p.output());
}

#[test]
fn quits_on_command_q_and_exits_0_without_finish() {
    let Some(mut t) = Tree::new() else { return };
    t.service("a", "exec sleep 100");
    let mut p = t.start(&[]);
    wait_up(&t.svc("a"));
    t.command("q");
    let st = p.wait_timeout(SOON).expect("the scanner to end");
    assert!(st.success(), "{st:?} {}", p.output());
}

/// A real fault after start-up: RLIMIT_NOFILE lowered under the scanner's
/// feet makes its poll(2) fail. The crash program (busybox, static, so it
/// runs without a free descriptor) proves it ran by removing itself.
#[test]
fn crash_fallback_is_execed() {
    let Some(mut t) = Tree::new() else { return };
    let Some(busybox) = require("busybox") else { return };
    let Some(prlimit) = require("prlimit") else { return };
    let crash = t.sb.write("scan/.s6-svscan/crash", &format!("#!{} rm\n", busybox.display()));
    fs::set_permissions(&crash, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut p = t.start(&[]);
    let pid = p.pid();
    let r = std::process::Command::new(prlimit).arg("--pid").arg(pid.to_string()).arg("--nofile=1:1").status().unwrap();
    assert!(r.success());
    // Any event makes the scanner poll again.
    let _ = send(&t.scan.join(".s6-svscan/control"), "z");
    wait_until("the crash program to run", SOON, || !crash.exists());
    let _ = p.wait_timeout(SOON);
    assert!(p.output().contains("rinit-scan: fatal: unable to wait for events"), "{}", p.output());
}

/// Out of descriptors for a logging pipe: one clear line, and the service
/// starts by itself once descriptors are back.
#[test]
fn retries_when_out_of_fds() {
    let Some(mut t) = Tree::new() else { return };
    let Some(prlimit) = require("prlimit") else { return };
    let p = t.start(&[]);
    let nofile = |lim: &str| {
        let r = std::process::Command::new(&prlimit).arg("--pid").arg(p.pid().to_string()).arg(format!("--nofile={lim}")).status();
        assert!(r.unwrap().success());
    };
    nofile("8:");
    t.service("a", "exec sleep 100");
    t.service("a/log", "exec cat > /dev/null");
    t.command("a");
    wait_until("the warning", SOON, || p.output().contains("unable to create the logging pipe for a: Too many open files"));
    assert!(up_pid(&t.svc("a")).is_none());
    nofile("1024:");
    wait_up(&t.svc("a"));
    wait_up(&t.svc("a/log"));
}

#[test]
fn refuses_a_second_scanner_on_the_same_dir() {
    let Some(mut t) = Tree::new() else { return };
    let _p = t.start(&[]);
    let scan = t.scan.clone();
    let mut second = t.sb.spawn(args![bin("rinit-scan"), scan]);
    let st = second.wait_timeout(SOON).expect("the second scanner to exit");
    assert_eq!(st.code(), Some(100));
    assert!(second.output().contains("rinit-scan: fatal: another instance of rinit-scan is already running on "), "{}", second.output());
}

#[test]
fn warns_when_over_capacity() {
    let Some(mut t) = Tree::new() else { return };
    for s in ["s1", "s2", "s3", "s4"] {
        t.service(s, "exec sleep 100");
    }
    let p = t.start(&["-C", "3"]);
    wait_until("three services up", SOON, || ["s1", "s2", "s3", "s4"].iter().filter(|s| up_pid(&t.svc(s)).is_some()).count() == 3);
    wait_until("the warning", SOON, || p.output().contains("too many services (max 3)"));
    let out = p.output();
    let warnings: Vec<&str> = out.lines().filter(|l| l.contains("too many services")).collect();
    assert_eq!(warnings.len(), 1, "{out}");
    let left = ["s1", "s2", "s3", "s4"].into_iter().find(|s| up_pid(&t.svc(s)).is_none()).unwrap();
    assert_eq!(warnings[0], format!("rinit-scan: warning: unable to supervise {left}: too many services (max 3)"));
    // Still answering.
    t.command("a");
    wait_until("the warning again", SOON, || p.output().matches("too many services").count() == 2);
}

#[test]
fn warns_about_a_name_too_long() {
    let Some(mut t) = Tree::new() else { return };
    let long = "n".repeat(252);
    t.service(&long, "exec sleep 100");
    t.service("short", "exec sleep 100");
    let p = t.start(&[]);
    wait_up(&t.svc("short"));
    wait_until("the warning", SOON, || p.output().contains("name too long (max 251)"));
}

#[test]
fn non_fifo_control_is_a_clear_error() {
    let Some(mut t) = Tree::new() else { return };
    t.sb.write("scan/.s6-svscan/control", "not a fifo");
    let scan = t.scan.clone();
    let mut p = t.sb.spawn_pid1(args![bin("rinit-scan"), scan]);
    let st = p.wait_timeout(SOON).expect("the scanner to exit");
    assert_eq!(st.code(), Some(111));
    let want = format!("rinit-scan: fatal: {}/.s6-svscan/control exists and is not a FIFO", t.scan.display());
    assert!(p.output().contains(&want), "{}", p.output());
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[test]
fn the_scanner_and_supervisor_locks_are_private() {
    // Anyone who could open a lock could take it and keep the scanner or
    // a supervisor from starting.
    let Some(mut t) = Tree::new() else { return };
    t.service("a", "exec sleep 100");
    let _p = t.start(&[]);
    wait_up(&t.svc("a"));
    assert_eq!(mode(&t.scan.join(".s6-svscan")), 0o700, ".s6-svscan");
    assert_eq!(mode(&t.scan.join(".s6-svscan/lock")), 0o600, ".s6-svscan/lock");
    assert_eq!(mode(&t.svc("a/supervise")), 0o700, "supervise/ keeps its locks to itself");
}
