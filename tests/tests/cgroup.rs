//! A cgroup per service: rinit-supervise and rinit-scan on a private
//! subtree of the host's cgroup v2 hierarchy, delegated to the scan
//! directory with `.s6-svscan/cgroup`.

use rinit_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::ffi::OsStr;
use std::process::Command;

/// A private cgroup for one test under the host's cgroup2 mount: killed and
/// removed (children first) when dropped.
struct CgTree {
    path: PathBuf,
}

impl CgTree {
    /// None (skip) without a writable cgroup v2 hierarchy; a failure in CI.
    fn new(tag: &str) -> Option<CgTree> {
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mnt = info.lines().find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            (post.split(' ').next() == Some("cgroup2")).then(|| pre.split(' ').nth(4).unwrap_or("").to_owned())
        });
        let path = mnt.map(|m| PathBuf::from(m).join(format!("rinit-test-{}-{tag}", std::process::id())));
        match path.filter(|p| fs::create_dir(p).is_ok()) {
            Some(path) => Some(CgTree { path }),
            None if in_ci() => panic!("no writable cgroup v2 hierarchy (CI=true: no test may skip)"),
            None => {
                eprintln!("skipped: no writable cgroup v2 hierarchy");
                None
            }
        }
    }

    fn child(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Host pids in the cgroup `name`.
    fn procs(&self, name: &str) -> Vec<u32> {
        fs::read_to_string(self.child(name).join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    }

    /// Delegates this cgroup to the scan directory `scandir`.
    fn delegate(&self, scandir: &Path) {
        fs::create_dir_all(scandir.join(".s6-svscan")).unwrap();
        fs::write(scandir.join(".s6-svscan/cgroup"), format!("{}\n", self.path.display())).unwrap();
    }
}

impl Drop for CgTree {
    fn drop(&mut self) {
        fn remove(p: &Path) {
            let _ = fs::write(p.join("cgroup.kill"), "1");
            for e in fs::read_dir(p).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    remove(&e.path());
                }
            }
            wait_until("the test cgroup to empty", SOON, || fs::remove_dir(p).is_ok() || !p.exists());
        }
        remove(&self.path);
    }
}

fn parent(pid: u32) -> u32 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).and_then(|p| p.parse().ok()).unwrap_or(0)
}

fn svc(sb: &Sandbox, letters: &str, dir: &Path) {
    let out = sb.run(args![bin("rinit-svc"), letters, dir]);
    assert!(out.status.success(), "rinit-svc {letters}: {}", String::from_utf8_lossy(&out.stderr));
}

fn wait_pid(svc: &Path, what: &str, f: impl Fn(u64) -> bool) {
    wait_until(what, SOON, || status(svc).is_some_and(|s| f(s.pid) && !s.finishing));
}

// ------------------------------------------------------------------ stopping

#[test]
fn a_double_forking_run_is_gone_after_svc_d() {
    let Some(cg) = CgTree::new("fork") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    // The daemon leaves run's process group and session: only the cgroup
    // still knows it belongs to the service.
    let dir = sb.service("scan/svc", "setsid sh -c 'sleep 1000 & exit 0'\nexec sleep 1000");
    let _p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_until("run and the daemon in the service's cgroup", SOON, || cg.procs("svc").len() == 2);
    let pids = cg.procs("svc");
    wait_pid(&dir, "the service to be up", |p| p != 0);

    svc(&sb, "-d", &dir);
    wait_pid(&dir, "the service to be down", |p| p == 0);
    assert_eq!(cg.procs("svc"), Vec::<u32>::new(), "the service's cgroup is empty once it is down");
    for p in pids {
        wait_until("every process of the service to be gone", SOON, || !alive(p as u64));
    }
    // Down for good: the supervisor removes the cgroup on its way out.
    svc(&sb, "-x", &dir);
    wait_until("the service's cgroup to be removed", SOON, || !cg.child("svc").exists());
}

#[test]
fn timeout_kill_ends_processes_that_ignore_the_down_signal() {
    let Some(cg) = CgTree::new("tk") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    let dir = sb.service("scan/svc", "trap '' TERM\nsleep 1000 &\nexec sleep 1000");
    sb.write("scan/svc/timeout-kill", "300\n");
    let _p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_until("two processes in the service's cgroup", SOON, || cg.procs("svc").len() == 2);
    wait_pid(&dir, "the service to be up", |p| p != 0);
    svc(&sb, "-d", &dir);
    wait_pid(&dir, "the service to be down after timeout-kill", |p| p == 0);
    assert_eq!(cg.procs("svc"), Vec::<u32>::new());
}

#[test]
fn a_new_supervisor_ends_what_a_killed_one_left_running() {
    let Some(cg) = CgTree::new("succ") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    let dir = sb.service("scan/svc", "exec sleep 1000");
    // The successor starts in the same pid namespace as soon as the first
    // supervisor dies, as under a scanner.
    let p = sb.spawn_in(&scan, args!["sh", "-c", "rinit-supervise svc; exec rinit-supervise svc"]);
    wait_until("run in the service's cgroup", SOON, || cg.procs("svc").len() == 1);
    let old = cg.procs("svc")[0];
    let first = parent(old);
    Command::new("kill").arg("-KILL").arg(first.to_string()).status().unwrap();

    wait_until("a new run, alone in the cgroup", SOON, || {
        let now = cg.procs("svc");
        now.len() == 1 && now[0] != old && !alive(old as u64)
    });
    let out = p.output();
    let warnings: Vec<&str> = out.lines().filter(|l| l.contains("earlier run")).collect();
    assert_eq!(
        warnings,
        ["rinit-supervise svc: warning: cgroup svc holds 1 processes of an earlier run: killing them"],
        "output: {out}"
    );
    wait_pid(&dir, "the service up again", |p| p != 0);
}

// ------------------------------------------------------------------ limits

#[test]
fn limits_are_written_into_the_service_cgroup_before_run() {
    let Some(cg) = CgTree::new("lim") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    // Core limits every cgroup v2 hierarchy has, whatever its controllers.
    let dir = sb.service("scan/svc", "cat /proc/self/cgroup > seen\nexec sleep 1000");
    sb.write("scan/svc/cgroup/cgroup.max.descendants", "3\n");
    sb.write("scan/svc/cgroup/cgroup.max.depth", "2\n");
    let p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_until("run to report its cgroup", SOON, || sb.read("scan/svc/seen").contains("svc"));
    let own = sb.read("scan/svc/seen");
    assert!(own.lines().any(|l| l.starts_with("0::") && l.ends_with("/svc")), "run's cgroup: {own}");
    assert_eq!(fs::read_to_string(cg.child("svc/cgroup.max.descendants")).unwrap(), "3\n");
    assert_eq!(fs::read_to_string(cg.child("svc/cgroup.max.depth")).unwrap(), "2\n");
    assert_eq!(p.output(), "", "no warning");
    drop(dir);
}

#[test]
fn a_refused_limit_is_one_warning_and_the_service_starts() {
    let Some(cg) = CgTree::new("ref") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    let dir = sb.service("scan/svc", "exec sleep 1000");
    sb.write("scan/svc/cgroup/cgroup.max.depth", "lots\n");
    sb.write("scan/svc/cgroup/cgroup.procs", "1\n");
    let p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_pid(&dir, "the service to be up", |p| p != 0);
    wait_until("run in the cgroup", SOON, || cg.procs("svc").len() == 1);
    let out = p.output();
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "rinit-supervise svc: warning: unable to apply ./cgroup/cgroup.max.depth: Invalid argument",
            "rinit-supervise svc: warning: unable to apply ./cgroup/cgroup.procs: Operation not permitted",
        ]
    );
}

// ------------------------------------------------------------------ the tree

#[test]
fn the_scanner_tree_gets_a_cgroup_per_service_and_per_logger() {
    let Some(cg) = CgTree::new("tree") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    cg.delegate(&scan);
    sb.service("scan/web", "exec sleep 1000");
    sb.service("scan/web/log", "exec cat > /dev/null");
    sb.service("scan/a.b", "exec sleep 1000");
    let _p = sb.spawn_in(&scan, args![bin("rinit-scan"), "."]);
    wait_until("three service cgroups, one process each", SOON, || {
        ["web", "web.log", "a%2eb"].iter().all(|n| cg.procs(n).len() == 1)
    });
}

#[test]
fn without_a_delegated_cgroup_nothing_changes() {
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    let dir = sb.service("scan/svc", "cat /proc/self/cgroup > seen\nexec sleep 1000");
    sb.write("scan/svc/cgroup/memory.max", "1M\n");
    let p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_pid(&dir, "the service to be up", |p| p != 0);
    wait_until("run to report its cgroup", SOON, || !sb.read("scan/svc/seen").is_empty());
    let mine = fs::read_to_string("/proc/self/cgroup").unwrap();
    assert_eq!(sb.read("scan/svc/seen"), mine, "run stays in the supervisor's cgroup");
    assert_eq!(p.output(), "");
}

#[test]
fn a_cgroup_file_naming_no_cgroup2_directory_is_one_warning() {
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    let dir = sb.service("scan/svc", "exec sleep 1000");
    fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    fs::write(scan.join(".s6-svscan/cgroup"), format!("{}\n", sb.dir.display())).unwrap();
    let p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_pid(&dir, "the service to be up anyway", |p| p != 0);
    assert_eq!(
        p.output(),
        "rinit-supervise svc: warning: .s6-svscan/cgroup names no cgroup v2 directory: running without a cgroup\n"
    );
}

// ------------------------------------------------------------------ stage 1

/// A container-mode basedir in the sandbox: an empty runlevel, and the
/// service `svc`, which writes its /proc/self/cgroup into `seen`.
fn container_basedir(sb: &Sandbox, maker: &[&str]) -> (PathBuf, PathBuf) {
    let src = sb.mkdir("rc/default");
    fs::write(src.join("type"), "bundle\n").unwrap();
    fs::write(src.join("contents"), "").unwrap();
    let out = sb.run(args![bin("rinit-rc-compile"), sb.path("compiled"), sb.path("rc")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let base = sb.path("base");
    let mut a: Vec<std::ffi::OsString> = vec![bin("rinit-maker").into(), "-C".into(), "-c".into(), base.clone().into()];
    a.extend(["-b".into(), bin_dir().into(), "-r".into(), sb.path("compiled").into()]);
    a.extend(maker.iter().map(|w| w.into()));
    a.push(base.clone().into());
    let refs: Vec<&OsStr> = a.iter().map(|w| w.as_os_str()).collect();
    let out = sb.run(&refs);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = sb.path("seen");
    sb.script("base/run-image/service/svc/run", &format!("cat /proc/self/cgroup > {}\nexec sleep 1000", seen.display()));
    (base, seen)
}

#[test]
fn container_mode_without_a_cgroup_namespace_of_its_own_leaves_cgroups_alone() {
    let mut sb = Sandbox::new();
    let (base, seen) = container_basedir(&sb, &[]);
    let p = sb.spawn_pid1(args![bin("rinit"), "-c", base]);
    wait_until("the service to run", SOON, || fs::metadata(&seen).is_ok_and(|m| m.len() > 0));
    let out = p.output();
    assert!(
        out.contains("rinit: info: no cgroup namespace of the container's own: services run without cgroups\n"),
        "{out}"
    );
    let mine = fs::read_to_string("/proc/self/cgroup").unwrap();
    assert_eq!(fs::read_to_string(&seen).unwrap(), mine);
}

/// rinit in container mode as a runtime starts it: its own cgroup
/// namespace, cgroup2 on /sys/fs/cgroup, and `cg` as the container's cgroup.
/// Its output goes to `out` in the sandbox.
fn container_in(cg: &CgTree, sb: &Sandbox, base: &Path) -> std::process::Child {
    let log = fs::File::create(sb.path("out")).unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(
            "echo $$ > \"$1/cgroup.procs\" && exec unshare --user --map-root-user --mount --pid --cgroup --fork \
             --kill-child=SIGKILL -- sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec \"$0\" -c \"$1\"' \"$2\" \"$3\"",
        )
        .args([OsStr::new("sh"), cg.path.as_os_str(), bin("rinit").as_os_str(), base.as_os_str()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[test]
fn container_mode_delegates_the_containers_own_cgroup() {
    let Some(cg) = CgTree::new("ctr") else { return };
    let sb = Sandbox::new();
    let (base, seen) = container_basedir(&sb, &[]);
    let mut p = container_in(&cg, &sb, &base);
    wait_until("the service in its own cgroup", SOON, || {
        fs::read_to_string(&seen).is_ok_and(|s| s.lines().any(|l| l == "0::/svc"))
    });
    // `cat` may not have gone yet: wait for `sleep` alone.
    wait_until("the service alone in its cgroup", SOON, || cg.procs("svc").len() == 1);
    assert!(!cg.procs("rinit.init").is_empty(), "pid 1 and the supervisors moved to rinit.init");
    let out = sb.read("out");
    assert!(out.contains("rinit: info: a cgroup per service, in /sys/fs/cgroup\n"), "{out}");
    // The container ends with its namespace; a kill that fails means it has ended already.
    let _ = p.kill();
    let _ = p.wait();
}

#[test]
fn rinit_maker_n_turns_the_cgroup_per_service_off() {
    let Some(cg) = CgTree::new("off") else { return };
    let sb = Sandbox::new();
    let (base, seen) = container_basedir(&sb, &["-n"]);
    assert!(base.join("conf/no-cgroups").exists());
    let mut p = container_in(&cg, &sb, &base);
    wait_until("the service to run", SOON, || fs::read_to_string(&seen).is_ok_and(|s| s.contains("0::/")));
    let own = fs::read_to_string(&seen).unwrap();
    assert!(own.lines().any(|l| l == "0::/"), "the service stays in the container's cgroup: {own}");
    assert!(!cg.child("svc").exists() && !cg.child("rinit.init").exists());
    let out = sb.read("out");
    assert!(out.contains("rinit: info: conf/no-cgroups: services run without cgroups\n"), "{out}");
    // As above: the container ends with its namespace.
    let _ = p.kill();
    let _ = p.wait();
}

// ------------------------------------------------------------------ rinit-status

#[test]
fn rinit_status_shows_the_cgroups_memory_and_processes() {
    let Some(cg) = CgTree::new("status") else { return };
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    sb.service("scan/svc", "exec sleep 1000");
    let dir = sb.service("scan/plain", "exec sleep 1000");
    let _p = sb.spawn_in(&scan, args![bin("rinit-supervise"), "plain"]);
    wait_pid(&dir, "plain to be up", |p| p != 0);
    let status = |sb: &Sandbox, j: bool| {
        let o = if j { sb.run(args![bin("rinit-status"), "-j", scan]) } else { sb.run(args![bin("rinit-status"), scan]) };
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // No cgroup per service: no such columns.
    assert!(!status(&sb, false).contains("MEMORY"));

    cg.delegate(&scan);
    let svc_dir = scan.join("svc");
    let _q = sb.spawn_in(&scan, args![bin("rinit-supervise"), "svc"]);
    wait_pid(&svc_dir, "svc to be up", |p| p != 0);
    let table = status(&sb, false);
    let head = table.lines().next().unwrap_or("");
    assert!(head.split_whitespace().rev().take(2).eq(["PIDS", "MEMORY"]), "{table}");
    // This host's cgroup v2 may lack the memory and pids controllers: the
    // numbers are the kernel's when it has them, nothing when not.
    let want = |f: &str| fs::read_to_string(cg.child("svc").join(f)).ok().map(|v| v.trim().to_owned());
    let json = status(&sb, true);
    let line = json.lines().find(|l| l.contains("\"name\":\"svc\"")).unwrap_or_else(|| panic!("{json}"));
    for (key, file) in [("memory_current", "memory.current"), ("pids_current", "pids.current")] {
        let shown = want(file).map_or(format!("\"{key}\":null"), |v| format!("\"{key}\":{v}"));
        if key == "pids_current" || want(file).is_none() {
            assert!(line.contains(&shown), "{line} lacks {shown}");
        } else {
            assert!(line.contains(&format!("\"{key}\":")), "{line}");
        }
    }
}
