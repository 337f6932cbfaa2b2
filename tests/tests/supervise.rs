//! rinit-supervise: the s6-supervise role, driven through its control FIFO,
//! its status file and its event fifodir, and by Debian's s6 tools.

use rinit_tests::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const O_NONBLOCK: i32 = 0o4000;

/// Starts rinit-supervise on `svc` (relative to the sandbox) in fresh namespaces.
fn supervise(sb: &mut Sandbox, svc: &str) -> Proc {
    sb.spawn(args![bin("rinit-supervise"), svc])
}

/// Writes control letters to the supervisor's FIFO, as s6-svc does.
fn send(svc: &Path, letters: &str) {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(svc.join("supervise/control"))
        .expect("open supervise/control");
    f.write_all(letters.as_bytes()).expect("write control letters");
}

/// Host pid of the supervisor started by `supervise` (the child of the
/// namespace's shell).
fn supervisor_pid(p: &Proc) -> u32 {
    let sh = p.pid();
    let mut pid = 0;
    wait_until("the supervisor to start", SOON, || {
        let c = fs::read_to_string(format!("/proc/{sh}/task/{sh}/children")).unwrap_or_default();
        pid = c.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(0);
        pid != 0
    });
    pid
}

fn kill(pid: u32, sig: &str) {
    Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap();
}

fn wait_up(svc: &Path) -> Status {
    wait_status(svc, "the service to be up", |s| s.pid != 0 && !s.finishing)
}

fn wait_down(svc: &Path) -> Status {
    wait_status(svc, "the service to be down", |s| s.pid == 0)
}

fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p).unwrap_or_default().lines().map(str::to_owned).collect()
}

// ------------------------------------------------------------------ basics

#[test]
fn starts_a_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo \"started $1\" > started\nexec sleep 100");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let st = wait_up(&svc);
    assert!(st.want_up);
    wait_until("run to write its file", SOON, || sb.read("svc/started") == "started svc\n");
    // No notification-fd: up is ready at once.
    assert!(st.ready);
    ev.wait_for("suU");
    let meta = fs::metadata(svc.join("supervise")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o700);
    let fifo = fs::metadata(svc.join("supervise/control")).unwrap();
    assert_eq!(fifo.permissions().mode() & 0o7777, 0o600);
    let lock = fs::metadata(svc.join("supervise/lock")).unwrap();
    assert_eq!(lock.permissions().mode() & 0o7777, 0o644);
    let event = fs::metadata(svc.join("event")).unwrap();
    assert_eq!(event.permissions().mode() & 0o7777, 0o3730);
}

#[test]
fn restarts_a_service_that_exits() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo run >> runs\nsleep 0.2\nexit 3");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    wait_until("a second start", SOON, || lines(&sb.path("svc/runs")).len() >= 2);
    ev.wait_for("uUdDuU");
    let st = wait_up(&svc);
    // The last death is remembered: exit code 3.
    assert_eq!(st.wstat, 3 << 8);
}

/// The throttle's second is the machine's (machine.rs unit tests); here,
/// only that a service dying at once is not restarted in a loop: however
/// late the starts run, there cannot be more than one a second.
#[test]
fn throttles_a_service_that_dies_young() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo start >> starts\nexit 0");
    let t0 = Instant::now();
    let _p = supervise(&mut sb, "svc");
    wait_until("three starts", SOON, || lines(&sb.path("svc/starts")).len() >= 3);
    let n = lines(&svc.join("starts")).len() as u64;
    assert!(n <= 2 + t0.elapsed().as_secs(), "{n} starts in {:?}: the 1 s throttle is missing", t0.elapsed());
}

/// That a run up for over a second is restarted at once, not after the
/// throttle, is the machine's (machine.rs unit tests).
#[test]
fn a_killed_service_is_restarted_once_with_its_death_recorded() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo start >> starts\nexec sleep 100");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let first = wait_up(&svc);
    // Up is as soon as it is spawned: killed before its first line, it
    // would leave one line for two runs.
    wait_until("the first run to start", SOON, || !lines(&svc.join("starts")).is_empty());
    send(&svc, "k");
    let st = wait_status(&svc, "a new run", |s| s.pid != 0 && s.pid != first.pid);
    assert_eq!(st.wstat, 9);
    ev.wait_for("uUdDuU");
    wait_until("the second run to start", SOON, || lines(&svc.join("starts")).len() >= 2);
    assert_eq!(lines(&svc.join("starts")).len(), 2, "one restart");
}

#[test]
fn runs_finish_with_exit_code_and_signal() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "if [ -e once ]; then exec sleep 100; fi\ntouch once\nexit 3");
    sb.script("svc/finish", "echo \"$@\" >> finish.log");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    wait_until("finish to run once", SOON, || !lines(&svc.join("finish.log")).is_empty());
    let first: Vec<String> = lines(&svc.join("finish.log"))[0].split(' ').map(str::to_owned).collect();
    assert_eq!(&first[..3], &["3", "0", "svc"]);
    assert!(first[3].parse::<u32>().unwrap() > 0, "process group: {:?}", first);
    let st = wait_up(&svc);
    send(&svc, "k");
    wait_until("finish to run again", SOON, || lines(&svc.join("finish.log")).len() >= 2);
    let second = &lines(&svc.join("finish.log"))[1];
    assert_eq!(second, &format!("256 9 svc {}", st.pid), "run is its own process group leader");
    ev.wait_for("udDudD");
}

#[test]
fn finish_exit_125_stops_restarts() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo run >> runs\nexit 1");
    sb.script("svc/finish", "exit 125");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    ev.wait_for("udOD");
    let st = wait_down(&svc);
    assert!(!st.want_up);
    assert_eq!(lines(&svc.join("runs")).len(), 1);
}

#[test]
fn honours_down_file() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "touch started\nexec sleep 100");
    sb.write("svc/down", "");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    ev.wait_for("s");
    let st = wait_status(&svc, "the first status", |_| true);
    assert_eq!(st.pid, 0);
    assert!(!st.want_up);
    assert!(!svc.join("started").exists());
    send(&svc, "u");
    let st = wait_up(&svc);
    assert!(st.want_up);
    wait_until("run to start", SOON, || svc.join("started").exists());
}

#[test]
fn readiness_via_notification_fd() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "while [ ! -e go ]; do sleep 0.05; done\necho >&3\nexec sleep 100");
    sb.write("svc/notification-fd", "3\n");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let st = wait_up(&svc);
    assert!(!st.ready, "up but not ready until it says so");
    ev.wait_for("su");
    assert!(!ev.read().contains('U'));
    fs::write(svc.join("go"), "").unwrap();
    let st = wait_status(&svc, "ready", |s| s.ready && s.pid != 0);
    assert!(st.ready_secs >= st.stamp_secs);
    ev.wait_for("suU");
}

// ------------------------------------------------------------------ control letters

#[test]
fn d_and_u_letters_bring_it_down_and_up() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "d");
    let st = wait_down(&svc);
    assert!(!st.want_up);
    assert_eq!(st.wstat, 15, "down-signal defaults to TERM");
    ev.wait_for("uUdD");
    send(&svc, "u");
    let st = wait_up(&svc);
    assert!(st.want_up);
    ev.wait_for("uUdDuU");
}

#[test]
fn down_signal_file_is_used_by_d() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.write("svc/down-signal", "SIGINT\n");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "d");
    let st = wait_down(&svc);
    assert_eq!(st.wstat, 2);
}

#[test]
fn o_letter_runs_it_once() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo run >> runs\nsleep 0.2\nexit 0");
    sb.write("svc/down", "");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    ev.wait_for("s");
    send(&svc, "o");
    ev.wait_for("sudD");
    let st = wait_down(&svc);
    assert!(!st.want_up);
    assert_eq!(lines(&svc.join("runs")).len(), 1);
}

#[test]
fn x_letter_exits_once_the_service_is_down() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let mut p = supervise(&mut sb, "svc");
    wait_up(&svc);
    // Letters are read in order: once O is seen (want down), x was too.
    send(&svc, "x");
    send(&svc, "O");
    wait_status(&svc, "want down", |s| !s.want_up);
    assert!(p.is_running(), "x waits for the service to go down");
    send(&svc, "d");
    let code = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(code.code(), Some(0));
    ev.wait_for("uUdDx");
    assert_eq!(status(&svc).unwrap().pid, 0);
}

#[test]
fn t_and_k_letters_signal_the_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    let a = wait_up(&svc);
    send(&svc, "t");
    let b = wait_status(&svc, "a restart after TERM", |s| s.pid != 0 && s.pid != a.pid);
    assert_eq!(b.wstat, 15);
    send(&svc, "k");
    let c = wait_status(&svc, "a restart after KILL", |s| s.pid != 0 && s.pid != b.pid);
    assert_eq!(c.wstat, 9);
}

#[test]
fn p_and_c_letters_pause_and_continue() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "p");
    wait_status(&svc, "paused", |s| s.paused);
    send(&svc, "c");
    wait_status(&svc, "not paused", |s| !s.paused && s.pid != 0);
    // A paused service still goes down on d (CONT follows the down signal).
    send(&svc, "p");
    wait_status(&svc, "paused", |s| s.paused);
    send(&svc, "d");
    let st = wait_down(&svc);
    assert_eq!(st.wstat, 15);
}

#[test]
fn capital_k_kills_the_whole_process_group() {
    let mut sb = Sandbox::new();
    // Each run starts a helper in its process group that keeps writing beatN.
    let svc = sb.service(
        "svc",
        "n=$(($(cat n 2>/dev/null || echo 0) + 1)); echo $n > n\n\
         (while :; do date +%s%N > beat$n; sleep 0.05; done) &\nexec sleep 100",
    );
    let _p = supervise(&mut sb, "svc");
    let beating = |n: u32| {
        let f = svc.join(format!("beat{n}"));
        let b0 = fs::read_to_string(&f).unwrap_or_default();
        std::thread::sleep(Duration::from_millis(400));
        fs::read_to_string(&f).unwrap_or_default() != b0
    };
    let a = wait_up(&svc);
    wait_until("helper 1", SOON, || svc.join("beat1").exists());
    send(&svc, "k");
    let b = wait_status(&svc, "run 2", |s| s.pid != 0 && s.pid != a.pid);
    wait_until("helper 2", SOON, || svc.join("beat2").exists());
    send(&svc, "K");
    wait_status(&svc, "run 3", |s| s.pid != 0 && s.pid != b.pid);
    assert!(!beating(2), "K killed run 2's whole group");
    assert!(beating(1), "k killed run 1 only, not its group");
}

#[test]
fn r_letter_restarts_the_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let a = wait_up(&svc);
    send(&svc, "r");
    let b = wait_status(&svc, "a new run", |s| s.pid != 0 && s.pid != a.pid);
    assert!(b.want_up);
    assert_eq!(b.wstat, 15);
    ev.wait_for("uUdDuU");
}

#[test]
fn capital_d_and_u_letters_also_set_the_down_file() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "D");
    wait_down(&svc);
    assert!(svc.join("down").exists());
    send(&svc, "U");
    wait_up(&svc);
    assert!(!svc.join("down").exists());
}

#[test]
fn capital_o_and_q_letters_stop_restarts_but_leave_it_running() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let a = wait_up(&svc);
    send(&svc, "O");
    let st = wait_status(&svc, "want down", |s| !s.want_up);
    assert_eq!(st.pid, a.pid, "O does not stop it");
    send(&svc, "Q");
    wait_until("Q to write ./down", SOON, || svc.join("down").exists());
    send(&svc, "k");
    let st = wait_down(&svc);
    assert_eq!(st.wstat, 9);
    ev.wait_for("uUdD");
    // Not restarted: a wanted-down service gets no restart deadline
    // (machine.rs unit tests).
    assert!(!status(&svc).unwrap().want_up);
}

#[test]
fn unknown_letters_are_ignored() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut p = supervise(&mut sb, "svc");
    let a = wait_up(&svc);
    send(&svc, "zZ?\n\0 ");
    send(&svc, "d");
    wait_down(&svc);
    assert!(p.is_running());
    assert!(a.pid != 0);
}

#[test]
fn lock_fd_holds_restarts_while_a_leftover_process_lives() {
    let mut sb = Sandbox::new();
    // run leaves a process behind that holds the lock for 2 s.
    let svc = sb.service("svc", "readlink /proc/self/fd/5 >> fd5\necho run >> runs\nsleep 2 &\nexit 0");
    sb.write("svc/lock-fd", "5\n");
    let p = supervise(&mut sb, "svc");
    let line = "rinit-supervise svc: warning: unable to spawn ./run: Device or resource busy\n";
    wait_until("a start refused while the lock is held", SOON, || p.output().contains(line));
    wait_until("a second run once it is released", SOON, || lines(&svc.join("runs")).len() >= 2);
    let fd5 = lines(&svc.join("fd5"));
    assert!(fd5[0].ends_with("/svc/supervise/service-lock"), "{fd5:?}");
}

#[test]
fn timeout_kill_kills_a_service_that_ignores_term() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "trap '' TERM\ntouch trapped\nexec sleep 100");
    sb.write("svc/timeout-kill", "200\n");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    wait_until("run to ignore TERM", SOON, || svc.join("trapped").exists());
    send(&svc, "d");
    let st = wait_down(&svc);
    assert_eq!(st.wstat, 9, "killed by KILL after timeout-kill");
}

#[test]
fn timeout_finish_kills_a_slow_finish() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.script("svc/finish", "exec sleep 100");
    sb.write("svc/timeout-finish", "200");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "d");
    ev.wait_for("uUdD");
    let st = wait_down(&svc);
    assert!(!st.finishing);
}

#[test]
fn sigterm_brings_the_service_down_and_exits() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let mut p = supervise(&mut sb, "svc");
    wait_up(&svc);
    kill(supervisor_pid(&p), "TERM");
    let code = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(code.code(), Some(0));
    ev.wait_for("uUdDx");
    let st = status(&svc).unwrap();
    assert_eq!(st.pid, 0);
    assert!(!st.want_up);
}

#[test]
fn sighup_exits_once_the_service_stops() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let mut p = supervise(&mut sb, "svc");
    wait_up(&svc);
    kill(supervisor_pid(&p), "HUP");
    // The signal is pending before O is written, and signals are taken
    // before letters: once O is seen (want down), HUP was too.
    send(&svc, "O");
    wait_status(&svc, "want down", |s| !s.want_up);
    assert!(p.is_running(), "HUP leaves the service up");
    assert!(status(&svc).unwrap().pid != 0);
    send(&svc, "d");
    let code = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(code.code(), Some(0));
    ev.wait_for("uUdDx");
}

#[test]
fn sigquit_exits_at_once_without_touching_the_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let mut ev = Events::listen(&svc);
    let mut p = supervise(&mut sb, "svc");
    let st = wait_up(&svc);
    kill(supervisor_pid(&p), "QUIT");
    let code = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(code.code(), Some(0));
    ev.wait_for("uUx");
    assert!(!ev.read().contains('d'), "the service was not stopped: {}", ev.read());
    assert_eq!(status(&svc).unwrap().pid, st.pid);
}

#[test]
fn death_tally_keeps_the_newest_records() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.write("svc/max-death-tally", "2");
    let _p = supervise(&mut sb, "svc");
    let mut last = wait_up(&svc);
    for letter in ["t", "k", "t"] {
        // Wait past the throttle so every kill meets a fresh run.
        send(&svc, letter);
        last = wait_status(&svc, "a new run", |s| s.pid != 0 && s.pid != last.pid);
    }
    let dt = fs::read(svc.join("supervise/death_tally")).unwrap();
    assert_eq!(dt.len(), 28, "two records of 14 bytes");
    // Oldest first: KILL (exit code 128+9), then TERM.
    assert_eq!(&dt[12..14], &[137, 9]);
    assert_eq!(&dt[26..28], &[143, 15]);
    assert_eq!(dt[14] >> 6, 1, "TAI64N label starts with 0x4");
}

// ------------------------------------------------------------------ faults

#[test]
fn refuses_a_second_supervisor() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let out = sb.run(args![bin("rinit-supervise"), "svc"]);
    assert_eq!(out.status.code(), Some(100));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, "rinit-supervise svc: fatal: another instance of rinit-supervise is already running\n");
}

#[test]
fn warns_and_retries_when_run_is_not_executable() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    fs::set_permissions(svc.join("run"), fs::Permissions::from_mode(0o644)).unwrap();
    let t0 = Instant::now();
    let mut p = supervise(&mut sb, "svc");
    let line = "rinit-supervise svc: warning: unable to spawn ./run: Permission denied\n";
    wait_until("three warnings (retries)", SOON, || p.output().matches(line).count() >= 3);
    assert!(p.is_running());
    let st = status(&svc).unwrap();
    assert_eq!(st.pid, 0, "a run that cannot start is never up");
    // Once a second, not a flood (the retry's second: machine.rs unit tests).
    let m = p.output().matches(line).count();
    assert!(m as u64 <= 2 + t0.elapsed().as_secs(), "{m} warnings in {:?}", t0.elapsed());
    assert_eq!(p.output().lines().count(), m, "nothing but the warnings: {}", p.output());
    fs::set_permissions(svc.join("run"), fs::Permissions::from_mode(0o755)).unwrap();
    wait_up(&svc);
}

#[test]
fn warns_and_retries_when_run_is_missing() {
    let mut sb = Sandbox::new();
    sb.mkdir("svc");
    let svc = sb.path("svc");
    let mut p = supervise(&mut sb, "svc");
    let line = "rinit-supervise svc: warning: unable to spawn ./run: No such file or directory\n";
    wait_until("a warning", SOON, || p.output().contains(line));
    sb.script("svc/run", "exec sleep 100");
    wait_up(&svc);
    assert!(p.is_running());
}

#[test]
fn a_regular_file_as_control_fifo_is_a_clear_error() {
    let sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.write("svc/supervise/control", "not a fifo");
    let out = sb.run(args![bin("rinit-supervise"), "svc"]);
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rinit-supervise svc: fatal: supervise/control exists and is not a FIFO: remove it\n"
    );
    assert!(status(&svc).is_none());
}

#[test]
fn a_read_only_directory_is_a_clear_error() {
    let mut sb = Sandbox::new();
    sb.service("svc", "exec sleep 100");
    let sup = bin("rinit-supervise");
    let mut p = sb.spawn(args![
        "/bin/sh",
        "-c",
        "mount --bind svc svc && mount -o remount,bind,ro svc && exec \"$0\" svc",
        sup
    ]);
    let st = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(st.code(), Some(111), "{}", p.output());
    assert_eq!(p.output(), "rinit-supervise svc: fatal: unable to create event: Read-only file system\n");
}

#[test]
fn a_name_too_long_is_a_clear_error() {
    let sb = Sandbox::new();
    let long = "a".repeat(5000);
    let out = sb.run(args![bin("rinit-supervise"), long]);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rinit-supervise: fatal: unable to chdir to the service directory: File name too long\n"
    );
}

#[test]
fn keeps_going_when_out_of_descriptors() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let sup = bin("rinit-supervise");
    // 0-2, lock, control (twice) and the signalfd fit; the status file does not.
    let mut p = sb.spawn(args!["/bin/sh", "-c", "ulimit -n 7 && exec \"$0\" svc", sup]);
    wait_until("a warning", SOON, || p.output().contains("Too many open files"));
    assert!(p.is_running());
    assert!(p.output().contains("rinit-supervise svc: warning: unable to write supervise/status: Too many open files"), "{}", p.output());
    // Still answering: it can be told to stop.
    send(&svc, "x");
    let st = p.wait_timeout(SOON).expect("supervisor to exit");
    assert_eq!(st.code(), Some(0));
}

#[test]
fn a_bad_setting_file_warns_and_uses_the_default() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.write("svc/down-signal", "SIGNOPE\n");
    let p = supervise(&mut sb, "svc");
    wait_up(&svc);
    send(&svc, "d");
    let st = wait_down(&svc);
    assert_eq!(st.wstat, 15);
    assert!(p.output().contains("rinit-supervise svc: warning: invalid ./down-signal: using the default"), "{}", p.output());
}

// ------------------------------------------------------------------ Debian's s6 tools drive rinit-supervise

fn s6(sb: &Sandbox, tool: &Path, args: &[&str]) -> std::process::Output {
    let mut v: Vec<&std::ffi::OsStr> = vec![tool.as_os_str()];
    v.extend(args.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

#[test]
fn s6_svc_changes_the_state() {
    let Some(svc_tool) = require("s6-svc") else { return };
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    assert!(s6(&sb, &svc_tool, &["-d", "svc"]).status.success());
    wait_down(&svc);
    assert!(s6(&sb, &svc_tool, &["-u", "svc"]).status.success());
    wait_up(&svc);
    // -D makes it normally down: the supervisor writes ./down.
    assert!(s6(&sb, &svc_tool, &["-D", "svc"]).status.success());
    wait_down(&svc);
    assert!(svc.join("down").exists());
}

#[test]
fn s6_svc_w_waits_on_our_events() {
    let Some(svc_tool) = require("s6-svc") else { return };
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let out = s6(&sb, &svc_tool, &["-wD", "-T", "5000", "-d", "svc"]);
    assert!(out.status.success(), "s6-svc -wD -d: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status(&svc).unwrap().pid, 0);
    let out = s6(&sb, &svc_tool, &["-wU", "-T", "5000", "-u", "svc"]);
    assert!(out.status.success(), "s6-svc -wU -u: {}", String::from_utf8_lossy(&out.stderr));
    assert!(status(&svc).unwrap().pid != 0);
    let out = s6(&sb, &svc_tool, &["-wR", "-T", "5000", "-r", "svc"]);
    assert!(out.status.success(), "s6-svc -wR -r: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn s6_svstat_reads_our_status() {
    let Some(svstat) = require("s6-svstat") else { return };
    let Some(svc_tool) = require("s6-svc") else { return };
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    let st = wait_up(&svc);
    let out = s6(&sb, &svstat, &["svc"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with(&format!("up (pid {}) ", st.pid)), "{text}");
    let out = s6(&sb, &svstat, &["-o", "up,pid,wantedup,ready", "svc"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("true {} true true\n", st.pid));
    s6(&sb, &svc_tool, &["-d", "svc"]);
    wait_down(&svc);
    let out = s6(&sb, &svstat, &["svc"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("down (signal SIGTERM) "), "{text}");
    assert!(text.contains("normally up"), "{text}");
}

#[test]
fn s6_svwait_wakes_on_our_events() {
    let Some(svwait) = require("s6-svwait") else { return };
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let dir = sb.dir.clone();
    let waiter = std::thread::spawn(move || {
        Command::new(svwait).args(["-d", "-t", "5000", "svc"]).current_dir(dir).output().unwrap()
    });
    // Let s6-svwait subscribe, then bring the service down.
    wait_until("s6-svwait to listen", SOON, || {
        fs::read_dir(svc.join("event")).map(|d| d.count() > 0).unwrap_or(false)
    });
    send(&svc, "d");
    let out = waiter.join().unwrap();
    assert!(out.status.success(), "s6-svwait -d: {}", String::from_utf8_lossy(&out.stderr));
    let Some(svwait) = require("s6-svwait") else { return };
    let dir = sb.dir.clone();
    let waiter = std::thread::spawn(move || {
        Command::new(svwait).args(["-U", "-t", "5000", "svc"]).current_dir(dir).output().unwrap()
    });
    wait_until("s6-svwait to listen", SOON, || {
        fs::read_dir(svc.join("event")).map(|d| d.count() > 0).unwrap_or(false)
    });
    send(&svc, "u");
    let out = waiter.join().unwrap();
    assert!(out.status.success(), "s6-svwait -U: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn s6_svok_says_supervised() {
    let Some(svok) = require("s6-svok") else { return };
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.mkdir("svc/supervise");
    assert!(!s6(&sb, &svok, &["svc"]).status.success());
    let mut p = supervise(&mut sb, "svc");
    wait_up(&svc);
    assert!(s6(&sb, &svok, &["svc"]).status.success());
    send(&svc, "dx");
    p.wait_timeout(SOON).expect("supervisor to exit");
    assert!(!s6(&sb, &svok, &["svc"]).status.success());
}

/// Host pids of the children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// RLIMIT_NPROC only binds a user other than the host's root, and counts
/// the processes of that user in its own user namespace: the supervisor runs
/// as `nobody` (root of a fresh user namespace) with a limit of 3, which
/// `unshare`, the supervisor and a placeholder `sleep` already use, so every
/// fork fails until the test kills the placeholder and frees a slot.
#[test]
fn warns_and_retries_when_the_process_limit_stops_fork() {
    let (Some(setpriv), Some(_)) = (require("setpriv"), require("prlimit")) else { return };
    let sb = Sandbox::new();
    let svc = sb.service("svc", "echo started >> ../started\nexec sleep 100");
    for d in [&sb.dir, &svc] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let log = fs::File::create(sb.path("out")).unwrap();
    // unshare, the sleep and the supervisor fill the limit; killing the
    // sleep frees a slot for the service. Under qemu-user every emulated
    // process is two kernel tasks (qemu keeps a thread of its own) and the
    // limit counts tasks: the supervisor takes two slots, and so does its
    // child until it execs the (native) run script, so two sleeps hold
    // those two slots.
    let (sleeps, nproc) = if qemu_user() { ("sleep 100 & sleep 100 &", 5) } else { ("sleep 100 &", 3) };
    let mut child = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child=SIGKILL", "--"])
        .args(["/bin/sh", "-c", &format!("{sleeps} exec prlimit --nproc={nproc} -- \"$0\" svc")])
        .arg(bin("rinit-supervise"))
        .current_dir(&sb.dir)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn setpriv");
    let out = || fs::read_to_string(sb.path("out")).unwrap_or_default();
    wait_until("a warning that fork failed", SOON, || out().contains("unable to spawn ./run: Resource temporarily unavailable"));
    // It keeps retrying (one line a second) and the service does not run.
    wait_until("a second attempt", SOON, || out().matches("unable to spawn ./run").count() >= 2);
    assert!(!sb.path("started").exists(), "run started although fork must fail");
    let sup = children(child.id());
    let sup = *sup.first().expect("the supervisor's pid");
    for p in children(sup) {
        kill(p, "KILL");
    }
    wait_until("the service to start once a slot is free", SOON, || sb.path("started").exists());
    wait_status(&svc, "up", |s| s.pid != 0);
    let _ = child.kill();
    let _ = child.wait();
}
