//! The container entrypoint with zero configuration: `rinit -- CMD` with no
//! basedir, as pid 1 of fresh namespaces and as a subreaper under another
//! pid 1; services and an rc tree without a build step; the exit-code
//! policy; signals; a read-only root under runc.

use rinit_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rinit() -> PathBuf {
    bin("rinit")
}

/// Runs `args` as pid 1 to its end: exit code and output.
fn run_pid1(sb: &mut Sandbox, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut p = sb.spawn_pid1(args);
    let st = p.wait_timeout(Duration::from_secs(15)).expect("rinit to end");
    (st.code(), p.output())
}

/// Runs a shell script in fresh namespaces, not as pid 1 (a shell is):
/// rinit's own mount namespace is the shell's.
fn run_sh(sb: &mut Sandbox, script: &str) -> (Option<i32>, String) {
    let mut p = sb.spawn(args!["/bin/sh", "-c", script]);
    let st = p.wait_timeout(Duration::from_secs(15)).expect("the script to end");
    (st.code(), p.output())
}

// ---------------------------------------------------------------- zero configuration

#[test]
fn cmds_exit_code_becomes_the_containers_and_rinit_prints_nothing() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "--", "/bin/sh", "-c", "echo main program; exit 7"]);
    assert_eq!(code, Some(7), "{out}");
    assert_eq!(out, "main program\n");
}

#[test]
fn a_cmd_killed_by_a_signal_gives_128_plus_the_signal() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "--", "/bin/sh", "-c", "kill -USR1 $$"]);
    // 138 (SIGUSR1 is 10), on MIPS 144 (16).
    assert_eq!(code, Some(128 + bin_signal("USR1")), "{out}");
}

#[test]
fn a_missing_cmd_is_one_line_and_127() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "--", "/nonexistent/cmd"]);
    assert_eq!(code, Some(127), "{out}");
    assert_eq!(out, "rinit: fatal: unable to run /nonexistent/cmd: No such file or directory\n");
}

#[test]
fn a_cmd_that_is_not_executable_is_one_line_and_126() {
    let mut sb = Sandbox::new();
    let f = sb.write("plain", "not a program\n");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "--", f]);
    assert_eq!(code, Some(126), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("rinit: fatal: unable to run ") && out.contains("Permission denied"), "{out}");
}

#[test]
fn verbosity_2_from_the_option_or_the_environment_shows_the_info_lines() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-v", "2", "--", "/bin/true"]);
    assert_eq!(code, Some(0), "{out}");
    assert_in_order(&out, &["rinit: info: container entrypoint as pid 1", "starting /bin/true", "CMD exited 0", "exiting with code 0"]);
    let (code, out) = run_pid1(&mut sb, args!["env", "RINIT_VERBOSITY=2", rinit(), "--", "/bin/true"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rinit: info: exiting with code 0"), "{out}");
}

#[test]
fn e_maps_a_code_of_cmd_to_0_and_the_code_is_written_to_run() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-e", "3", "-e", "4", "--", "/bin/sh", "-c", "exit 4"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-e", "3", "--", "/bin/sh", "-c", "exit 5"]);
    assert_eq!(code, Some(5), "{out}");
    // Not pid 1, on the shell's /run: the file stays after rinit.
    let (code, out) = run_sh(&mut sb, &format!("mount -t tmpfs tmpfs /run && {} -- /bin/sh -c 'exit 9'; echo code=$? file=$(cat /run/rinit/exitcode)", rinit().display()));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("code=9 file=9"), "{out}");
}

#[test]
fn bad_options_are_a_usage_error() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-f", "sometimes", "--", "/bin/true"]);
    assert_eq!(code, Some(100), "{out}");
    assert!(out.starts_with("rinit: usage: rinit [ -v verbosity ]"), "{out}");
}

// ---------------------------------------------------------------- signals

#[test]
fn term_stops_cmd_and_the_container_exits_143() {
    let mut sb = Sandbox::new();
    let mut p = sb.spawn_pid1(args![rinit(), "--", "/bin/sh", "-c", "echo started; exec sleep 1000"]);
    wait_until("CMD to start", SOON, || p.output().contains("started"));
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end after SIGTERM");
    assert_eq!(st.code(), Some(143), "{}", p.output());
}

#[test]
fn without_cmd_it_runs_until_signalled_and_exits_0() {
    let mut sb = Sandbox::new();
    let mut p = sb.spawn_pid1(args![rinit(), "-v", "2", "--"]);
    wait_until("rinit to be up", SOON, || p.output().contains("container entrypoint"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(p.is_running(), "{}", p.output());
    p.signal(2);
    let st = p.wait_timeout(SOON).expect("rinit to end after SIGINT");
    assert_eq!(st.code(), Some(0), "{}", p.output());
}

#[test]
fn hup_quit_usr1_usr2_and_winch_are_passed_to_cmd() {
    let mut sb = Sandbox::new();
    let script = "for s in HUP QUIT USR1 USR2 WINCH; do trap \"echo got $s\" $s; done; echo ready; while :; do sleep 0.05; done";
    let mut p = sb.spawn_pid1(args![rinit(), "--", "/bin/sh", "-c", script]);
    wait_until("CMD to trap", SOON, || p.output().contains("ready"));
    for (n, s) in [(1, "HUP"), (3, "QUIT"), (10, "USR1"), (12, "USR2"), (28, "WINCH")] {
        p.signal(n);
        wait_until(&format!("CMD to get {s}"), SOON, || p.output().contains(&format!("got {s}")));
    }
    p.signal(15);
    assert!(p.wait_timeout(SOON).is_some());
}

#[test]
fn with_g_term_reaches_cmds_whole_process_group() {
    let mut sb = Sandbox::new();
    // The child sleeps in CMD's group; only a signal to the group reaches it.
    // It says when its trap is set: a TERM before that would end it silently.
    let script = "sh -c 'trap \"echo child got TERM; exit 0\" TERM; echo ready; while :; do sleep 0.05; done' & trap 'wait; exit 0' TERM; wait";
    let mut p = sb.spawn_pid1(args![rinit(), "-g", "--", "/bin/sh", "-c", script]);
    wait_until("CMD's child to set its trap", SOON, || p.output().contains("ready"));
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end");
    assert!(p.output().contains("child got TERM"), "{}", p.output());
    assert_eq!(st.code(), Some(0), "{}", p.output());
}

#[test]
fn a_process_that_ignores_term_is_killed_after_the_grace_time() {
    let mut sb = Sandbox::new();
    let script = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let mut p = sb.spawn_pid1(args![rinit(), "-t", "300", "--", "/bin/sh", "-c", script]);
    wait_until("CMD to start", SOON, || p.output().contains("ready"));
    let t0 = Instant::now();
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end");
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(st.code(), Some(137), "{}", p.output());
    assert!(p.output().contains("rinit: warning: grace time of 300 ms elapsed: sending every process the KILL signal"), "{}", p.output());
}

#[test]
fn the_grace_time_ends_as_soon_as_nothing_is_left() {
    let mut sb = Sandbox::new();
    let mut p = sb.spawn_pid1(args![rinit(), "-t", "10000", "--", "/bin/sh", "-c", "echo ready; exec sleep 1000"]);
    wait_until("CMD to start", SOON, || p.output().contains("ready"));
    let t0 = Instant::now();
    p.signal(15);
    p.wait_timeout(SOON).expect("rinit to end");
    assert!(t0.elapsed() < Duration::from_secs(3), "took {:?}", t0.elapsed());
}

// ---------------------------------------------------------------- not pid 1

#[test]
fn not_pid_1_it_is_a_subreaper_that_kills_and_reaps_what_cmd_left() {
    let mut sb = Sandbox::new();
    // The orphan's parent is rinit once CMD is gone; rinit must end it.
    let script = format!(
        "mount -t proc proc /proc && mount -t tmpfs tmpfs /run && {} -- /bin/sh -c 'sleep 1234567 & exit 3'; echo code=$?; \
         if ps -eo comm | grep -qx sleep; then echo left; else echo none-left; fi",
        rinit().display()
    );
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("code=3"), "{out}");
    assert!(out.contains("none-left"), "{out}");
}

#[test]
fn not_pid_1_it_uses_the_callers_run_without_mounting_over_it() {
    let mut sb = Sandbox::new();
    let script = format!(
        "mount -t tmpfs tmpfs /run && touch /run/callers && {} -- /bin/sh -c 'ls /run'; echo code=$?; ls /run",
        rinit().display()
    );
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    // CMD saw the caller's file: no tmpfs hid it.
    assert_in_order(&out, &["callers", "code=0", "callers"]);
}

#[test]
fn not_pid_1_with_its_own_mount_namespace_it_mounts_a_fresh_run() {
    let mut sb = Sandbox::new();
    let script = format!(
        "mount -t tmpfs tmpfs /run && touch /run/callers && unshare --mount {} -- /bin/sh -c 'ls /run; exit 4'; echo code=$?; ls /run",
        rinit().display()
    );
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    let (inside, after) = out.split_once("code=4").unwrap_or_else(|| panic!("{out}"));
    assert!(inside.contains("rinit") && !inside.contains("callers"), "{out}");
    assert!(after.contains("callers") && !after.contains("rinit"), "{out}");
}

#[test]
fn an_unwritable_run_is_one_line_naming_it_and_111() {
    let mut sb = Sandbox::new();
    let script = format!("mount -t tmpfs -o ro tmpfs /run && {} -- /bin/true; echo code=$?", rinit().display());
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "rinit: fatal: no writable place for the container's state: unable to create /run/rinit: Read-only file system\ncode=111\n"
    );
}

#[test]
fn with_a_basedir_named_not_pid_1_still_refuses() {
    // getopt's spellings: `-c dir`, `-cdir`, `-Cc dir` all name the basedir.
    for spelling in [&["-c", "/nonexistent"][..], &["-c/nonexistent"], &["-Cc", "/nonexistent"]] {
        let mut sb = Sandbox::new();
        let mut a: Vec<&std::ffi::OsStr> = vec![rinit().into_os_string().leak()];
        a.extend(spelling.iter().chain(&["--", "/bin/true"]).map(std::ffi::OsStr::new));
        let mut p = sb.spawn(&a);
        let st = p.wait_timeout(SOON).expect("rinit to refuse");
        assert_eq!(st.code(), Some(100), "{spelling:?}: {}", p.output());
        assert!(p.output().contains("rinit: fatal: not pid 1"), "{spelling:?}: {}", p.output());
    }
}

// ---------------------------------------------------------------- services

/// A service directory `svc/NAME` whose `run` is the shell `body`.
fn service(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    sb.service(&format!("svc/{name}"), body)
}

#[test]
fn service_directories_run_beside_cmd_which_waits_until_they_are_ready() {
    let mut sb = Sandbox::new();
    let web = service(&sb, "web", "sleep 0.2; echo web is ready; echo >&3; exec sleep 1000");
    fs::write(web.join("notification-fd"), "3\n").unwrap();
    service(&sb, "plain", "echo plain is up; exec sleep 1000");
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--", "/bin/sh", "-c", "echo main program; exit 6"]);
    assert_eq!(code, Some(6), "{out}");
    assert_in_order(&out, &["web is ready", "main program"]);
    assert!(out.contains("plain is up"), "{out}");
    assert!(!out.contains("rinit:"), "{out}");
}

#[test]
fn a_broken_service_directory_is_one_line_and_the_rest_runs() {
    let mut sb = Sandbox::new();
    sb.mkdir("svc/broken");
    sb.write("svc/broken/type", "longrun\n");
    service(&sb, "good", "echo good is up; exec sleep 1000");
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--", "/bin/sh", "-c", "sleep 0.1; exit 0"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("good is up"), "{out}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("rinit")).collect();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(warnings[0].starts_with("rinit: warning: ignoring service broken: unable to run ") && warnings[0].ends_with("/svc/broken/run: No such file or directory"), "{out}");
}

#[test]
fn a_late_service_is_named_and_cmd_runs_anyway_by_default() {
    let mut sb = Sandbox::new();
    let slow = service(&sb, "slow", "exec sleep 1000");
    fs::write(slow.join("notification-fd"), "3\n").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "-w", "200", "--", "/bin/sh", "-c", "echo main program; exit 2"]);
    assert_eq!(code, Some(2), "{out}");
    assert_in_order(&out, &["rinit: warning: not up after 200 ms: slow: starting CMD anyway", "main program"]);
}

#[test]
fn with_f_stop_a_late_service_stops_the_container_with_111() {
    let mut sb = Sandbox::new();
    let slow = service(&sb, "slow", "exec sleep 1000");
    fs::write(slow.join("notification-fd"), "3\n").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "-w", "200", "-f", "stop", "--", "/bin/sh", "-c", "echo main program"]);
    assert_eq!(code, Some(111), "{out}");
    assert!(out.contains("rinit: fatal: not up after 200 ms: slow: stopping the container"), "{out}");
    assert!(!out.contains("main program"), "{out}");
}

#[test]
fn with_f_continue_cmd_runs_without_a_word() {
    let mut sb = Sandbox::new();
    let slow = service(&sb, "slow", "exec sleep 1000");
    fs::write(slow.join("notification-fd"), "3\n").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "-w", "100", "-f", "continue", "--", "/bin/sh", "-c", "echo main program"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out, "main program\n");
}

#[test]
fn a_critical_services_death_stops_the_container_with_its_code() {
    let mut sb = Sandbox::new();
    let db = service(&sb, "db", "sleep 0.3; echo db gives up; exit 42");
    fs::write(db.join("critical"), "").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--", "/bin/sh", "-c", "echo main program; exec sleep 1000"]);
    assert_eq!(code, Some(42), "{out}");
    assert_in_order(&out, &["main program", "db gives up", "rinit: warning: critical service db died (code 42): stopping the container"]);
}

#[test]
fn a_critical_service_killed_by_a_signal_gives_128_plus_n_without_cmd() {
    let mut sb = Sandbox::new();
    let db = service(&sb, "db", "sleep 0.2; kill -TERM $$");
    fs::write(db.join("critical"), "").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--"]);
    assert_eq!(code, Some(143), "{out}");
}

#[test]
fn when_cmd_ended_first_its_code_wins_over_a_critical_service() {
    let mut sb = Sandbox::new();
    let db = service(&sb, "db", "exec sleep 1000");
    fs::write(db.join("critical"), "").unwrap();
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--", "/bin/sh", "-c", "exit 5"]);
    assert_eq!(code, Some(5), "{out}");
    assert!(!out.contains("critical"), "{out}");
}

#[test]
fn services_print_to_the_containers_output_and_with_p_each_line_has_their_name() {
    let mut sb = Sandbox::new();
    service(&sb, "web", "echo web line 1; echo web line 2; exec sleep 1000");
    service(&sb, "db", "echo db line; exec sleep 1000");
    let svc = sb.path("svc");
    let cmd = "sleep 0.3; echo main program";
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", svc, "--", "/bin/sh", "-c", cmd]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("web line 1\n") && out.contains("db line\n"), "{out}");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-p", "-s", svc, "--", "/bin/sh", "-c", cmd]);
    assert_eq!(code, Some(0), "{out}");
    for l in ["web: web line 1\n", "web: web line 2\n", "db: db line\n", "main program\n"] {
        assert!(out.contains(l), "{l:?} missing in:\n{out}");
    }
}

#[test]
fn with_p_a_line_longer_than_4096_bytes_goes_out_in_pieces_each_with_the_name() {
    let mut sb = Sandbox::new();
    service(&sb, "long", "printf '%05000d\\n' 0; printf 'no newline at the end'; exec sleep 1000");
    let svc = sb.path("svc");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-p", "-s", svc, "--", "/bin/sh", "-c", "sleep 0.3"]);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("long: ")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0].len(), 6 + 4096);
    assert_eq!(lines[1].len(), 6 + 5000 - 4096);
    assert_eq!(lines[2], "long: no newline at the end");
}

#[test]
fn not_pid_1_with_its_own_mount_namespace_services_and_a_critical_one_work_the_same() {
    let mut sb = Sandbox::new();
    let web = service(&sb, "web", "echo web is ready; echo >&3; exec sleep 1000");
    fs::write(web.join("notification-fd"), "3\n").unwrap();
    let db = service(&sb, "db", "sleep 0.3; exit 42");
    fs::write(db.join("critical"), "").unwrap();
    let script = format!(
        "mount -t proc proc /proc && unshare --mount {} -s {} -- /bin/sh -c 'echo main program; exec sleep 1000'; echo code=$?; \
         if ps -eo comm | grep -qx sleep; then echo left; else echo none-left; fi",
        rinit().display(),
        sb.path("svc").display()
    );
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    assert_in_order(&out, &["web is ready", "main program", "critical service db died (code 42)", "code=42", "none-left"]);
}

#[test]
fn without_rinit_scan_the_services_are_named_at_once_and_cmd_runs() {
    let mut sb = Sandbox::new();
    service(&sb, "web", "exec sleep 1000");
    // rinit alone, beside nothing, with a PATH that has none of its programs.
    let lone = sb.mkdir("lone").join("rinit");
    fs::copy(rinit(), &lone).unwrap();
    let svc = sb.path("svc");
    let t0 = Instant::now();
    let (code, out) = run_pid1(&mut sb, args!["env", "PATH=/usr/bin:/bin", lone, "-s", svc, "--", "/bin/sh", "-c", "echo main program; exit 4"]);
    assert_eq!(code, Some(4), "{out}");
    assert!(t0.elapsed() < Duration::from_secs(4), "waited {:?}", t0.elapsed());
    assert_in_order(&out, &["rinit: warning: unable to spawn rinit-scan: the services will not run: No such file or directory", "not up after 5000 ms: web: starting CMD anyway", "main program"]);
}

fn rc_tree(sb: &Sandbox) -> PathBuf {
    sb.write("rc/setup/type", "oneshot\n");
    sb.write("rc/setup/up", "echo setup ran\n");
    sb.write("rc/setup/down", "echo setup undone\n");
    sb.write("rc/app/type", "longrun\n");
    sb.script("rc/app/run", "echo app is up; exec sleep 1000");
    sb.write("rc/app/dependencies", "setup\n");
    sb.path("rc")
}

#[test]
fn an_rc_source_tree_is_compiled_brought_up_before_cmd_and_stopped_in_reverse_order() {
    let mut sb = Sandbox::new();
    let rc = rc_tree(&sb);
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-v", "2", "-r", rc, "--", "/bin/sh", "-c", "echo main program; exit 3"]);
    assert_eq!(code, Some(3), "{out}");
    assert_in_order(&out, &["setup ran", "service app successfully started", "starting /bin/sh", "main program", "CMD exited 3"]);
    assert_in_order(&out, &["service app: stopping", "service app successfully stopped", "service setup: stopping", "setup undone", "exiting with code 3"]);
}

#[test]
fn a_second_run_on_the_same_run_directory_starts_clean() {
    let mut sb = Sandbox::new();
    let rc = rc_tree(&sb);
    service(&sb, "web", "exec sleep 1000");
    let once = format!("{} -r {} -s {} -- /bin/sh -c 'echo run $0' ", rinit().display(), rc.display(), sb.path("svc").display());
    // As a restarted container keeps its /run.
    let script = format!("mount -t proc proc /proc && mount -t tmpfs tmpfs /run && {once} first; echo code=$?; {once} second; echo code=$?");
    let (code, out) = run_sh(&mut sb, &script);
    assert_eq!(code, Some(0), "{out}");
    assert_in_order(&out, &["setup ran", "run first", "code=0", "setup ran", "run second", "code=0"]);
    assert!(!out.contains("rinit"), "{out}");
}

#[test]
fn a_failing_oneshot_is_named_and_cmd_runs_by_default() {
    let mut sb = Sandbox::new();
    let rc = rc_tree(&sb);
    sb.write("rc/setup/up", "exit 3\n");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-r", rc, "--", "/bin/sh", "-c", "echo main program"]);
    assert_eq!(code, Some(0), "{out}");
    assert_in_order(&out, &["rinit: warning: not up after 5000 ms: the rc services (failed): starting CMD anyway", "main program"]);
}

#[test]
fn a_broken_rc_tree_is_said_and_cmd_still_runs() {
    let mut sb = Sandbox::new();
    let rc = rc_tree(&sb);
    sb.write("rc/app/dependencies", "nosuchservice\n");
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-r", rc, "--", "/bin/sh", "-c", "echo main program"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rinit-rc-compile: fatal:"), "{out}");
    assert!(out.contains("rinit: warning: rinit-rc-compile exited 1: the services of "), "{out}");
    assert!(out.contains("main program"), "{out}");
}

#[test]
fn a_named_service_dir_that_is_missing_is_one_line_and_111() {
    let mut sb = Sandbox::new();
    let (code, out) = run_pid1(&mut sb, args![rinit(), "-s", "/nonexistent/svc", "--", "/bin/true"]);
    assert_eq!(code, Some(111), "{out}");
    assert_eq!(out, "rinit: fatal: unable to open the service directories /nonexistent/svc: No such file or directory\n");
}

// ---------------------------------------------------------------- runc

/// Builds an image with scripts/container-image (busybox as /bin/sh) in
/// the sandbox: `opts` are the script's options, `cmd` the container's CMD.
/// The programs are the lean build, as the script's own default.
fn image(sb: &Sandbox, opts: &[&str], cmd: &[&str]) -> PathBuf {
    let dir = sb.path("image");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/container-image");
    let out = Command::new(script)
        .args(["-b", lean_bin_dir().to_str().unwrap(), "-a", "/bin/busybox", "-l", "/bin/sh=busybox"])
        .args(opts)
        .arg(&dir)
        .args(cmd)
        .output()
        .expect("scripts/container-image");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// A runc container of the sandbox's image, deleted however the test ends.
struct Container {
    runc: PathBuf,
    name: String,
    child: std::process::Child,
    log: PathBuf,
}

impl Container {
    /// `runc run` in the background, its output in the sandbox; None
    /// (skipped) without runc and busybox.
    fn start(sb: &Sandbox, bundle: &Path) -> Option<Container> {
        let runc = require("runc")?;
        require("busybox")?;
        let name = format!("{}-zero", sb.dir.file_name().unwrap().to_string_lossy());
        let log = sb.path("runc.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(&runc)
            .args(["run", "--bundle"]).arg(bundle).arg(&name)
            .stdin(Stdio::null())
            .stderr(out.try_clone().unwrap())
            .stdout(out)
            .spawn()
            .expect("runc run");
        Some(Container { runc, name, child, log })
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait(&mut self) -> Option<i32> {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < end, "the container did not end:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = Command::new(&self.runc).args(["delete", "-f", &self.name]).output();
    }
}

#[test]
fn runc_runs_the_zero_configuration_image_read_only_as_uid_1000_with_cmds_code() {
    let sb = Sandbox::new();
    let bundle = image(&sb, &["-u", "1000"], &["/bin/busybox", "sh", "-c", "echo uid=$(busybox id -u); busybox touch /x 2>/dev/null || echo read-only; exit 9"]);
    let Some(mut c) = Container::start(&sb, &bundle) else { return };
    assert_eq!(c.wait(), Some(9), "{}", c.output());
    assert_eq!(c.output(), "uid=1000\nread-only\n");
}

#[test]
fn runc_term_stops_the_zero_configuration_container() {
    let sb = Sandbox::new();
    let bundle = image(&sb, &["-u", "1000"], &["/bin/busybox", "sh", "-c", "echo started; exec busybox sleep 1000"]);
    let Some(mut c) = Container::start(&sb, &bundle) else { return };
    wait_until("CMD to start", SOON, || c.output().contains("started"));
    let k = Command::new(&c.runc).args(["kill", &c.name, "TERM"]).output().expect("runc kill");
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    assert_eq!(c.wait(), Some(143), "{}", c.output());
}

#[test]
fn runc_a_critical_services_failure_becomes_the_containers_exit_code() {
    let sb = Sandbox::new();
    sb.script("svc/db/run", "busybox sleep 0.2; echo db gives up; exit 42");
    sb.write("svc/db/critical", "");
    sb.script("svc/web/run", "echo web is up; exec busybox sleep 1000");
    let svc = sb.path("svc");
    let bundle = image(&sb, &["-u", "1000", "-s", svc.to_str().unwrap()], &["/bin/busybox", "sleep", "1000"]);
    let Some(mut c) = Container::start(&sb, &bundle) else { return };
    assert_eq!(c.wait(), Some(42), "{}", c.output());
    // runc copies stdout and stderr apart: no order between them.
    assert!(c.output().contains("db gives up"), "{}", c.output());
    assert!(c.output().contains("rinit: warning: critical service db died (code 42): stopping the container"), "{}", c.output());
    assert!(c.output().contains("web is up"), "{}", c.output());
}
