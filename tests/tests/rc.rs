//! rinit-rc: compile s6-rc source trees, install them under a scanner in a
//! fresh namespace, change the machine's state, check order and failures.
//!
//! The scanner is rinit's `rinit-scan` when it is in the bin dir, else
//! Debian's `s6-svscan` (same formats, same letters).

use rinit_tests::*;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The scanner command line for `scan`, or None (skip) when none exists.
fn scanner() -> Option<String> {
    let ours = bin_dir().join("rinit-scan");
    if ours.exists() {
        return Some(format!("{} scan", ours.display()));
    }
    let s6 = require("s6-svscan")?;
    Some(format!("{} -c 4000 -t0 scan", s6.display()))
}

/// Runs `body` in fresh namespaces after starting a scanner on `scan/`,
/// compiling `src/` into `comp/` and running rinit-rc-init into `live/`.
/// The tree's PATH ends with Debian's execline directory, as rinit-maker's
/// default does.
/// Returns the script's output (stdout and stderr interleaved).
fn in_namespace(sb: &Sandbox, body: &str) -> Option<(i32, String)> {
    let scan = scanner()?;
    let script = format!(
        "cd {dir}\nmkdir -p scan\nPATH=$PATH:/usr/lib/execline/bin {scan} >scan.log 2>&1 &\n\
         i=0; while [ ! -p scan/.s6-svscan/control ]; do sleep 0.01; i=$((i+1)); \
         [ $i -gt 2000 ] && {{ echo scanner did not start; cat scan.log; exit 90; }}; done\n\
         rinit-rc-compile comp src || {{ echo compile failed; exit 91; }}\n\
         rinit-rc-init -c comp -l live scan || {{ echo init failed; cat scan.log; exit 92; }}\n{body}\n",
        dir = sb.dir.display()
    );
    let out = ns_run(&script);
    Some((out.status.code().unwrap_or(-1), text(&out)))
}

fn ns_run(script: &str) -> Output {
    // A guard against a hang, not a timing: the longest body (an update
    // killed at each of its 14 steps, each undone) takes about 40 s on
    // x86_64 and over 60 s on a loaded machine or a 32-bit one.
    Command::new("timeout")
        .args([
            "180",
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "--pid",
            "--fork",
            "--kill-child=SIGKILL",
            "/bin/sh",
            "-c",
        ])
        .arg(format!("exec 2>&1\n{script}"))
        .env("PATH", test_path())
        .stdin(Stdio::null())
        .output()
        .expect("run unshare")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that `lines` appear in `out` in this order.
fn in_order(out: &str, lines: &[&str]) {
    let mut from = 0;
    for l in lines {
        match out[from..].find(l) {
            Some(p) => from += p + l.len(),
            None => panic!("{l:?} missing or out of order in:\n{out}"),
        }
    }
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
}

fn exe(dir: &Path, rel: &str, content: &str) {
    write(dir, rel, content);
    fs::set_permissions(dir.join(rel), fs::Permissions::from_mode(0o755)).unwrap();
}

/// A oneshot `name` whose up (and down) append its name to `log`(.down).
fn logging_oneshot(src: &Path, name: &str, deps: &[&str], log: &Path) {
    write(src, &format!("{name}/type"), "oneshot\n");
    write(
        src,
        &format!("{name}/up"),
        &format!("/bin/sh -c \"echo {name} >> {}\"\n", log.display()),
    );
    write(
        src,
        &format!("{name}/down"),
        &format!("/bin/sh -c \"echo {name} >> {}.down\"\n", log.display()),
    );
    if !deps.is_empty() {
        write(
            src,
            &format!("{name}/dependencies"),
            &(deps.join("\n") + "\n"),
        );
    }
}

fn bundle(src: &Path, name: &str, contents: &[&str]) {
    write(src, &format!("{name}/type"), "bundle\n");
    write(
        src,
        &format!("{name}/contents"),
        &(contents.join("\n") + "\n"),
    );
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// A source tree on tmpfs (when /dev/shm exists), linked as `sb/src`:
/// thousands of small files are written in a fraction of the disk's time.
struct FastSrc(PathBuf);

impl FastSrc {
    fn new(sb: &Sandbox) -> (FastSrc, PathBuf) {
        let shm = Path::new("/dev/shm");
        if !shm.is_dir() {
            return (FastSrc(PathBuf::new()), sb.path("src"));
        }
        let d = shm.join(format!(
            "rinit-rc-src-{}-{}",
            std::process::id(),
            sb.dir.file_name().unwrap().to_string_lossy()
        ));
        fs::create_dir_all(&d).unwrap();
        std::os::unix::fs::symlink(&d, sb.path("src")).unwrap();
        (FastSrc(d.clone()), d)
    }
}

impl Drop for FastSrc {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

fn demo_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc")
}

#[test]
fn demo_tree_comes_up_and_goes_down_in_order() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -v2 -l live change default; echo up-rc=$?\n\
         i=0; until grep -q 'demo-longrun-1 is running' scan.log; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done\n\
         cat scan.log\n\
         rinit-rc -l live list | sed 's/^/listed /'\n\
         rinit-rc -v2 -l live -d change default; echo down-rc=$?\n\
         rinit-rc -l live list | sed 's/^/after /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    in_order(
        &out,
        &[
            "rinit-rc: info: service demo-oneshot-1: starting",
            "rinit-rc: info: service demo-oneshot-1 successfully started",
            "rinit-rc: info: service demo-longrun-1: starting",
            "rinit-rc: info: service demo-longrun-1 successfully started",
            "up-rc=0",
            // The oneshot's output goes where the tree's goes.
            "demo-oneshot-1 is up",
            "demo-longrun-1 is running",
            "listed demo-longrun-1",
            "listed demo-oneshot-1",
            "rinit-rc: info: service demo-longrun-1: stopping",
            "rinit-rc: info: service demo-longrun-1 successfully stopped",
            "rinit-rc: info: service demo-oneshot-1: stopping",
            "rinit-rc: info: service demo-oneshot-1 successfully stopped",
            "down-rc=0",
        ],
    );
    assert!(!out.contains("after "), "{out}");
}

#[test]
fn diamond_starts_in_dependency_order_and_stops_in_reverse() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("order.log");
    logging_oneshot(&src, "top", &[], &log);
    logging_oneshot(&src, "left", &["top"], &log);
    logging_oneshot(&src, "right", &["top"], &log);
    // The bottom of the diamond is a longrun.
    write(&src, "bottom/type", "longrun\n");
    exe(&src, "bottom/run", "#!/bin/sh\nexec sleep 1000\n");
    write(&src, "bottom/dependencies", "left\nright\n");
    bundle(&src, "all", &["bottom"]);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -v2 -l live change all || exit 1\nrinit-rc -v2 -l live -d change top || exit 2",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    let up: Vec<String> = sb.read("order.log").lines().map(String::from).collect();
    assert_eq!(up.len(), 3, "{up:?}");
    assert_eq!(up[0], "top");
    in_order(
        &out,
        &[
            "service left successfully started",
            "service bottom: starting",
            "service bottom successfully started",
        ],
    );
    in_order(
        &out,
        &[
            "service right successfully started",
            "service bottom: starting",
        ],
    );
    in_order(
        &out,
        &[
            "service bottom successfully stopped",
            "service left: stopping",
            "service top: stopping",
        ],
    );
    in_order(
        &out,
        &[
            "service right successfully stopped",
            "service top: stopping",
        ],
    );
    let down: Vec<String> = sb
        .read("order.log.down")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(down.last().map(String::as_str), Some("top"), "{down:?}");
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_dag_of_1000_oneshots_respects_every_edge() {
    let sb = Sandbox::new();
    let (_keep, src) = FastSrc::new(&sb);
    let log = sb.path("order.log");
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let n = 1000;
    // Names in a shuffled order so index order and name order differ.
    let mut names: Vec<String> = (0..n).map(|i| format!("s{:04}", (i * 7919) % n)).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        names.swap(i, j);
    }
    let mut edges = Vec::new();
    for i in 0..n {
        let k = if i == 0 { 0 } else { rng.below(4) };
        let mut deps: Vec<&str> = Vec::new();
        for _ in 0..k {
            let j = rng.below(i);
            if !deps.contains(&names[j].as_str()) {
                deps.push(&names[j]);
                edges.push((i, j));
            }
        }
        logging_oneshot(&src, &names[i], &deps, &log);
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    bundle(&src, "everything", &all);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change everything || exit 1\n\
         rinit-rc -l live list | wc -l | sed 's/^/up-count /'\n\
         rinit-rc -l live -d change everything || exit 2",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("up-count 1000"), "{out}");
    let pos = |f: &str| -> HashMap<String, usize> {
        sb.read(f)
            .lines()
            .enumerate()
            .map(|(i, l)| (l.to_string(), i))
            .collect()
    };
    let up = pos("order.log");
    let down = pos("order.log.down");
    assert_eq!(up.len(), n);
    assert_eq!(down.len(), n);
    for (i, j) in edges {
        let (a, b) = (&names[i], &names[j]);
        assert!(up[b] < up[a], "{a} depends on {b} but started first");
        assert!(down[a] < down[b], "{a} depends on {b} but stopped after it");
    }
}

#[test]
fn prune_stops_what_is_outside_the_selection() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("order.log");
    logging_oneshot(&src, "base", &[], &log);
    logging_oneshot(&src, "keep", &["base"], &log);
    logging_oneshot(&src, "drop1", &["base"], &log);
    logging_oneshot(&src, "drop2", &[], &log);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change keep drop1 drop2 || exit 1\n\
         rinit-rc -v2 -l live -p change keep || exit 2\n\
         rinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    let up: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("up ")).collect();
    assert_eq!(up, ["base", "keep"], "{out}");
    let mut down: Vec<String> = sb
        .read("order.log.down")
        .lines()
        .map(String::from)
        .collect();
    down.sort();
    assert_eq!(down, ["drop1", "drop2"]);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -n -l live change default || exit 1\n\
         rinit-rc -l live list | sed 's/^/up /'\ncat live/state; echo",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    in_order(&out, &["start demo-oneshot-1\n", "start demo-longrun-1\n"]);
    assert!(!out.contains("up demo"), "{out}");
    assert!(!out.contains("demo-oneshot-1 is up"), "{out}");
    assert!(out.contains("000"), "{out}");
}

#[test]
fn a_failing_oneshot_stops_its_dependents_and_the_rest_goes_on() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("order.log");
    write(&src, "broken/type", "oneshot\n");
    write(&src, "broken/up", "/bin/sh -c \"exit 3\"\n");
    logging_oneshot(&src, "needs-broken", &["broken"], &log);
    logging_oneshot(&src, "independent", &[], &log);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change needs-broken independent; echo rc=$?\nrinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rinit-rc: warning: unable to start service broken: command exited 3"),
        "{out}"
    );
    assert!(
        out.contains(
            "rinit-rc: warning: not starting service needs-broken: dependency broken failed"
        ),
        "{out}"
    );
    assert!(out.contains("rc=1"), "{out}");
    let up: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("up ")).collect();
    assert_eq!(up, ["independent"], "{out}");
    assert_eq!(sb.read("order.log"), "independent\n");
}

#[test]
fn timeouts_fail_the_service_and_its_dependents() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("order.log");
    write(&src, "slow/type", "oneshot\n");
    write(&src, "slow/up", "sleep 30\n");
    write(&src, "slow/timeout-up", "200\n");
    logging_oneshot(&src, "after-slow", &["slow"], &log);
    // A longrun that never reports readiness.
    write(&src, "mute/type", "longrun\n");
    exe(&src, "mute/run", "#!/bin/sh\nexec sleep 1000\n");
    write(&src, "mute/notification-fd", "3\n");
    write(&src, "mute/timeout-up", "300\n");
    logging_oneshot(&src, "after-mute", &["mute"], &log);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change after-slow after-mute; echo rc=$?\nrinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("unable to start service slow: timed out"),
        "{out}"
    );
    assert!(
        out.contains("unable to start service mute: timed out"),
        "{out}"
    );
    assert!(
        out.contains("not starting service after-slow: dependency slow failed"),
        "{out}"
    );
    assert!(
        out.contains("not starting service after-mute: dependency mute failed"),
        "{out}"
    );
    assert!(out.contains("rc=1"), "{out}");
    assert!(!out.contains("up "), "{out}");
}

#[test]
fn global_timeout_ends_the_change() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    write(&src, "slow/type", "oneshot\n");
    write(&src, "slow/up", "sleep 30\n");
    let Some((code, out)) = in_namespace(&sb, "rinit-rc -t 300 -l live change slow; echo rc=$?")
    else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("unable to start service slow: timed out"),
        "{out}"
    );
    // s6-rc's code for a change that timed out.
    assert!(out.contains("rc=2"), "{out}");
}

#[test]
fn an_update_that_runs_out_of_time_exits_2_as_s6_rc_update() {
    let sb = Sandbox::new();
    let (src, src2) = (sb.path("src"), sb.path("src2"));
    write(&src, "conf/type", "oneshot\n");
    write(&src, "conf/up", "true\n");
    write(&src2, "conf/type", "oneshot\n");
    write(&src2, "conf/up", "sleep 30\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change conf || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         rinit-rc-update -t 500 -l live comp2; echo rc=$?",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("unable to start service conf: timed out"), "{out}");
    assert!(out.contains("rc=2"), "{out}");
}

#[test]
fn the_shutdown_form_without_the_lock_reads_a_half_done_switch_as_committed_and_leaves_it() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    for v in ["src", "src2"] {
        longrun(&sb.path(v), "keep", "keep-runs", &log);
        bundle(&sb.path(v), "default", &["keep"]);
    }
    longrun(&sb.path("src2"), "fresh", "fresh-runs", &log);
    // The update killed at each step until one leaves the switch committed
    // but not settled; then the lock held by someone else (an update still
    // running, say) while the machine goes down.
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         n=1\n\
         until [ -e live/state.next ] && [ ! -e live/compiled.next ]; do\n\
           [ $n -gt 50 ] && { echo never committed and unsettled; exit 3; }\n\
           rm -f live/state.next live/compiled.next\n\
           RINIT_RC_UPDATE_STOP_AT=$n rinit-rc-update -l live comp2 >/dev/null 2>&1; n=$((n+1))\n\
         done\n\
         echo at $(readlink live/compiled | sed 's,.*/,,')\n\
         flock -x live/lock sh -c 'touch held; exec sleep 300' &\n\
         i=0; while [ ! -e held ]; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && exit 4; done\n\
         rinit-rc -v2 -l live -bDa change || exit 5\n\
         ls live | grep next | sed 's/^/left /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at comp2\n"), "{out}");
    assert!(out.contains("going on without the lock"), "{out}");
    // The new database's state was read: keep (carried over, up) is stopped.
    assert!(out.contains("service keep successfully stopped"), "{out}");
    assert!(!out.contains("fresh"), "{out}");
    // Not settled behind the holder's back.
    assert!(out.contains("left state.next\n"), "{out}");
    let st = status(&sb.path("scan/keep"));
    assert!(st.is_none_or(|s| s.pid == 0), "{st:?}");
}

#[test]
fn rinit_rc_after_a_killed_update_says_to_run_it_again_and_starts_nothing_itself() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    for (v, says) in [("src", "changed-v1"), ("src2", "changed-v2")] {
        longrun(&sb.path(v), "changed", says, &log);
        bundle(&sb.path(v), "default", &["changed"]);
    }
    // Killed at its second step: the changed longrun is stopped, the switch not made.
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         RINIT_RC_UPDATE_STOP_AT=2 rinit-rc-update -l live comp2; echo killed=$?\n\
         echo after the kill: $(rinit-rc -l live list 2>&1)\n\
         rinit-rc-update -l live comp2 || exit 3\n\
         echo after the rerun: $(rinit-rc -l live list 2>&1)\n\
         i=0; until grep -q changed-v2 runs.log; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("killed=137"), "{out}");
    let warning = "rinit-rc: warning: an interrupted rinit-rc-update left services to bring up (live/pending): \
                   run it again to finish the update";
    assert!(out.contains(&format!("after the kill: {warning}\n")), "{out}");
    assert!(out.contains("after the rerun: changed\n"), "{out}");
    assert_eq!(sb.read("runs.log"), "changed-v1\nchanged-v2\n");
}

fn compile(sb: &Sandbox, out: &str, srcs: &[&str]) -> Output {
    let mut c = Command::new(bin("rinit-rc-compile"));
    c.arg(sb.path(out));
    for s in srcs {
        c.arg(sb.path(s));
    }
    c.output().unwrap()
}

#[test]
fn same_source_compiles_to_the_same_bytes_whatever_the_order() {
    let sb = Sandbox::new();
    let mut rng = Rng(12345);
    let mut names: Vec<String> = (0..200).map(|i| format!("svc{i}")).collect();
    for (k, dir) in ["a", "b"].iter().enumerate() {
        // A different creation order each time (so a different readdir order).
        for i in (1..names.len()).rev() {
            let j = rng.below(i + 1);
            names.swap(i, j);
        }
        if k == 1 {
            names.reverse();
        }
        let src = sb.path(dir);
        for (i, n) in names.iter().enumerate() {
            let num: usize = n[3..].parse().unwrap();
            if num.is_multiple_of(3) {
                write(&src, &format!("{n}/type"), "longrun\n");
                exe(&src, &format!("{n}/run"), "#!/bin/sh\nexec sleep 100\n");
            } else {
                write(&src, &format!("{n}/type"), "oneshot\n");
                write(&src, &format!("{n}/up"), &format!("echo {n} \"is up\"\n"));
            }
            if num > 0 {
                fs::create_dir_all(src.join(format!("{n}/dependencies.d"))).unwrap();
                write(&src, &format!("{n}/dependencies.d/svc{}", num / 2), "");
                write(&src, &format!("{n}/dependencies.d/svc{}", num - 1), "");
            }
            let _ = i;
        }
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.reverse();
        bundle(&src, "all", &all);
    }
    assert!(compile(&sb, "ca", &["a"]).status.success());
    assert!(compile(&sb, "cb", &["b"]).status.success());
    let a = fs::read(sb.path("ca/db")).unwrap();
    let b = fs::read(sb.path("cb/db")).unwrap();
    assert!(a.len() > 1000);
    assert!(a == b, "databases differ");
}

/// Each bad source is refused with one line naming the problem and the file.
#[test]
fn compile_errors_are_one_clear_line_each() {
    type MakeSource = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, MakeSource, &str)> = vec![
        (
            "cycle",
            Box::new(|s: &Path| {
                logging_oneshot(s, "a", &["b"], Path::new("/dev/null"));
                logging_oneshot(s, "b", &["c"], Path::new("/dev/null"));
                logging_oneshot(s, "c", &["a"], Path::new("/dev/null"));
            }),
            "dependency cycle: a -> b -> c -> a",
        ),
        (
            "unknown",
            Box::new(|s: &Path| logging_oneshot(s, "a", &["nope"], Path::new("/dev/null"))),
            "unknown service name nope in ",
        ),
        (
            "self-bundle",
            Box::new(|s: &Path| {
                bundle(s, "x", &["y"]);
                bundle(s, "y", &["x"]);
            }),
            "bundle x contains itself: x -> y -> x",
        ),
        (
            "no-run",
            Box::new(|s: &Path| write(s, "l/type", "longrun\n")),
            "longrun without run",
        ),
        (
            "no-up",
            Box::new(|s: &Path| write(s, "o/type", "oneshot\n")),
            "oneshot without up script",
        ),
        (
            "bad-type",
            Box::new(|s: &Path| write(s, "o/type", "daemon\n")),
            "bad type (want oneshot, longrun or bundle)",
        ),
        (
            "bad-number",
            Box::new(|s: &Path| {
                logging_oneshot(s, "a", &[], Path::new("/dev/null"));
                write(s, "a/timeout-up", "12a\n");
            }),
            "malformed number in ",
        ),
        (
            "long-name",
            Box::new(|s: &Path| logging_oneshot(s, &"n".repeat(200), &[], Path::new("/dev/null"))),
            "invalid or too long service name",
        ),
        (
            "bad-script",
            Box::new(|s: &Path| {
                write(s, "a/type", "oneshot\n");
                write(s, "a/up", "echo \"unterminated\n");
            }),
            "bad execline script: unterminated quoted string in ",
        ),
        (
            "pipeline-fork",
            Box::new(|s: &Path| {
                for n in ["p", "c1", "c2"] {
                    write(s, &format!("{n}/type"), "longrun\n");
                    exe(s, &format!("{n}/run"), "#!/bin/sh\n");
                }
                write(s, "p/producer-for", "c1\n");
                write(s, "c1/consumer-for", "p\n");
                write(s, "c2/consumer-for", "p\n");
            }),
            "pipeline forks: p feeds c1",
        ),
        (
            "pipeline-loop",
            Box::new(|s: &Path| {
                for (n, to) in [("a", "b"), ("b", "a")] {
                    write(s, &format!("{n}/type"), "longrun\n");
                    exe(s, &format!("{n}/run"), "#!/bin/sh\n");
                    write(s, &format!("{n}/producer-for"), &format!("{to}\n"));
                    write(s, &format!("{n}/consumer-for"), &format!("{to}\n"));
                }
            }),
            "pipeline loops: a -> b -> a",
        ),
    ];
    for (name, make, msg) in cases {
        let sb = Sandbox::new();
        make(&sb.path("src"));
        let o = compile(&sb, "out", &["src"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: compiled");
        assert!(
            err.starts_with("rinit-rc-compile: fatal: "),
            "{name}: {err}"
        );
        assert!(err.contains(msg), "{name}: want {msg:?}, got {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(!sb.path("out").exists(), "{name}: output written");
    }
}

#[test]
fn unknown_dependency_error_names_the_file() {
    let sb = Sandbox::new();
    logging_oneshot(&sb.path("src"), "a", &["nope"], Path::new("/dev/null"));
    let o = compile(&sb, "out", &["src"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "unknown service name nope in {}/a/dependencies",
            sb.path("src").display()
        )),
        "{err}"
    );
}

#[test]
fn duplicates_across_source_dirs_are_refused() {
    let sb = Sandbox::new();
    logging_oneshot(&sb.path("one"), "a", &[], Path::new("/dev/null"));
    logging_oneshot(&sb.path("two"), "a", &[], Path::new("/dev/null"));
    let o = compile(&sb, "out", &["one", "two"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("duplicate service name a: "), "{err}");
    assert!(err.contains("one/a") && err.contains("two/a"), "{err}");
}

#[test]
fn more_services_than_the_capacity_is_a_clear_error() {
    let sb = Sandbox::new();
    let (_keep, src) = FastSrc::new(&sb);
    for i in 0..4097 {
        write(&src, &format!("b{i}/type"), "bundle\n");
    }
    let o = compile(&sb, "out", &["src"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("too many services (capacity MAX_SERVICES = 4096)"),
        "{err}"
    );
}

#[test]
fn corrupt_or_truncated_database_is_refused() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    assert!(compile(&sb, "comp", &["src"]).status.success());
    let good = fs::read(sb.path("comp/db")).unwrap();
    let query = || {
        Command::new(bin("rinit-rc-db"))
            .arg("-c")
            .arg(sb.path("comp"))
            .args(["list", "all"])
            .output()
            .unwrap()
    };
    let o = query();
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "default\ndemo-longrun-1\ndemo-oneshot-1\n"
    );
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() - 3].to_vec(), "truncated database"),
        (good[..20].to_vec(), "truncated database"),
        (
            {
                let mut c = good.clone();
                c[100] ^= 0x40;
                c
            },
            "checksum mismatch",
        ),
        (
            {
                let mut c = good.clone();
                c[0] = b'X';
                c
            },
            "bad magic",
        ),
        (
            {
                let mut c = good.clone();
                c[8] = 9;
                c
            },
            "unsupported database version",
        ),
        (Vec::new(), "truncated database"),
    ];
    for (bytes, msg) in cases {
        fs::write(sb.path("comp/db"), &bytes).unwrap();
        let o = query();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(111), "{err}");
        assert!(err.contains(msg), "want {msg:?}: {err}");
    }
}

/// Random source trees with random file contents never crash the compiler:
/// it either compiles or says why in one line.
#[test]
fn compiler_survives_random_source_trees() {
    let mut rng = Rng(777);
    let files = [
        "type",
        "dependencies",
        "contents",
        "up",
        "down",
        "run",
        "timeout-up",
        "producer-for",
        "consumer-for",
        "notification-fd",
    ];
    let words = [
        "oneshot", "longrun", "bundle", "a", "b", "c", "d", "12", "x y", "{", "}", "\"", "#", "\n",
        "echo",
    ];
    for round in 0..60 {
        let sb = Sandbox::new();
        let src = sb.path("src");
        fs::create_dir_all(&src).unwrap();
        for name in ["a", "b", "c", "d"] {
            if rng.below(5) == 0 {
                continue;
            }
            for f in files {
                if rng.below(2) == 0 {
                    continue;
                }
                let mut s = String::new();
                for _ in 0..rng.below(4) {
                    s.push_str(words[rng.below(words.len())]);
                    s.push(if rng.below(2) == 0 { '\n' } else { ' ' });
                }
                write(&src, &format!("{name}/{f}"), &s);
            }
        }
        let o = compile(&sb, "out", &["src"]);
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) => assert!(sb.path("out/db").exists()),
            Some(1) => assert_eq!(err.lines().count(), 1, "round {round}: {err}"),
            c => panic!("round {round}: exit {c:?}: {err}"),
        }
    }
}

#[test]
fn execline_blocks_run_with_debians_execline() {
    if require("execlineb").is_none()
        || !Path::new("/usr/lib/execline/bin/foreground").exists()
            && !Path::new("/usr/bin/foreground").exists()
    {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("el.log");
    write(&src, "el/type", "oneshot\n");
    write(
        &src,
        "el/up",
        &format!(
            "#!/bin/execlineb -P\n# a comment\nforeground {{ /bin/sh -c \"echo first >> {l}\" }}\nif {{ /bin/sh -c \"echo 'second  word' >> {l}\" }}\n/bin/sh -c \"echo third >> {l}\"\n",
            l = log.display()
        ),
    );
    let Some((code, out)) = in_namespace(&sb, "rinit-rc -l live change el || exit 1") else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert_eq!(sb.read("el.log"), "first\nsecond  word\nthird\n");
}

#[test]
fn essential_services_stay_up_unless_forced() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("order.log");
    logging_oneshot(&src, "root", &[], &log);
    logging_oneshot(&src, "ess", &["root"], &log);
    write(&src, "ess/flag-essential", "");
    logging_oneshot(&src, "leaf", &["ess"], &log);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change leaf || exit 1\n\
         rinit-rc -l live -d change root || exit 2\n\
         rinit-rc -l live list | sed 's/^/soft /'\n\
         rinit-rc -l live -D change root || exit 3\n\
         rinit-rc -l live list | sed 's/^/hard /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    let soft: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("soft "))
        .collect();
    assert_eq!(soft, ["ess", "root"], "{out}");
    assert!(!out.contains("hard "), "{out}");
}

/// A `-d` change killed once the longrun was told to stop leaves it
/// counted down (the next `-u` starts it again), never counted up while it
/// is down, which no later change would put right.
#[test]
fn a_stop_killed_midway_never_leaves_a_down_service_counted_up() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    write(&src, "slow/type", "longrun\n");
    exe(
        &src,
        "slow/run",
        &format!(
            "#!/bin/sh\ntrap 'touch {}; sleep 1; exit 0' TERM\ntouch {}\nwhile :; do sleep 0.05; done\n",
            sb.path("got-term").display(),
            sb.path("armed").display()
        ),
    );
    // Up is when run started, not when its shell has set its trap: the
    // stop waits for the trap (`armed`), or TERM would find none.
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live -u change slow || exit 1\n\
         i=0; until [ -e armed ]; do sleep 0.01; i=$((i+1)); [ $i -gt 1000 ] && exit 4; done\n\
         rinit-rc -l live -d change slow & rc=$!\n\
         i=0; until [ -e got-term ]; do sleep 0.01; i=$((i+1)); [ $i -gt 1000 ] && exit 2; done\n\
         kill -9 $rc; wait $rc\n\
         rinit-rc -l live list | sed 's/^/counted /'\n\
         rinit-rc -l live -u change slow || exit 3\n\
         rinit-rc -l live diff && echo consistent",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("counted slow"), "a service being stopped is counted up:\n{out}");
    assert!(out.contains("consistent"), "{out}");
}

#[test]
fn db_queries_and_diff() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc-db -l live type default | sed 's/^/type /'\n\
         rinit-rc-db -l live contents default | sed 's/^/contents /'\n\
         rinit-rc-db -l live dependencies demo-longrun-1 | sed 's/^/deps /'\n\
         rinit-rc-db -l live reverse-dependencies demo-oneshot-1 | sed 's/^/rdeps /'\n\
         rinit-rc-db -l live script demo-oneshot-1 | tr '\\n' ' ' | sed 's/^/script /'; echo\n\
         rinit-rc-db -l live list longruns | sed 's/^/longrun /'\n\
         rinit-rc -l live diff; echo diff-clean=$?\n\
         rinit-svc -u scan/demo-longrun-1 2>/dev/null || s6-svc -u scan/demo-longrun-1\n\
         i=0; until rinit-rc -l live diff >/dev/null; [ $? = 1 ]; do sleep 0.01; i=$((i+1)); [ $i -gt 300 ] && break; done\n\
         rinit-rc -l live diff | sed 's/^/diff /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    for l in [
        "type bundle\n",
        "contents demo-longrun-1\ncontents demo-oneshot-1\n",
        "deps demo-oneshot-1\n",
        "rdeps demo-longrun-1\n",
        "script echo demo-oneshot-1 is up \n",
        "longrun demo-longrun-1\n",
        "diff-clean=0\n",
        "diff +demo-longrun-1\n",
    ] {
        assert!(out.contains(l), "{l:?} missing in:\n{out}");
    }
}

#[test]
fn producer_consumer_pair_is_wired_through_the_scanners_log_pipe() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    let log = sb.path("consumer.log");
    write(&src, "prod/type", "longrun\n");
    exe(
        &src,
        "prod/run",
        "#!/bin/sh\necho hello-from-prod\nexec sleep 1000\n",
    );
    write(&src, "prod/producer-for", "cons\n");
    write(&src, "cons/type", "longrun\n");
    exe(
        &src,
        "cons/run",
        &format!(
            "#!/bin/sh\nwhile read l; do echo \"got $l\" >> {}; done\n",
            log.display()
        ),
    );
    write(&src, "cons/consumer-for", "prod\n");
    write(&src, "cons/pipeline-name", "prodpipe\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -v2 -l live change prod || exit 1\n\
         i=0; until [ -s consumer.log ]; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done\n\
         rinit-rc-db -l live pipeline prod | sed 's/^/pipe /'\n\
         rinit-rc -l live list | sed 's/^/up /'\n\
         rinit-rc -v2 -l live -d change cons || exit 2",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    // The consumer starts first, the producer depends on it.
    in_order(
        &out,
        &[
            "service cons successfully started",
            "service prod: starting",
        ],
    );
    in_order(
        &out,
        &["pipe prod\npipe cons\npipe pipeline-name: prodpipe\n"],
    );
    in_order(&out, &["up cons\nup prod\n"]);
    in_order(
        &out,
        &[
            "service prod successfully stopped",
            "service cons: stopping",
            "service cons successfully stopped",
        ],
    );
    assert_eq!(sb.read("consumer.log"), "got hello-from-prod\n");
    assert!(sb.path("scan/prod/log/run").exists());
    assert!(!sb.path("scan/cons").exists());
}

/// A member's `run`: records each start in `NAME.starts`, then `cmd`.
fn member(src: &Path, sb: &Sandbox, name: &str, cmd: &str) {
    write(src, &format!("{name}/type"), "longrun\n");
    let starts = sb.path(&format!("{name}.starts"));
    exe(src, &format!("{name}/run"), &format!("#!/bin/sh\necho >> {}\nexec {cmd}\n", starts.display()));
}

/// Shell functions for the kill rounds: `batch FD PREFIX FROM TO` writes
/// lines PREFIX<n>; `lines N` waits until `out` has N lines; `kill_down
/// NAME` kills NAME's run, waits for its restart and kills it again, so it
/// stays down a second (a run younger than that is restarted only then):
/// the lines written meanwhile wait in the held pipes. The second kill is
/// sent once the status says up (a run may start before its status is
/// written) and waited for, so that no member dies holding lines it has
/// read.
const ROUNDS: &str = "\
batch() { i=$3; while [ $i -le $4 ]; do echo $2$i; i=$((i+1)); done >&$1; }\n\
lines() { i=0; until [ \"$(cat out 2>/dev/null | wc -l)\" -ge $1 ]; do sleep 0.01; i=$((i+1)); \
[ $i -gt 1500 ] && { echo only $(wc -l < out) of $1 lines; exit 80; }; done; }\n\
starts() { i=0; until [ \"$(wc -l < $1.starts)\" -ge $2 ]; do sleep 0.01; i=$((i+1)); \
[ $i -gt 1500 ] && { echo $1 did not restart; exit 81; }; done; }\n\
kill_down() { n=$(wc -l < $1.starts); rinit-svc -k scan/$1; starts $1 $((n+1)); \
rinit-svwait -u -t 10000 scan/$1 && rinit-svc -wd -T 10000 -k scan/$1 || { echo $1 was not killed; exit 82; }; }\n";

#[test]
fn a_three_stage_pipeline_loses_no_line_while_each_member_is_killed_in_turn() {
    let sb = Sandbox::new();
    three_stages(&sb.path("src"), &sb, "cat");
    let rounds = "mkfifo feed; exec 3<>feed\n\
         rinit-rc -l live change pmc || exit 1\n\
         batch 3 l 1 100; lines 100\n\
         kill_down p; batch 3 l 101 200; lines 200\n\
         kill_down m; batch 3 l 201 300; lines 300\n\
         kill_down c; batch 3 l 301 400; lines 400\n\
         rinit-svc -wd -T 10000 -d scan/c || exit 3\n\
         batch 3 l 401 500; sleep 0.2; rinit-svc -u scan/c; lines 500\n\
         rinit-rc -l live -d change pmc || exit 2";
    if kill_rounds(&sb, rounds).is_none() {
        return;
    }
    let want: Vec<String> = (1..=500).map(|i| format!("l{i}")).collect();
    assert_eq!(lines_of(&sb.read("out")), want);
    for (m, n) in [("p", 3), ("m", 3), ("c", 4)] {
        assert_eq!(sb.read(&format!("{m}.starts")).len(), n, "{m} started {n} times");
    }
    assert!(sb.path("scan/m/pipe-in").exists() && sb.path("scan/c/pipe-in").exists());
}

#[test]
fn a_two_into_one_funnel_loses_no_line_while_each_member_is_killed_in_turn() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    for p in ["x", "y"] {
        member(&src, &sb, p, &format!("cat {}", sb.path(&format!("feed{p}")).display()));
        write(&src, &format!("{p}/producer-for"), "z\n");
    }
    member(&src, &sb, "z", &format!("cat >> {}", sb.path("out").display()));
    write(&src, "z/consumer-for", "x\ny\n");
    write(&src, "z/pipeline-name", "funnel\n");
    let rounds = "mkfifo feedx feedy; exec 3<>feedx 4<>feedy\n\
         rinit-rc -l live change funnel || exit 1\n\
         batch 3 x 1 50; batch 4 y 1 50; lines 100\n\
         kill_down x; batch 3 x 51 100; batch 4 y 51 100; lines 200\n\
         kill_down y; batch 3 x 101 150; batch 4 y 101 150; lines 300\n\
         kill_down z; batch 3 x 151 200; batch 4 y 151 200; lines 400\n\
         rinit-rc -l live -d change funnel || exit 2";
    if kill_rounds(&sb, rounds).is_none() {
        return;
    }
    let got = lines_of(&sb.read("out"));
    for p in ["x", "y"] {
        // Each producer's lines arrive whole and in order, all of them.
        let mine: Vec<&String> = got.iter().filter(|l| l.starts_with(p)).collect();
        let want: Vec<String> = (1..=200).map(|i| format!("{p}{i}")).collect();
        assert_eq!(mine, want.iter().collect::<Vec<_>>());
    }
    assert_eq!(got.len(), 400);
}

/// The pipeline `pmc`: p (reading `feed`) -> m -> c (`c_cmd`, onto `out`).
fn three_stages(src: &Path, sb: &Sandbox, c_cmd: &str) {
    member(src, sb, "p", &format!("cat {}", sb.path("feed").display()));
    write(src, "p/producer-for", "m\n");
    member(src, sb, "m", "cat");
    write(src, "m/consumer-for", "p\n");
    write(src, "m/producer-for", "c\n");
    member(src, sb, "c", &format!("{c_cmd} >> {}", sb.path("out").display()));
    write(src, "c/consumer-for", "m\n");
    write(src, "c/pipeline-name", "pmc\n");
}

#[test]
fn a_live_update_that_replaces_a_consumer_rewires_its_producers() {
    let sb = Sandbox::new();
    three_stages(&sb.path("src"), &sb, "cat");
    // Another run: the new c is installed with a new pipe.
    three_stages(&sb.path("src2"), &sb, "cat -u");
    let rounds = "mkfifo feed; exec 3<>feed\n\
         rinit-rc -l live change pmc || exit 1\n\
         batch 3 l 1 100; lines 100\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         rinit-rc-update -n -l live comp2 | sed 's/^/plan /'\n\
         rinit-rc-update -l live comp2 || exit 3\n\
         batch 3 l 101 200; lines 200\n\
         rinit-rc -l live -d change pmc || exit 4";
    let Some(out) = kill_rounds(&sb, rounds) else {
        return;
    };
    // m and p held the old c's pipe: they are replaced with it.
    in_order(&out, &["plan replace c\nplan replace m\nplan replace p\n"]);
    let want: Vec<String> = (1..=200).map(|i| format!("l{i}")).collect();
    assert_eq!(lines_of(&sb.read("out")), want);
}

/// Runs `rounds` (with ROUNDS' functions) in a namespace; false when it
/// skips; else its output.
fn kill_rounds(sb: &Sandbox, rounds: &str) -> Option<String> {
    let (code, out) = in_namespace(sb, &format!("{ROUNDS}{rounds}\necho done"))?;
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("done\n"), "{out}");
    Some(out)
}

fn lines_of(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

#[test]
fn shutdown_form_stops_everything_that_is_up() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc -v2 -l live -bDa change || exit 2\n\
         rinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    in_order(
        &out,
        &[
            "service demo-longrun-1 successfully stopped",
            "service demo-oneshot-1 successfully stopped",
        ],
    );
    assert!(!out.contains("up "), "{out}");
    let st = status(&sb.path("scan/demo-longrun-1"));
    assert!(st.is_none_or(|s| s.pid == 0), "{st:?}");
}

#[test]
fn init_says_so_when_the_scanner_cannot_take_the_services() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    for i in 0..4 {
        write(&src, &format!("l{i}/type"), "longrun\n");
        exe(&src, &format!("l{i}/run"), "#!/bin/sh\nexec sleep 100\n");
    }
    let ours = bin_dir().join("rinit-scan");
    let scan = if ours.exists() {
        format!("{} -C 2 scan", ours.display())
    } else {
        let Some(s6) = require("s6-svscan") else {
            return;
        };
        format!("{} -c 2 -t0 scan", s6.display())
    };
    let out = ns_run(&format!(
        "cd {}\nmkdir scan\n{scan} >scan.log 2>&1 &\n\
         while [ ! -p scan/.s6-svscan/control ]; do sleep 0.01; done\n\
         rinit-rc-compile comp src || exit 1\nrinit-rc-init -t 1000 -c comp -l live scan; echo rc=$?",
        sb.dir.display()
    ));
    let out = text(&out);
    assert!(
        out.contains("rinit-rc-init: fatal: the scanner did not supervise "),
        "{out}"
    );
    assert!(out.contains("is its service capacity exceeded?"), "{out}");
    assert!(out.contains("rc=111"), "{out}");
}

fn longrun(src: &Path, name: &str, says: &str, log: &Path) {
    write(src, &format!("{name}/type"), "longrun\n");
    exe(
        src,
        &format!("{name}/run"),
        &format!(
            "#!/bin/sh\necho {says} >> {}\nexec sleep 1000\n",
            log.display()
        ),
    );
}

#[test]
fn live_update_replaces_changed_services_and_keeps_the_rest_running() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    let v1 = sb.path("src");
    let v2 = sb.path("src2");
    logging_oneshot(&v1, "base", &[], &sb.path("base.log"));
    logging_oneshot(&v2, "base", &[], &sb.path("base.log"));
    for v in [&v1, &v2] {
        longrun(v, "keep", "keep-runs", &log);
        write(v, "keep/dependencies", "base\n");
    }
    longrun(&v1, "changed", "changed-v1", &log);
    longrun(&v2, "changed", "changed-v2", &log);
    longrun(&v1, "gone", "gone-runs", &log);
    longrun(&v2, "fresh", "fresh-runs", &log);
    bundle(&v1, "default", &["keep", "changed", "gone"]);
    bundle(&v2, "default", &["keep", "changed", "fresh"]);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         cp scan/keep/supervise/status keep.before\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         rinit-rc-update -v2 -l live comp2; echo update-rc=$?\n\
         i=0; until grep -q changed-v2 runs.log; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done\n\
         rinit-rc -l live list | sed 's/^/up /'\n\
         rinit-rc-db -l live list longruns | sed 's/^/db /'\n\
         ls scan | sed 's/^/scan /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("update-rc=0"), "{out}");
    let up: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("up ")).collect();
    assert_eq!(up, ["base", "changed", "keep"], "{out}");
    let db: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("db ")).collect();
    assert_eq!(db, ["changed", "fresh", "keep"], "{out}");
    let scan: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("scan "))
        .collect();
    assert_eq!(scan, ["changed", "fresh", "keep", "rinit-oneshot-runner"], "{out}");
    in_order(
        &out,
        &[
            "service changed: stopping",
            "service changed successfully stopped",
            "service changed: starting",
        ],
    );
    let runs = sb.read("runs.log");
    assert!(
        runs.contains("changed-v1\n") && runs.contains("changed-v2\n"),
        "{runs}"
    );
    assert_eq!(
        runs.matches("keep-runs").count(),
        1,
        "keep was restarted: {runs}"
    );
    assert!(!runs.contains("fresh-runs"), "{runs}");
    let pid = |b: Vec<u8>| u64::from_be_bytes(b[24..32].try_into().unwrap());
    let before = pid(fs::read(sb.path("keep.before")).unwrap());
    let after = pid(fs::read(sb.path("scan/keep/supervise/status")).unwrap());
    assert!(
        before != 0 && before == after,
        "keep's pid changed: {before} -> {after}"
    );
}

#[test]
fn the_live_lock_is_private_and_shutdown_goes_on_in_order_without_it() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    // A lock that is never released: the shutdown form must still stop
    // every service, in order, once it has waited long enough.
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         echo \"lock mode $(stat -c %a live/lock)\"\n\
         flock -x live/lock sh -c 'touch held; exec sleep 300' &\n\
         i=0; while [ ! -e held ]; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && exit 3; done\n\
         rinit-rc -l live -d change demo-oneshot-1 && exit 4\n\
         rinit-rc -v2 -l live -bDa change || exit 2",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("lock mode 600\n"), "{out}");
    assert!(out.contains("rinit-rc: fatal: live directory live is locked by another rinit-rc (use -b to wait)\n"), "{out}");
    assert!(
        out.contains("rinit-rc: warning: live directory live is still locked by another rinit-rc: going on without the lock\n"),
        "{out}"
    );
    in_order(&out, &["service demo-longrun-1 successfully stopped", "service demo-oneshot-1 successfully stopped"]);
    let st = status(&sb.path("scan/demo-longrun-1"));
    assert!(st.is_none_or(|s| s.pid == 0), "{st:?}");
}

/// Runs `args` under `timeout 10`: a program blocked on a FIFO is ended
/// (exit 124) instead of hanging the test.
fn bounded(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let o = Command::new("timeout").arg("10").args(args).env("PATH", test_path()).stdin(Stdio::null()).output().unwrap();
    (o.status.code().unwrap_or(-1), text(&o))
}

fn mkfifo(p: &Path) {
    let _ = fs::remove_file(p);
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

#[test]
fn a_fifo_where_a_file_is_expected_is_refused_without_blocking() {
    let sb = Sandbox::new();
    for file in ["type", "up"] {
        copy_tree(&demo_src(), &sb.path("src"));
        mkfifo(&sb.path(&format!("src/demo-oneshot-1/{file}")));
        let (code, out) = bounded(args![bin("rinit-rc-compile"), sb.path(&format!("comp-{file}")), sb.path("src")]);
        assert_eq!(code, 1, "{file}: {out}");
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains(&format!("demo-oneshot-1/{file}")) && out.contains("Not a regular file"), "{out}");
        fs::remove_dir_all(sb.path("src")).unwrap();
    }
    copy_tree(&demo_src(), &sb.path("src"));
    assert!(compile(&sb, "comp", &["src"]).status.success());
    mkfifo(&sb.path("comp/db"));
    let (code, out) = bounded(args![bin("rinit-rc-db"), "-c", sb.path("comp"), "list", "all"]);
    assert_eq!(code, 111, "{out}");
    assert!(out.contains("Not a regular file"), "{out}");
}

#[test]
fn a_fifo_or_garbage_as_the_live_state_is_refused() {
    let sb = Sandbox::new();
    copy_tree(&demo_src(), &sb.path("src"));
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rm live/state; mkfifo live/state\n\
         timeout 10 rinit-rc -l live list; echo \"fifo: $?\"\n\
         rm live/state; printf 'xyz' > live/state\n\
         timeout 10 rinit-rc -l live list; echo \"garbage: $?\"",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rinit-rc: fatal: unable to read live/state: Not a regular file\nfifo: 111\n"), "{out}");
    assert!(out.contains("garbage: 111\n"), "{out}");
}

/// FNV-1a 64 of a database with its checksum field (bytes 16..24) as zero,
/// written back into that field: a database edited by hand that only its
/// contents can give away.
fn reseal(db: &mut [u8]) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in db.iter().enumerate() {
        let c = if (16..24).contains(&i) { 0 } else { c };
        h = (h ^ c as u64).wrapping_mul(0x0100_0000_01b3);
    }
    db[16..24].copy_from_slice(&h.to_le_bytes());
}

#[test]
fn a_checksum_valid_database_holding_a_cycle_is_refused() {
    let sb = Sandbox::new();
    let log = sb.path("log");
    logging_oneshot(&sb.path("src"), "a", &["b"], &log);
    logging_oneshot(&sb.path("src"), "b", &[], &log);
    assert!(compile(&sb, "comp", &["src"]).status.success());
    let mut db = fs::read(sb.path("comp/db")).unwrap();
    let word = |db: &[u8], off: usize| u32::from_le_bytes(db[off..off + 4].try_into().unwrap()) as usize;
    let n = word(&db, 24);
    assert_eq!(n, 2);
    // Records at the offsets in the table from byte 32: a byte of kind and
    // flags, the reverse dependencies and the dependencies (u16 count, u16
    // indices each), then the name and the rest. a depends on b.
    let (rec_a, rec_b) = (word(&db, 32), word(&db, 36));
    assert_eq!(db[rec_a + 1..rec_a + 7], [0, 0, 1, 0, 1, 0], "a: no reverse dependency, depends on b");
    assert_eq!(db[rec_b + 1..rec_b + 7], [1, 0, 0, 0, 0, 0], "b: a depends on it, no dependency");
    // Make a depend on itself, and give it b's reverse list ([a]), so the
    // lists still agree: a's record grows by an index, b's shrinks by one.
    let mut cyc = db.clone();
    cyc[rec_a + 5..rec_a + 7].copy_from_slice(&[0, 0]);
    let mut a: Vec<u8> = cyc[rec_a..rec_b].to_vec();
    a.splice(1..3, [1, 0, 0, 0]);
    let mut b = cyc[rec_b..].to_vec();
    b.splice(1..5, [0, 0]);
    cyc.truncate(rec_a);
    cyc.extend(a);
    cyc.extend(b);
    cyc[36..40].copy_from_slice(&(rec_b as u32 + 2).to_le_bytes());
    reseal(&mut cyc);
    fs::write(sb.path("comp/db"), &cyc).unwrap();
    let (code, out) = bounded(args![bin("rinit-rc-db"), "-c", sb.path("comp"), "list", "all"]);
    assert_eq!(code, 111, "{out}");
    assert!(out.contains("corrupt database (dependency cycle)"), "{out}");
    // The same with the reverse lists left as they were: the lists disagree.
    db[rec_a + 5..rec_a + 7].copy_from_slice(&[0, 0]);
    reseal(&mut db);
    fs::write(sb.path("comp/db"), &db).unwrap();
    let (code, out) = bounded(args![bin("rinit-rc-db"), "-c", sb.path("comp"), "list", "all"]);
    assert_eq!(code, 111, "{out}");
    assert!(out.contains("corrupt database (reverse dependencies)"), "{out}");
}

#[test]
fn a_longrun_never_ready_fails_the_change_at_its_timeout_ready() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    write(&src, "mute/type", "longrun\n");
    exe(&src, "mute/run", "#!/bin/sh\nexec sleep 1000\n");
    write(&src, "mute/notify-socket", "");
    write(&src, "mute/timeout-ready", "300\n");
    // rinit-rc's own deadline is far: the supervisor's `T` ends the wait.
    let Some((code, out)) = in_namespace(
        &sb,
        "t0=$(date +%s%N)\nrinit-rc -t 30000 -l live change mute; echo rc=$?\necho ms=$(( ($(date +%s%N) - t0) / 1000000 ))",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rinit-rc: warning: unable to start service mute: not ready within its timeout-ready"), "{out}");
    assert!(out.contains("rc=1"), "{out}");
    let ms: u64 = out.lines().find_map(|l| l.strip_prefix("ms=")).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    assert!(ms < 10_000, "failed at once, not at rinit-rc's 30 s: {ms} ms\n{out}");
}

// ---------------------------------------------------------------- the oneshot runner

/// Waits (in the namespace's shell) until `cond` holds, at most `secs`.
fn sh_wait(cond: &str, secs: u32) -> String {
    format!("i=0; until {cond}; do sleep 0.02; i=$((i+1)); [ $i -gt {} ] && break; done", secs * 50)
}

#[test]
fn a_oneshots_output_reaches_the_catch_all_logger_not_its_caller() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    write(&src, "talk/type", "oneshot\n");
    write(&src, "talk/up", "/bin/sh -c \"echo said-by-the-oneshot; echo said-on-stderr >&2\"\n");
    let Some(scan) = scanner() else { return };
    // Stage 1's wiring in small: the scanner's output goes into a FIFO
    // that a catch-all rinit-log reads.
    let out = ns_run(&format!(
        "cd {dir}\nmkdir -p scan catchall\nmkfifo fifo\n\
         rinit-log -- t ./catchall < fifo &\n\
         {scan} > fifo 2>&1 &\n\
         {}\n\
         rinit-rc-compile comp src && rinit-rc-init -c comp -l live scan || exit 91\n\
         rinit-rc -l live change talk > caller.out 2>&1; echo rc=$?\n\
         {}\n\
         echo \"caller: $(cat caller.out)\"\n\
         cut -d' ' -f2- catchall/current | sed 's/^/logger: /'",
        sh_wait("[ -p scan/.s6-svscan/control ]", 20),
        sh_wait("grep -q said-on-stderr catchall/current 2>/dev/null", 10),
        dir = sb.dir.display()
    ));
    let out = text(&out);
    assert!(out.contains("rc=0\n"), "{out}");
    assert!(out.contains("caller: \n"), "{out}");
    assert!(out.contains("logger: said-by-the-oneshot\n"), "{out}");
    assert!(out.contains("logger: said-on-stderr\n"), "{out}");
}

/// A oneshot `slow` whose `up` marks `started`, takes a second, then
/// appends a line to `runs` and marks `finished`.
fn slow_oneshot(sb: &Sandbox) {
    let d = sb.dir.display();
    write(&sb.path("src"), "slow/type", "oneshot\n");
    write(
        &sb.path("src"),
        "slow/up",
        &format!("/bin/sh -c \"touch {d}/started; sleep 1; echo ran >> {d}/runs; touch {d}/finished\"\n"),
    );
}

#[test]
fn a_oneshot_still_running_when_its_rinit_rc_is_killed_completes_and_is_counted_up_at_the_next_call() {
    let sb = Sandbox::new();
    slow_oneshot(&sb);
    let Some((code, out)) = in_namespace(
        &sb,
        &format!(
            "rinit-rc -l live change slow & rc=$!\n{}\nkill -9 $rc\n\
             echo \"at the kill: $(rinit-rc -l live list)\"\n\
             {}\n{}\n\
             echo \"afterwards: $(rinit-rc -l live list)\"\n\
             rinit-rc -v2 -l live change slow || exit 3\n\
             echo \"runs: $(wc -l < runs)\"\ncat scan.log",
            sh_wait("[ -e started ]", 10),
            sh_wait("[ -e finished ]", 10),
            sh_wait("rinit-rc -l live list | grep -q slow", 5),
        ),
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at the kill: \n"), "{out}");
    assert!(out.contains("afterwards: slow\n"), "{out}");
    assert!(out.contains("runs: 1\n"), "{out}");
    assert!(!out.contains("service slow: starting"), "{out}");
    assert!(out.contains("rinit-oneshot-runner: info: service slow successfully started after its caller had gone"), "{out}");
}

#[test]
fn a_rinit_rc_asking_for_a_oneshot_a_killed_one_left_running_gets_its_result_without_a_second_run() {
    let sb = Sandbox::new();
    slow_oneshot(&sb);
    let Some((code, out)) = in_namespace(
        &sb,
        &format!(
            "rinit-rc -l live change slow & rc=$!\n{}\nkill -9 $rc\nwait $rc\n\
             rinit-rc -l live change slow; echo \"second: $? $([ -e finished ] && echo finished)\"\n\
             echo \"listed: $(rinit-rc -l live list)\"\necho \"runs: $(wc -l < runs)\"",
            sh_wait("[ -e started ]", 10),
        ),
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("second: 0 finished\n"), "{out}");
    assert!(out.contains("listed: slow\n"), "{out}");
    assert!(out.contains("runs: 1\n"), "{out}");
}

#[test]
fn a_oneshot_whose_rinit_rc_was_killed_is_still_killed_at_its_timeout() {
    let sb = Sandbox::new();
    let d = sb.dir.display();
    write(&sb.path("src"), "stuck/type", "oneshot\n");
    write(&sb.path("src"), "stuck/up", &format!("/bin/sh -c \"echo $$ > {d}/started.new; mv {d}/started.new {d}/started; exec sleep 300\"\n"));
    write(&sb.path("src"), "stuck/timeout-up", "1000\n");
    let Some((code, out)) = in_namespace(
        &sb,
        &format!(
            "rinit-rc -l live change stuck & rc=$!\n{}\nkill -9 $rc\n\
             echo \"at the kill: $(kill -0 $(cat started) && echo running)\"\n{}\n\
             echo \"left: $(kill -0 $(cat started) 2>/dev/null && echo running)\"\necho \"listed: $(rinit-rc -l live list)\"\ncat scan.log",
            sh_wait("[ -e started ]", 10),
            sh_wait("! kill -0 $(cat started) 2>/dev/null", 5),
        ),
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at the kill: running\n"), "{out}");
    assert!(out.contains("left: \n"), "{out}");
    assert!(out.contains("listed: \n"), "{out}");
    assert!(out.contains("rinit-oneshot-runner: warning: service stuck: up script timed out after its caller had gone"), "{out}");
}

#[test]
fn a_runner_killed_mid_run_fails_the_oneshot_at_once_and_the_next_change_finds_it_restarted() {
    let sb = Sandbox::new();
    let d = sb.dir.display();
    write(&sb.path("src"), "stuck/type", "oneshot\n");
    write(&sb.path("src"), "stuck/up", &format!("/bin/sh -c \"echo $$ > {d}/started.new; mv {d}/started.new {d}/started; exec sleep 300\"\n"));
    logging_oneshot(&sb.path("src"), "quick", &[], &sb.path("log"));
    let Some((code, out)) = in_namespace(
        &sb,
        &format!(
            "start=$(date +%s)\n\
             rinit-rc -l live change stuck > caller.out 2>&1 & rc=$!\n{}\n\
             kill -9 $(rinit-svstat -o pid scan/rinit-oneshot-runner)\n\
             wait $rc; echo \"caller: $? after $(( $(date +%s) - start )) s\"; cat caller.out\n\
             {}\necho \"left: $(kill -0 $(cat started) 2>/dev/null && echo running)\"\n\
             rinit-rc -l live change quick; echo \"next: $?\"; cat log",
            sh_wait("[ -e started ]", 10),
            sh_wait("! kill -0 $(cat started) 2>/dev/null", 5),
        ),
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rinit-rc: warning: unable to start service stuck: the oneshot runner exited\n"), "{out}");
    let took: u64 = out.split("caller: 1 after ").nth(1).and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok()).unwrap_or(99);
    assert!(took < 10, "{out}");
    assert!(out.contains("left: \n"), "{out}");
    assert!(out.contains("next: 0\nquick\n"), "{out}");
}

#[test]
fn without_a_runner_a_oneshot_fails_with_one_clear_line() {
    let sb = Sandbox::new();
    logging_oneshot(&sb.path("src"), "quick", &[], &sb.path("log"));
    let Some((code, out)) = in_namespace(
        &sb,
        "mv scan/rinit-oneshot-runner scan/.gone && rinit-svscanctl -a scan\n\
         rinit-svc -dx scan/.gone; sleep 0.5\n\
         rinit-rc -l live change quick; echo \"rc=$?\"",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rinit-rc: warning: unable to start service quick: no oneshot runner: rinit-oneshot-runner is not supervised in the scan directory (rinit-rc-init installs it): "),
        "{out}"
    );
    assert!(out.contains("rc=1\n"), "{out}");
}

#[test]
fn a_runner_directory_open_to_others_or_a_symlink_is_refused() {
    let sb = Sandbox::new();
    logging_oneshot(&sb.path("src"), "quick", &[], &sb.path("log"));
    let Some((code, out)) = in_namespace(
        &sb,
        // rinit-rc-init waits for the runner's supervisor, not for its socket.
        "i=0; while [ ! -S live/oneshot/socket ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done\n\
         echo \"mode $(stat -c %a live/oneshot) $(stat -c %a live/oneshot/socket)\"\n\
         chmod 0755 live/oneshot\nrinit-rc -l live change quick; echo \"open: $?\"\n\
         chmod 0700 live/oneshot\nmv live/oneshot live/real && ln -s real live/oneshot\n\
         rinit-rc -l live change quick; echo \"link: $?\"",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mode 700 700\n"), "{out}");
    assert!(
        out.contains("rinit-rc: warning: unable to start service quick: unable to reach the oneshot runner: Operation not permitted\nopen: 1\n"),
        "{out}"
    );
    assert!(
        out.contains("rinit-rc: warning: unable to start service quick: unable to reach the oneshot runner: Not a directory\nlink: 1\n"),
        "{out}"
    );
    assert!(!sb.path("log").exists(), "{out}");
}

/// A oneshot `name` whose up and down append `up-TAG` and `down-TAG` to `log`.
fn tagged_oneshot(src: &Path, name: &str, tag: &str, log: &Path) {
    write(src, &format!("{name}/type"), "oneshot\n");
    for dir in ["up", "down"] {
        write(
            src,
            &format!("{name}/{dir}"),
            &format!("/bin/sh -c \"echo {name}-{dir}-{tag} >> {}\"\n", log.display()),
        );
    }
}

/// The pid in a supervise/status file.
fn status_pid(sb: &Sandbox, rel: &str) -> u64 {
    let b = fs::read(sb.path(rel)).unwrap();
    u64::from_be_bytes(b[24..32].try_into().unwrap())
}

fn prefixed<'a>(out: &'a str, p: &str) -> Vec<&'a str> {
    out.lines().filter_map(|l| l.strip_prefix(p)).collect()
}

#[test]
fn update_renames_services_named_in_the_conversion_file_without_running_them_again_and_waits_for_the_lock_with_b() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    let (v1, v2) = (sb.path("src"), sb.path("src2"));
    longrun(&v1, "daemon", "daemon-runs", &log);
    longrun(&v2, "daemon2", "daemon-runs", &log);
    tagged_oneshot(&v1, "setup", "same", &log);
    copy_tree(&v1.join("setup"), &v2.join("setup2"));
    bundle(&v1, "default", &["daemon", "setup"]);
    bundle(&v2, "default", &["daemon2", "setup2"]);
    write(&sb.dir, "conv", "# renamed in this release\ndaemon -> daemon2\n\"setup\" -> setup2 # quoted\n\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         flock live/lock sh -c 'touch held; sleep 0.3' &\n\
         until [ -e held ]; do sleep 0.01; done\n\
         rinit-rc-update -l live -f conv comp2 2>&1 | sed 's/^/unblocked /'\n\
         rinit-rc-update -b -l live -f conv comp2; echo update-rc=$?\n\
         rinit-rc -l live list | sed 's/^/up /'\n\
         ls scan | sed 's/^/scan /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("update-rc=0"), "{out}");
    assert_eq!(prefixed(&out, "unblocked "), ["rinit-rc-update: fatal: live directory live is locked by another rinit-rc"], "{out}");
    assert_eq!(prefixed(&out, "up "), ["daemon2", "setup2"], "{out}");
    assert_eq!(prefixed(&out, "scan "), ["daemon2", "rinit-oneshot-runner"], "{out}");
    let runs = sb.read("runs.log");
    // The oneshot kept its state under its new name: neither script ran again.
    assert_eq!(runs.matches("setup-up-same").count(), 1, "{runs}");
    assert!(!runs.contains("down"), "{runs}");
    // The longrun lives under another name in the scan directory: it runs again there.
    assert_eq!(runs.matches("daemon-runs").count(), 2, "{runs}");
}

#[test]
fn a_changed_oneshot_goes_down_with_its_old_script_and_up_with_its_new_one() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    let (v1, v2) = (sb.path("src"), sb.path("src2"));
    tagged_oneshot(&v1, "conf", "v1", &log);
    tagged_oneshot(&v2, "conf", "v2", &log);
    tagged_oneshot(&v1, "same", "v1", &log);
    tagged_oneshot(&v2, "same", "v1", &log);
    tagged_oneshot(&v1, "gone", "v1", &log);
    // New in v2: `fresh` because the changed `conf` now needs it, not `idle`.
    tagged_oneshot(&v2, "fresh", "v2", &log);
    tagged_oneshot(&v2, "idle", "v2", &log);
    write(&v2, "conf/dependencies", "fresh\n");
    bundle(&v1, "default", &["conf", "same", "gone"]);
    bundle(&v2, "default", &["conf", "same", "idle"]);
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         rinit-rc-update -n -l live comp2 | sed 's/^/plan /'\n\
         rinit-rc-update -l live comp2; echo update-rc=$?\n\
         rinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("update-rc=0"), "{out}");
    assert!(out.contains("plan replace conf\n") && out.contains("plan replace gone\n"), "{out}");
    assert!(!out.contains("plan replace same"), "{out}");
    assert_eq!(prefixed(&out, "up "), ["conf", "fresh", "same"], "{out}");
    let runs = lines_of(&sb.read("runs.log"));
    let at = |l: &str| runs.iter().position(|r| r == l).unwrap_or_else(|| panic!("no {l}: {runs:?}"));
    // Down with the old script, up with the new one; what vanished is
    // stopped before anything of the new database starts.
    assert!(at("conf-down-v1") < at("conf-up-v2"), "{runs:?}");
    assert!(at("gone-down-v1") < at("fresh-up-v2"), "{runs:?}");
    assert!(at("fresh-up-v2") < at("conf-up-v2"), "{runs:?}");
    assert_eq!(runs.iter().filter(|r| r.starts_with("same-")).count(), 1, "{runs:?}");
    assert!(!runs.iter().any(|r| r.starts_with("idle-")), "{runs:?}");
}

#[test]
fn restart_in_the_conversion_file_restarts_an_unchanged_longrun_and_only_it() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    let (v1, v2) = (sb.path("src"), sb.path("src2"));
    for v in [&v1, &v2] {
        longrun(v, "kick", "kick-runs", &log);
        longrun(v, "calm", "calm-runs", &log);
        bundle(v, "default", &["kick", "calm"]);
    }
    // A `finish` added is a changed definition.
    longrun(&v1, "notif", "notif-runs", &log);
    longrun(&v2, "notif", "notif-runs", &log);
    exe(&v2, "notif/finish", "#!/bin/sh\nexit 0\n");
    write(&sb.dir, "conv", "kick restart\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default notif || exit 1\n\
         cp scan/kick/supervise/status kick.before; cp scan/calm/supervise/status calm.before\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         rinit-rc-update -l live -f conv comp2; echo update-rc=$?\n\
         i=0; until [ $(grep -c kick-runs runs.log) = 2 ]; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done\n\
         i=0; until [ $(grep -c notif-runs runs.log) = 2 ]; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && break; done\n\
         rinit-rc -l live list | sed 's/^/up /'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("update-rc=0"), "{out}");
    let runs = sb.read("runs.log");
    assert_eq!(runs.matches("kick-runs").count(), 2, "{runs}");
    assert_eq!(runs.matches("notif-runs").count(), 2, "{runs}");
    assert_eq!(runs.matches("calm-runs").count(), 1, "{runs}");
    assert_ne!(status_pid(&sb, "kick.before"), status_pid(&sb, "scan/kick/supervise/status"));
    assert_eq!(status_pid(&sb, "calm.before"), status_pid(&sb, "scan/calm/supervise/status"));
}

/// Two sources (`src`, `src2`) alike: oneshots `a` and `c`, bundle `b` of `a`.
fn oneshots_a_and_c_in_bundle_b() -> Sandbox {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    for v in [sb.path("src"), sb.path("src2")] {
        tagged_oneshot(&v, "a", "v", &log);
        tagged_oneshot(&v, "c", "v", &log);
        bundle(&v, "b", &["a"]);
    }
    sb
}

#[test]
fn a_conversion_file_naming_an_unknown_service_is_refused_with_its_line() {
    let sb = oneshots_a_and_c_in_bundle_b();
    write(&sb.dir, "unknown", "a\nghost restart\n");
    write(&sb.dir, "merge", "a -> c\n");
    write(&sb.dir, "bundle", "b restart\n");
    write(&sb.dir, "target", "a -> nowhere\n");
    write(&sb.dir, "word", "a reload\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc-compile comp2 src2 || exit 2\n\
         for f in unknown bundle target word merge; do rinit-rc-update -l live -f $f comp2; echo $f=$?; done\n\
         readlink live/compiled | sed 's,.*/,at ,'",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rinit-rc-update: fatal: conversion file unknown line 2: no service of the live database is called ghost\nunknown=3"), "{out}");
    assert!(out.contains("conversion file bundle line 1: only atomic services are converted, not the bundle b\nbundle=5"), "{out}");
    assert!(out.contains("conversion file target line 1: no service of the new database is called nowhere\ntarget=3"), "{out}");
    assert!(out.contains("conversion file word line 1: unknown word reload\nword=100"), "{out}");
    assert!(out.contains("rinit-rc-update: fatal: c and a would both become c\nmerge=100"), "{out}");
    assert!(out.contains("at comp\n"), "{out}");
}

#[test]
fn an_update_killed_at_any_step_leaves_one_database_or_the_other_and_a_rerun_finishes_it() {
    let sb = Sandbox::new();
    let log = sb.path("runs.log");
    let (v1, v2) = (sb.path("src"), sb.path("src2"));
    for v in [&v1, &v2] {
        longrun(v, "keep", "keep-runs", &log);
    }
    longrun(&v1, "changed", "changed-v1", &log);
    longrun(&v2, "changed", "changed-v2", &log);
    longrun(&v1, "gone", "gone-runs", &log);
    longrun(&v1, "before", "named-runs", &log);
    longrun(&v2, "after", "named-runs", &log);
    longrun(&v2, "fresh", "fresh-runs", &log);
    write(&v2, "changed/dependencies", "fresh\n");
    tagged_oneshot(&v1, "conf", "v1", &log);
    tagged_oneshot(&v2, "conf", "v2", &log);
    tagged_oneshot(&v2, "idle", "v2", &log);
    bundle(&v1, "default", &["keep", "changed", "gone", "before", "conf"]);
    bundle(&v2, "default", &["keep", "changed", "after", "conf", "idle"]);
    write(&sb.dir, "conv", "before -> after\n");
    write(&sb.dir, "back", "after -> before\n");
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc -l live change default || exit 1\n\
         rinit-rc-compile comp2 src2 || exit 2\n\
         n=1\n\
         while [ $n -lt 100 ]; do\n\
           RINIT_RC_UPDATE_STOP_AT=$n rinit-rc-update -l live -f conv comp2 >/dev/null; rc=$?\n\
           [ $rc = 0 ] && break\n\
           [ $rc = 137 ] || { echo step $n: rc=$rc; exit 3; }\n\
           echo step $n: at $(readlink live/compiled | sed 's,.*/,,')\n\
           rinit-status -l live scan >/dev/null || { echo step $n: a reader without the lock is refused; exit 9; }\n\
           rinit-rc -l live list >/dev/null || { echo step $n: the live state is refused; exit 4; }\n\
           ls live | grep -q next && { echo step $n: a switch left half done; exit 5; }\n\
           rinit-rc-update -l live -f conv comp2 >/dev/null || { echo step $n: the rerun failed; exit 6; }\n\
           echo step $n: up $(rinit-rc -l live list) at $(readlink live/compiled | sed 's,.*/,,')\n\
           rinit-rc-update -l live -f back comp >/dev/null || { echo step $n: no way back; exit 7; }\n\
           rinit-rc -l live change default || exit 8\n\
           n=$((n+1))\n\
         done\n\
         echo steps $n\n\
         echo last: up $(rinit-rc -l live list) at $(readlink live/compiled | sed 's,.*/,,')",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    let steps: u32 = prefixed(&out, "steps ")[0].parse().unwrap();
    assert!(steps > 12, "{out}");
    let want = "up after changed conf fresh keep at comp2";
    for n in 1..steps {
        let at = format!("step {n}: at ");
        let l = out.lines().find(|l| l.starts_with(&at)).unwrap_or_else(|| panic!("{at}: {out}"));
        assert!(l.ends_with(" comp") || l.ends_with(" comp2"), "{out}");
        assert!(out.contains(&format!("step {n}: {want}\n")), "step {n}: {out}");
    }
    // Killed late, it was on the new database; killed early, on the old one.
    assert!(out.contains("step 1: at comp\n"), "{out}");
    assert!(out.contains(&format!("step {}: at comp2\n", steps - 1)), "{out}");
    assert!(out.contains(&format!("last: {want}\n")), "{out}");
}

#[test]
fn random_conversion_files_are_refused_in_one_line_or_accepted_never_crash() {
    let sb = oneshots_a_and_c_in_bundle_b();
    let words: [&[u8]; 14] = [
        b"a", b"c", b"b", b"->", b"restart", b"#", b"\"", b"\\", b"{", b"}", b"\n", b" ", b"\0", b"\xff",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    fs::create_dir_all(sb.path("fz")).unwrap();
    for k in 0..300 {
        let n = next() % 12;
        let mut f = Vec::new();
        for _ in 0..n {
            f.extend_from_slice(words[(next() % words.len() as u64) as usize]);
            if next() % 2 == 0 {
                f.push(b' ');
            }
        }
        fs::write(sb.path(&format!("fz/{k}")), f).unwrap();
    }
    let Some((code, out)) = in_namespace(
        &sb,
        "rinit-rc-compile comp2 src2 || exit 2\n\
         for f in fz/*; do rinit-rc-update -n -l live -f $f comp2 >/dev/null 2>err; echo \"fz $f $? $(wc -l < err)\"; done",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    let runs = prefixed(&out, "fz ");
    assert_eq!(runs.len(), 300, "{out}");
    for r in runs {
        let f: Vec<&str> = r.split(' ').collect();
        let (rc, lines) = (f[1], f[2]);
        assert!(["0", "3", "5", "100"].contains(&rc), "{r}: {out}");
        assert_eq!(lines, if rc == "0" { "0" } else { "1" }, "{r}: {out}");
    }
}
