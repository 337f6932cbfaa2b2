//! The control tools (rinit-svc, rinit-svstat, rinit-svwait, rinit-svscanctl)
//! against real supervisors: Debian's s6-supervise always, rinit-supervise
//! when it is built. Output is compared with Debian's own tools on the same
//! directories (seconds counts normalised).

use rinit_tests::*;
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALL_FIELDS: &str =
    "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor";

/// The supervisors to drive: Debian's s6-supervise (when installed) and
/// rinit-supervise (when built).
fn supervisors() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = require("s6-supervise") {
        v.push(p);
    }
    let ours = bin_dir().join("rinit-supervise");
    if ours.exists() {
        v.push(ours);
    }
    v
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs one of rinit's tools in the sandbox dir.
fn tool(sb: &Sandbox, name: &str, args: &[&str]) -> Output {
    let b = bin(name);
    let mut v: Vec<&std::ffi::OsStr> = vec![b.as_os_str()];
    v.extend(args.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

/// Runs a host tool (Debian's s6-svstat...) in the sandbox dir.
fn host(sb: &Sandbox, prog: &Path, args: &[&str]) -> Output {
    let mut v: Vec<&std::ffi::OsStr> = vec![prog.as_os_str()];
    v.extend(args.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

/// A service `name` whose run sleeps, supervised by `sup` inside the
/// sandbox's namespaces; returns once the supervisor has written its status.
fn supervised(sb: &mut Sandbox, sup: &Path, name: &str, down: bool) -> PathBuf {
    let dir = sb.service(name, "exec sleep 1000");
    if down {
        sb.write(&format!("{name}/down"), "");
    }
    sb.spawn(args![sup, name]);
    wait_until("the supervisor to write its status", SOON, || status(&dir).is_some() && dir.join("event").is_dir());
    if !down {
        wait_until("the service to be up", SOON, || status(&dir).map(|s| s.pid != 0).unwrap_or(false));
    }
    dir
}

/// Up as s6 means it: a pid, and not in the finish phase (s6-supervise
/// keeps the dead pid in the record until finish is done).
fn is_up(svc: &Path) -> bool {
    status(svc).map(|s| s.pid != 0 && !s.finishing).unwrap_or(false)
}

/// How many listeners (s6-svwait, rinit-svwait...) are subscribed to `svc`.
fn listeners(svc: &Path) -> usize {
    fs::read_dir(svc.join("event"))
        .map(|d| d.filter(|e| e.as_ref().map(|e| e.file_name().to_string_lossy().starts_with("ftrig1:")).unwrap_or(false)).count())
        .unwrap_or(0)
}

/// The human line with every seconds count replaced by N.
fn normalise(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        if next.starts_with("seconds") && w.chars().all(|c| c.is_ascii_digit()) {
            out.push("N");
        } else {
            out.push(w);
        }
    }
    out.join(" ")
}

/// Equal lines, allowing counts to differ by `slack` (the two tools read
/// the clock `slack` seconds apart at most).
fn same_status_text(a: &str, b: &str, slack: i64) -> bool {
    // Word by word, so that a bare count of seconds (`-o` fields, `-uwNrpest`)
    // may differ too, as the counts before `seconds` do: the two tools read
    // the clock a moment apart. The price: a pid or a signal number that
    // close would pass here as well.
    let (na, nb) = (normalise(a), normalise(b));
    let wa: Vec<&str> = na.split_whitespace().collect();
    let wb: Vec<&str> = nb.split_whitespace().collect();
    wa.len() == wb.len()
        && wa.iter().zip(&wb).all(|(x, y)| match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(p), Ok(q)) => (p - q).abs() <= slack,
            _ => x == y,
        })
}

fn tai64n(unix: f64) -> [u8; 12] {
    let s = unix.floor();
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&((1u64 << 62) + 37 + s as u64).to_be_bytes());
    b[8..].copy_from_slice(&(((unix - s) * 1e9) as u32).to_be_bytes());
    b
}

/// Replaces `svc/supervise/status` with a record made up from its fields.
fn write_status(svc: &Path, pid: u64, wstat: u16, flags: u8, ago: f64, ready_ago: f64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let mut b = Vec::new();
    b.extend_from_slice(&tai64n(now - ago));
    b.extend_from_slice(&tai64n(now - ready_ago));
    b.extend_from_slice(&pid.to_be_bytes());
    b.extend_from_slice(&wstat.to_be_bytes());
    b.push(flags);
    let tmp = svc.join("supervise/status.test");
    fs::write(&tmp, &b).unwrap();
    fs::rename(&tmp, svc.join("supervise/status")).unwrap();
}

/// rinit-svstat and s6-svstat agree on `svc` for every option set.
fn assert_svstat_agrees(sb: &Sandbox, s6_svstat: &Path, svc: &str, what: &str) {
    let sets: [&[&str]; 6] = [&[], &["-n"], &["-o", ALL_FIELDS], &["-uwNrpest"], &["-tu"], &["-n", "-o", "signal,signum,pid"]];
    for set in sets {
        let mut a: Vec<&str> = set.to_vec();
        a.push(svc);
        let t0 = std::time::Instant::now();
        let theirs = host(sb, s6_svstat, &a);
        let ours = tool(sb, "rinit-svstat", &a);
        // Whole seconds counted by clocks read that far apart differ by
        // its ceiling at most (under qemu-user on a busy machine, seconds).
        let slack = (t0.elapsed().as_secs_f64().ceil() as i64).max(1);
        assert_eq!(code(&ours), code(&theirs), "{what} {set:?}: exit codes differ");
        assert!(
            same_status_text(&stdout(&ours), &stdout(&theirs), slack),
            "{what} {set:?}:\n  s6-svstat:    {:?}\n  rinit-svstat: {:?}",
            stdout(&theirs),
            stdout(&ours)
        );
    }
}

#[test]
fn svstat_prints_what_s6_svstat_prints_for_every_kind_of_status() {
    let (Some(s6_supervise), Some(s6_svstat)) = (require("s6-supervise"), require("s6-svstat")) else { return };
    let mut sb = Sandbox::new();
    // An idle supervisor (service down, never started) keeps the lock and
    // the control FIFO and does not touch the status file we make up.
    let svc = supervised(&mut sb, &s6_supervise, "idle", true);
    let cases: &[(u64, u16, u8)] = &[
        (123, 0, 0),          // up, want down
        (123, 0, 4),          // up, want up
        (123, 0, 1 | 4),      // paused
        (123, 0, 8 | 4),      // up and ready
        (123, 0, 2 | 4 | 8),  // finishing: reported down
        (123, 0x0900, 2 | 1), // finishing and paused
        (0, 0, 0),            // down, exit 0
        (0, 0x0100, 4 | 8),   // down, exit 1, want up, ready
        (0, 0xff00, 8),       // exit 255
        (0, 9, 4),            // killed by SIGKILL
        (0, 15, 8),           // SIGTERM
        (0, 0x86, 0),         // SIGABRT with a core dump
        (0, 29, 0),           // SIGPOLL (SIGIO to Linux)
        (0, 45, 0),           // a signal without a name
        (0, 0x7f, 0),         // "stopped": neither exit nor signal
        (0, 0x107f, 0),
        (0, 0x0080, 0),
    ];
    for down_file in [true, false] {
        if !down_file {
            fs::remove_file(svc.join("down")).unwrap();
        }
        for &(pid, wstat, flags) in cases {
            write_status(&svc, pid, wstat, flags, 5.5, 3.5);
            let what = format!("pid {pid} wstat {wstat:#x} flags {flags} down file {down_file}:");
            assert_svstat_agrees(&sb, &s6_svstat, "idle", &what);
        }
    }
}

#[test]
fn svstat_output_follows_a_real_service_through_its_states() {
    let Some(s6_svstat) = require("s6-svstat") else { return };
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let svc = supervised(&mut sb, &sup, "svc", false);
        let who = sup.display().to_string();
        assert_svstat_agrees(&sb, &s6_svstat, "svc", &format!("{who}, up:"));
        assert!(stdout(&tool(&sb, "rinit-svstat", &["svc"])).starts_with("up (pid "));

        let o = tool(&sb, "rinit-svc", &["-p", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        wait_until("paused", SOON, || status(&svc).map(|s| s.paused).unwrap_or(false));
        assert!(stdout(&tool(&sb, "rinit-svstat", &["svc"])).contains(", paused"));
        assert_svstat_agrees(&sb, &s6_svstat, "svc", &format!("{who}, paused:"));
        tool(&sb, "rinit-svc", &["-c", "svc"]);

        let o = tool(&sb, "rinit-svc", &["-wD", "-T", "5000", "-d", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let st = status(&svc).unwrap();
        assert!(!is_up(&svc) && !st.want_up && st.ready, "-wD: down and finished");
        assert!(stdout(&tool(&sb, "rinit-svstat", &["svc"])).starts_with("down (signal SIGTERM) "));
        assert_svstat_agrees(&sb, &s6_svstat, "svc", &format!("{who}, down:"));
    }
}

#[test]
fn svc_brings_services_down_and_up_and_waits() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let svc = supervised(&mut sb, &sup, "svc", false);
        let first = status(&svc).unwrap().pid;

        let o = tool(&sb, "rinit-svc", &["-wd", "-T", "5000", "-d", "svc"]);
        assert_eq!(code(&o), 0, "{}: -wd -d: {}", sup.display(), stderr(&o));
        assert!(!is_up(&svc), "-wd returned before the service was down");

        let o = tool(&sb, "rinit-svc", &["-wu", "-T", "5000", "-u", "svc"]);
        assert_eq!(code(&o), 0, "{}: -wu -u: {}", sup.display(), stderr(&o));
        let st = status(&svc).unwrap();
        assert!(st.pid != 0 && st.pid != first && st.want_up, "-wu returned before the service was up");

        // -wr: a restart, seen through events, whatever the state before.
        std::thread::sleep(Duration::from_millis(1100)); // past the restart throttle
        let o = tool(&sb, "rinit-svc", &["-wr", "-T", "5000", "-t", "svc"]);
        assert_eq!(code(&o), 0, "{}: -wr -t: {}", sup.display(), stderr(&o));
        let again = status(&svc).unwrap();
        assert!(again.pid != 0 && again.pid != st.pid, "-wr returned before a new run");

        // Already down: -wd returns at once, from the status file.
        tool(&sb, "rinit-svc", &["-wD", "-d", "svc"]);
        let o = tool(&sb, "rinit-svc", &["-wd", "-T", "2000", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
}

#[test]
fn svc_capital_letters_keep_the_down_file() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let svc = supervised(&mut sb, &sup, "svc", false);
        let o = tool(&sb, "rinit-svc", &["-wD", "-T", "5000", "-D", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(svc.join("down").exists(), "-D leaves ./down");
        assert!(!is_up(&svc));
        let o = tool(&sb, "rinit-svc", &["-wu", "-T", "5000", "-U", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(!svc.join("down").exists(), "-U removes ./down");
        assert!(status(&svc).unwrap().pid != 0);
    }
}

#[test]
fn svc_signal_letters_reach_the_service() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        // The service reports the signals it gets, then exits on TERM.
        let dir = sb.service(
            "svc",
            "trap 'echo HUP >> got' HUP\ntrap 'echo USR1 >> got' USR1\ntrap 'echo ALRM >> got' ALRM\ntouch trapped\nwhile :; do sleep 0.05; done",
        );
        sb.spawn(args![&sup, "svc"]);
        wait_until("the traps to be set", SOON, || dir.join("trapped").exists());
        for (letter, name) in [("-h", "HUP"), ("-1", "USR1"), ("-a", "ALRM")] {
            let o = tool(&sb, "rinit-svc", &[letter, "svc"]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            wait_until(&format!("the service to get SIG{name}"), SOON, || sb.read("svc/got").contains(name));
        }
        let pid = status(&dir).unwrap().pid;
        tool(&sb, "rinit-svc", &["-k", "svc"]);
        wait_until("a new run after -k", SOON, || status(&dir).map(|s| s.pid != 0 && s.pid != pid).unwrap_or(false));
    }
}

fn w(sb: &Sandbox, a: &[&str]) -> i32 {
    code(&tool(sb, "rinit-svwait", a))
}

#[test]
fn svwait_waits_for_all_or_any_with_timeouts() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let up = supervised(&mut sb, &sup, "up", false);
        let _down = supervised(&mut sb, &sup, "down", true);

        assert_eq!(w(&sb, &["-u", "-t", "300", "up"]), 0);
        assert_eq!(w(&sb, &["-d", "-t", "300", "down"]), 0);
        assert_eq!(w(&sb, &["-o", "-u", "-t", "300", "up", "down"]), 0, "-o: one is enough");
        assert_eq!(w(&sb, &["-o", "-d", "-t", "300", "up", "down"]), 0, "-o: one is enough");
        let o = tool(&sb, "rinit-svwait", &["-a", "-u", "-t", "300", "up", "down"]);
        assert_eq!(code(&o), 99, "-a: all are needed");
        assert!(stderr(&o).contains("rinit-svwait: fatal: timed out"), "{}", stderr(&o));
        assert_eq!(w(&sb, &["-u", "-t", "300", "down"]), 99);
        assert_eq!(w(&sb, &["-r", "-t", "300", "up"]), 99, "-r needs a restart, not a state");

        // A waiter started first sees the change made after it.
        let b = bin("rinit-svwait");
        let mut waiter = sb.spawn(args![b, "-a", "-u", "-t", "5000", "up", "down"]);
        wait_until("the waiter to subscribe", SOON, || listeners(&sb.path("down")) == 1);
        assert!(waiter.is_running(), "svwait -u returned before down was up");
        assert_eq!(code(&tool(&sb, "rinit-svc", &["-u", "down"])), 0);
        let st = waiter.wait_timeout(SOON).expect("svwait -u to return");
        assert_eq!(st.code(), Some(0), "{}", waiter.output());

        let mut waiter = sb.spawn(args![b, "-D", "-t", "5000", "up"]);
        wait_until("the waiter to subscribe", SOON, || listeners(&up) == 1);
        assert!(waiter.is_running());
        tool(&sb, "rinit-svc", &["-d", "up"]);
        assert_eq!(waiter.wait_timeout(SOON).expect("svwait -D to return").code(), Some(0), "{}", waiter.output());
        assert!(!is_up(&up));
    }
}

#[test]
fn svwait_counts_a_supervisor_that_exits_as_a_failure_as_s6_svwait_does() {
    let s6_svwait = require("s6-svwait");
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let svc = supervised(&mut sb, &sup, "svc", true);
        let ours = sb.spawn(args![bin("rinit-svwait"), "-U", "-t", "5000", "svc"]);
        let theirs = s6_svwait.as_ref().map(|p| sb.spawn(args![p, "-U", "-t", "5000", "svc"]));
        let n = 1 + theirs.is_some() as usize;
        wait_until("the waiters to subscribe", SOON, || listeners(&svc) == n);
        // x: the supervisor exits as soon as the service is down (it is).
        assert_eq!(code(&tool(&sb, "rinit-svc", &["-x", "svc"])), 0);
        for mut waiter in [Some(ours), theirs].into_iter().flatten() {
            let st = waiter.wait_timeout(SOON).expect("svwait to see the supervisor go");
            assert_eq!(st.code(), Some(1), "{}: {}", sup.display(), waiter.output());
            assert!(waiter.output().contains("some services reported permanent failure or their supervisor died"));
        }
    }
}

#[test]
fn svwait_exit_code_counts_services_that_will_not_come_up() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        // run fails before it is ready (it never writes to its
        // notification-fd); finish exiting 125 means "do not restart" (O).
        for name in ["a", "b"] {
            sb.service(name, "sleep 0.2; exit 1");
            sb.write(&format!("{name}/notification-fd"), "3\n");
            sb.script(&format!("{name}/finish"), "exit 125");
            sb.write(&format!("{name}/down"), "");
            let dir = sb.path(name);
            sb.spawn(args![&sup, name]);
            wait_until("the supervisor to start", SOON, || status(&dir).is_some() && dir.join("event").is_dir());
        }
        let mut waiter = sb.spawn(args![bin("rinit-svwait"), "-U", "-t", "5000", "a", "b"]);
        wait_until("the waiter to subscribe", SOON, || listeners(&sb.path("a")) + listeners(&sb.path("b")) == 2);
        for name in ["a", "b"] {
            assert_eq!(code(&tool(&sb, "rinit-svc", &["-u", name])), 0);
        }
        let st = waiter.wait_timeout(SOON).expect("svwait to return");
        assert_eq!(st.code(), Some(2), "{}: {}", sup.display(), waiter.output());
    }
}

#[test]
fn svc_and_svwait_wait_for_readiness_notified_through_notification_fd() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        sb.service("svc", "sleep 0.3; echo >&3; exec sleep 1000");
        sb.write("svc/notification-fd", "3\n");
        sb.write("svc/down", "");
        let dir = sb.path("svc");
        sb.spawn(args![&sup, "svc"]);
        wait_until("the supervisor to start", SOON, || status(&dir).is_some() && dir.join("event").is_dir());
        let o = tool(&sb, "rinit-svc", &["-wU", "-T", "5000", "-u", "svc"]);
        assert_eq!(code(&o), 0, "{}: {}", sup.display(), stderr(&o));
        assert!(stderr(&o).is_empty(), "{}", stderr(&o));
        let st = status(&dir).unwrap();
        assert!(st.ready && is_up(&dir), "-wU returned before the service was ready");
        assert_eq!(code(&tool(&sb, "rinit-svwait", &["-U", "-t", "1000", "svc"])), 0);
        assert!(stdout(&tool(&sb, "rinit-svstat", &["svc"])).contains(", ready "));
        // -wR: restarted and ready again.
        std::thread::sleep(Duration::from_millis(1100)); // past the restart throttle
        let o = tool(&sb, "rinit-svc", &["-wR", "-T", "5000", "-k", "svc"]);
        assert_eq!(code(&o), 0, "{}: {}", sup.display(), stderr(&o));
        assert!(status(&dir).unwrap().pid != st.pid);
    }
}

#[test]
fn svc_wait_times_out_with_99_and_sends_nothing_to_an_unsupervised_dir() {
    for sup in supervisors() {
        let mut sb = Sandbox::new();
        let _svc = supervised(&mut sb, &sup, "svc", true);
        let o = tool(&sb, "rinit-svc", &["-wu", "-T", "200", "svc"]);
        assert_eq!(code(&o), 99);
        assert!(stderr(&o).contains("fatal: timed out"), "{}", stderr(&o));
        // No readiness without notification-fd: s6-svc's warning, then a wait for up.
        let o = tool(&sb, "rinit-svc", &["-wU", "-T", "5000", "-u", "svc"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains("svc/notification-fd not present - ignoring request for readiness notification"));
        assert!(is_up(&sb.path("svc")));
    }
    let sb = Sandbox::new();
    let o = tool(&sb, "rinit-svc", &["-wu", "-T", "200", "-u", "nowhere"]);
    assert_eq!(code(&o), 111);
    assert!(stderr(&o).contains("unable to subscribe to events for nowhere: No such file or directory"), "{}", stderr(&o));
}

/// `wait::MAX_SERVICES`: as many as one scanner may supervise.
const WAIT_MAX: usize = 4096;

#[test]
fn waits_on_more_services_than_the_capacity_are_refused() {
    let sb = Sandbox::new();
    let n = WAIT_MAX + 1;
    let many: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    for i in 0..n {
        sb.mkdir(&format!("s{i}/event"));
        sb.write(&format!("s{i}/supervise/status"), &"\0".repeat(35));
    }
    let mut a: Vec<&str> = vec!["-t", "100"];
    a.extend(many.iter().map(|s| s.as_str()));
    let o = tool(&sb, "rinit-svwait", &a);
    assert_eq!(code(&o), 100);
    assert_eq!(stderr(&o), format!("rinit-svwait: fatal: too many services to wait for, from s{WAIT_MAX}: Argument list too long\n"));
    a.insert(0, "-wu");
    let o = tool(&sb, "rinit-svc", &a[..]);
    assert_eq!(code(&o), 100);
    assert!(stderr(&o).contains("too many services"), "{}", stderr(&o));
    // And no listener is left behind.
    for i in 0..n {
        assert_eq!(fs::read_dir(sb.path(&format!("s{i}/event"))).unwrap().count(), 0, "s{i}/event");
    }
}

#[test]
fn svwait_and_svc_w_wait_on_a_hundred_services() {
    let mut sb = Sandbox::new();
    let names: Vec<String> = (0..100).map(|i| format!("scan/s{i}")).collect();
    for n in &names {
        sb.service(n, "exec sleep 1000");
        sb.write(&format!("{n}/down"), "");
    }
    sb.spawn_pid1(args![bin("rinit-scan"), "scan"]);
    // A hundred supervisors started one after the other: under qemu-user
    // on a busy machine each start is a qemu start, and 5 s is not enough.
    wait_until("100 services supervised", SOON * 6, || {
        names.iter().all(|n| status(&sb.path(n)).is_some() && sb.path(n).join("event").is_dir())
    });
    let with = |opts: &[&'static str]| -> Vec<&str> { opts.iter().copied().chain(names.iter().map(|s| s.as_str())).collect() };

    let o = tool(&sb, "rinit-svc", &with(&["-wu", "-T", "20000", "-u"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(names.iter().all(|n| is_up(&sb.path(n))), "svc -wu returned before every service was up");
    let o = tool(&sb, "rinit-svwait", &with(&["-u", "-t", "5000"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let o = tool(&sb, "rinit-svc", &with(&["-wD", "-T", "20000", "-d"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(names.iter().all(|n| status(&sb.path(n)).is_some_and(|s| s.pid == 0)), "svc -wD returned early");
    // One still down on purpose: -a waits for it, -o does not.
    let o = tool(&sb, "rinit-svwait", &with(&["-o", "-D", "-t", "5000"]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = tool(&sb, "rinit-svwait", &with(&["-u", "-t", "300"]));
    assert_eq!(code(&o), 99, "{}", stderr(&o));
    assert!(names.iter().all(|n| listeners(&sb.path(n)) == 0), "a listener was left behind");
}

#[test]
fn tools_refuse_bad_usage_with_exit_100_and_a_usage_line() {
    let sb = Sandbox::new();
    let cases: &[(&str, &[&str])] = &[
        ("rinit-svc", &[]),
        ("rinit-svc", &["-Z", "x"]),
        ("rinit-svc", &["-wx", "-u", "x"]),
        ("rinit-svc", &["-T", "abc", "-wu", "x"]),
        ("rinit-svc", &["-w"]),
        ("rinit-svstat", &[]),
        ("rinit-svstat", &["-Z", "x"]),
        ("rinit-svwait", &[]),
        ("rinit-svwait", &["-t", "soon", "x"]),
        ("rinit-svwait", &["-z", "x"]),
        ("rinit-svscanctl", &[]),
        ("rinit-svscanctl", &["-Y", "x"]),
    ];
    for (name, a) in cases {
        let o = tool(&sb, name, a);
        assert_eq!(code(&o), 100, "{name} {a:?}");
        assert!(stderr(&o).starts_with(&format!("{name}: usage: {name} ")), "{name} {a:?}: {}", stderr(&o));
    }
    let o = tool(&sb, "rinit-svstat", &["-o", "up,bogus", "x"]);
    assert_eq!(code(&o), 100);
    assert_eq!(stderr(&o), "rinit-svstat: fatal: invalid option field: bogus\n");
}

#[test]
fn unsupervised_directories_get_s6s_words_and_exit_codes() {
    let sb = Sandbox::new();
    // A service dir whose control FIFO nobody reads, and one that does not exist.
    sb.service("idle", "exec sleep 1000");
    sb.mkdir("idle/supervise");
    sb.mkdir("idle/event");
    let fifo = sb.path("idle/supervise/control");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());

    let o = tool(&sb, "rinit-svc", &["-u", "idle"]);
    assert_eq!((code(&o), stderr(&o).as_str()), (100, "rinit-svc: fatal: unable to control idle: supervisor not listening\n"));
    let o = tool(&sb, "rinit-svc", &["-u", "nowhere"]);
    assert_eq!(code(&o), 111);
    assert_eq!(stderr(&o), "rinit-svc: fatal: unable to control nowhere: No such file or directory\n");
    for d in ["idle", "nowhere"] {
        let o = tool(&sb, "rinit-svstat", &[d]);
        assert_eq!(code(&o), 1);
        assert_eq!(stderr(&o), format!("rinit-svstat: fatal: unable to read status for {d}: s6-supervise not running\n"));
    }
    let o = tool(&sb, "rinit-svwait", &["-t", "100", "nowhere"]);
    assert_eq!(code(&o), 111);
    assert_eq!(stderr(&o), "rinit-svwait: fatal: unable to subscribe to events for nowhere: No such file or directory\n");

    // A directory no supervisor ran in, and a supervise/ without its FIFO.
    sb.mkdir("never/supervise");
    let o = tool(&sb, "rinit-svc", &["-u", "never"]);
    assert_eq!(code(&o), 100);
    assert_eq!(stderr(&o), "rinit-svc: fatal: something is wrong with the never/supervise directory: No such file or directory\n");
    fs::remove_dir(sb.path("never/supervise")).unwrap();
    let o = tool(&sb, "rinit-svc", &["-u", "never"]);
    assert_eq!((code(&o), stderr(&o).as_str()), (100, "rinit-svc: fatal: unable to control never: supervisor not listening\n"));

    // The same exit codes as Debian's tools.
    for (ours, theirs, a) in [
        ("rinit-svc", "s6-svc", ["-u", "idle"]),
        ("rinit-svc", "s6-svc", ["-u", "nowhere"]),
        ("rinit-svc", "s6-svc", ["-u", "never"]),
        ("rinit-svstat", "s6-svstat", ["-n", "idle"]),
        ("rinit-svstat", "s6-svstat", ["-n", "nowhere"]),
        ("rinit-svwait", "s6-svwait", ["-u", "nowhere"]),
    ] {
        let Some(t) = require(theirs) else { return };
        assert_eq!(code(&tool(&sb, ours, &a)), code(&host(&sb, &t, &a)), "{ours} {a:?}");
    }
    // No listener left behind in event/.
    assert_eq!(fs::read_dir(sb.path("idle/event")).unwrap().count(), 0);
}

#[test]
fn svscanctl_writes_its_letters_to_the_scanner_fifo() {
    let sb = Sandbox::new();
    sb.mkdir("scan/.s6-svscan");
    let fifo = sb.path("scan/.s6-svscan/control");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());

    let o = tool(&sb, "rinit-svscanctl", &["-a", "scan"]);
    assert_eq!(code(&o), 100, "nobody reads the FIFO");
    assert_eq!(stderr(&o), "rinit-svscanctl: fatal: unable to control scan: supervisor not listening\n");
    let o = tool(&sb, "rinit-svscanctl", &["-a", "nowhere"]);
    assert_eq!(code(&o), 111);
    assert_eq!(stderr(&o), "rinit-svscanctl: fatal: unable to control nowhere: No such file or directory\n");
    sb.mkdir("broken/.s6-svscan");
    let o = tool(&sb, "rinit-svscanctl", &["-a", "broken"]);
    assert_eq!(code(&o), 100);
    assert_eq!(
        stderr(&o),
        "rinit-svscanctl: fatal: something is wrong with the broken/.s6-svscan directory. errno reported: No such file or directory\n"
    );
    if let Some(theirs) = require("s6-svscanctl") {
        for d in ["scan", "nowhere", "broken"] {
            assert_eq!(code(&host(&sb, &theirs, &["-a", d])), code(&tool(&sb, "rinit-svscanctl", &["-a", d])), "{d}");
        }
    }

    let mut reader = fs::OpenOptions::new().read(true).custom_flags(0o4000 /* O_NONBLOCK */).open(&fifo).unwrap();
    let o = tool(&sb, "rinit-svscanctl", &["-za", "-h", "-N", "scan"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut got = Vec::new();
    let _ = reader.read_to_end(&mut got);
    assert_eq!(got, b"zahN");
}

#[test]
fn svscanctl_drives_a_real_s6_svscan() {
    let Some(s6_svscan) = require("s6-svscan") else { return };
    let mut sb = Sandbox::new();
    sb.mkdir("scan");
    let mut scanner = sb.spawn(args![s6_svscan, "-t0", "scan"]);
    wait_until("s6-svscan to listen", SOON, || code(&tool(&sb, "rinit-svscanctl", &["-z", "scan"])) == 0);
    // A new service appears only on a rescan (-t0: no timer).
    let svc = sb.service("scan/new", "exec sleep 1000");
    std::thread::sleep(Duration::from_millis(100));
    assert!(status(&svc).is_none(), "started before the rescan");
    assert_eq!(code(&tool(&sb, "rinit-svscanctl", &["-a", "scan"])), 0);
    wait_until("the new service to be supervised and up", SOON, || status(&svc).map(|s| s.pid != 0).unwrap_or(false));
    assert_eq!(stdout(&tool(&sb, "rinit-svstat", &["-o", "up", "scan/new"])), "true\n");
    // -t: terminate; the scanner exits.
    assert_eq!(code(&tool(&sb, "rinit-svscanctl", &["-t", "scan"])), 0);
    assert!(scanner.wait_timeout(SOON).is_some(), "s6-svscan did not exit on -t");
}

#[test]
fn tools_name_the_capacity_a_command_line_exceeds() {
    let sb = Sandbox::new();
    let letters = format!("-{}", "a".repeat(65));
    let o = tool(&sb, "rinit-svscanctl", &[&letters, "scan"]);
    assert_eq!((code(&o), stderr(&o).as_str()), (100, "rinit-svscanctl: fatal: too many commands (max 64)\n"));
    let o = tool(&sb, "rinit-svc", &[&letters.replace('a', "u"), "svc"]);
    assert_eq!((code(&o), stderr(&o).as_str()), (100, "rinit-svc: fatal: too many commands (max 64)\n"));
    let fields = vec!["up"; 33].join(",");
    let o = tool(&sb, "rinit-svstat", &["-o", &fields, "svc"]);
    assert_eq!((code(&o), stderr(&o).as_str()), (100, "rinit-svstat: fatal: too many fields (max 32)\n"));
}
