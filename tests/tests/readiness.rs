//! Readiness beyond `notification-fd`: the sd_notify socket
//! (`notify-socket`), `check`, `timeout-ready` and `timeout-watchdog`, seen
//! through the status file, the event fifodir, rinit's and Debian's tools.

use rinit_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tiny sd_notify client: `notify [-s SECS] MSG...` prints `pid N`, sends
/// each MSG (with `\n` for newlines) as one datagram to $NOTIFY_SOCKET, then
/// sleeps SECS (alive, so the supervisor can see who it is).
const CLIENT: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
    int i = 1, secs = 0;
    if (argc > 2 && !strcmp(argv[1], "-s")) { secs = atoi(argv[2]); i = 3; }
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path) { fprintf(stderr, "notify: no NOTIFY_SOCKET\n"); return 1; }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    for (; i < argc; i++) {
        char msg[70000];
        size_t n = 0;
        if (!strncmp(argv[i], "BIG", 3)) { n = 66000; memset(msg, 'A', n); memcpy(msg, "STATUS=", 7); }
        else for (const char *p = argv[i]; *p && n < sizeof msg; p++) {
            if (p[0] == '\\' && p[1] == 'n') { msg[n++] = '\n'; p++; } else msg[n++] = *p;
        }
        if (sendto(fd, msg, n, 0, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("notify: sendto"); return 1; }
        usleep(20000);
    }
    sleep(secs);
    return 0;
}
"#;

/// Builds the client into the sandbox (gcc is in scripts/deps).
fn client(sb: &Sandbox) -> PathBuf {
    let src = sb.write("notify.c", CLIENT);
    let out = sb.path("notify");
    let st = Command::new("gcc").arg("-O1").arg("-o").arg(&out).arg(&src).status();
    assert!(st.is_ok_and(|s| s.success()), "gcc failed on notify.c (apt-get install gcc libc6-dev)");
    out
}

fn supervise(sb: &mut Sandbox, svc: &str) -> Proc {
    sb.spawn(args![bin("rinit-supervise"), svc])
}

fn wait_up(svc: &Path) -> Status {
    wait_status(svc, "the service to be up", |s| s.pid != 0 && !s.finishing)
}

fn wait_ready(svc: &Path) -> Status {
    wait_status(svc, "the service to be ready", |s| s.pid != 0 && s.ready)
}


fn tool(sb: &Sandbox, prog: &Path, args: &[&str]) -> std::process::Output {
    let mut v: Vec<&std::ffi::OsStr> = vec![prog.as_os_str()];
    v.extend(args.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

/// Starts `s6-svwait -U` (or another waiter) on `svc` once it listens.
fn waiter(sb: &Sandbox, prog: PathBuf, args: &'static [&'static str]) -> std::thread::JoinHandle<std::process::Output> {
    let dir = sb.path("");
    std::thread::spawn(move || Command::new(prog).args(args).current_dir(dir).output().unwrap())
}


// ------------------------------------------------------------ notify-socket

#[test]
fn sd_notify_ready_from_a_c_client_makes_the_service_ready() {
    let mut sb = Sandbox::new();
    client(&sb);
    let svc = sb.service("svc", "echo \"socket $NOTIFY_SOCKET\" > env\nsleep 0.3\nexec ../notify -s 100 'STATUS=serving 3 clients' READY=1");
    sb.write("svc/notify-socket", "");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let up = wait_up(&svc);
    assert!(!up.ready, "not ready before READY=1");
    let st = wait_ready(&svc);
    assert_eq!(st.pid, up.pid, "the same run became ready");
    ev.wait_for("uU");
    let env = sb.read("svc/env");
    let sock = svc.join("supervise/notify");
    assert_eq!(env.trim(), format!("socket {}", sock.display()), "NOTIFY_SOCKET is the absolute path");
    let meta = fs::symlink_metadata(&sock).unwrap();
    assert_eq!(meta.permissions().mode() & 0o077, 0, "the socket is private");
    wait_until("STATUS= kept", SOON, || sb.read("svc/supervise/notify-status") == "STATUS=serving 3 clients\n");
    let out = tool(&sb, &bin("rinit-svstat"), &["svc"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(", ready ") && text.ends_with("; status: serving 3 clients\n"), "{text}");
    tools_see_ready(&sb);
}

#[test]
fn sd_notify_ready_from_python_wakes_rinit_svwait_and_s6_svwait() {
    let Some(svwait) = require("s6-svwait") else { return };
    let Some(python) = require("python3") else { return };
    let mut sb = Sandbox::new();
    sb.write(
        "svc/run",
        &format!(
            "#!{}\nimport os, socket, time\ntime.sleep(0.4)\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
             s.connect(os.environ['NOTIFY_SOCKET'])\ns.send(b'READY=1\\nMAINPID=1\\nX-UNKNOWN=yes')\ntime.sleep(100)\n",
            python.display()
        ),
    );
    fs::set_permissions(sb.path("svc/run"), fs::Permissions::from_mode(0o755)).unwrap();
    sb.write("svc/notify-socket", "");
    let svc = sb.path("svc");
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let s6 = waiter(&sb, svwait, &["-U", "-t", "5000", "svc"]);
    let ours = waiter(&sb, bin("rinit-svwait"), &["-U", "-t", "5000", "svc"]);
    let out = s6.join().unwrap();
    assert!(out.status.success(), "s6-svwait -U: {}", String::from_utf8_lossy(&out.stderr));
    let out = ours.join().unwrap();
    assert!(out.status.success(), "rinit-svwait -U: {}", String::from_utf8_lossy(&out.stderr));
    assert!(status(&svc).unwrap().ready);
    if let Some(svstat) = require("s6-svstat") {
        let out = tool(&sb, &svstat, &["-o", "up,ready", "svc"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "true true\n");
    }
}

#[test]
fn ready_from_another_session_is_dropped_with_its_pid() {
    let mut sb = Sandbox::new();
    client(&sb);
    // The spoofer leaves the service's session before it speaks.
    let svc = sb.service("svc", "setsid ../notify -s 3 READY=1 > spoofer &\nexec sleep 100");
    sb.write("svc/notify-socket", "");
    let p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let mut pid = String::new();
    wait_until("the spoofer to start", SOON, || {
        pid = sb.read("svc/spoofer").trim().to_owned();
        !pid.is_empty()
    });
    wait_output(&p, &format!("rinit-supervise svc: warning: dropped an sd_notify message from {pid}: not a process of the service"));
    assert!(!status(&svc).unwrap().ready, "a spoofed READY=1 is ignored");
    // And from outside the namespace (a pid the supervisor cannot see).
    let sock = std::os::unix::net::UnixDatagram::unbound().unwrap();
    sock.send_to(b"READY=1", svc.join("supervise/notify")).unwrap();
    wait_output(&p, "dropped an sd_notify message from pid 0: not a process of the service");
    assert!(!status(&svc).unwrap().ready);
}

#[test]
fn garbage_and_oversize_datagrams_are_dropped_and_later_ones_read() {
    let mut sb = Sandbox::new();
    client(&sb);
    let svc = sb.service("svc", "exec ../notify -s 100 'garbage without equals' BIG 'READY=1\\nSTATUS=fine' STOPPING=1");
    sb.write("svc/notify-socket", "");
    let p = supervise(&mut sb, "svc");
    wait_ready(&svc);
    let out = wait_output(&p, "longer than 4096 bytes");
    assert!(out.contains(": malformed"), "{out}");
    assert!(p.output().lines().filter(|l| l.contains("dropped")).count() == 2, "{}", p.output());
    wait_until("STATUS= and STOPPING=1 kept", SOON, || sb.read("svc/supervise/notify-status") == "STATUS=fine\nSTOPPING=1\n");
    let out = tool(&sb, &bin("rinit-svstat"), &["svc"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.ends_with(", stopping; status: fine\n"), "{text}");
}

// ------------------------------------------------------------ check

#[test]
fn check_makes_the_service_ready_once_it_succeeds() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "(sleep 0.3; touch listening) &\nexec sleep 100");
    sb.script("svc/check", "echo \"$1\" > checked-as\ntest -e listening");
    sb.write("svc/check-interval", "50\n");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    let up = wait_up(&svc);
    assert!(!up.ready);
    wait_ready(&svc);
    assert!(svc.join("listening").exists(), "ready only once check succeeds");
    ev.wait_for("uU");
    assert_eq!(sb.read("svc/checked-as"), "svc\n");
    tools_see_ready(&sb);
}

/// rinit-svwait -U and Debian's s6-svwait -U return, s6-svstat says ready.
fn tools_see_ready(sb: &Sandbox) {
    let out = tool(sb, &bin("rinit-svwait"), &["-U", "-t", "2000", "svc"]);
    assert!(out.status.success(), "rinit-svwait -U on a ready service");
    let Some(svwait) = require("s6-svwait") else { return };
    let out = tool(sb, &svwait, &["-U", "-t", "2000", "svc"]);
    assert!(out.status.success(), "s6-svwait -U on a ready service");
    let Some(svstat) = require("s6-svstat") else { return };
    let out = tool(sb, &svstat, &["-o", "up,ready", "svc"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "true true\n");
}

#[test]
fn a_check_that_is_not_executable_is_one_line_and_never_ready() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "exec sleep 100");
    sb.write("svc/check", "#!/bin/sh\nexit 0\n");
    sb.write("svc/check-interval", "20\n");
    let p = supervise(&mut sb, "svc");
    wait_up(&svc);
    let out = wait_output(&p, "rinit-supervise svc: warning: ./check cannot run, the service will never be ready: Permission denied");
    // Many check intervals later: still up, still not ready, still one line.
    let t0 = Instant::now();
    wait_until("a few check intervals", SOON, || t0.elapsed() > Duration::from_millis(300));
    let st = status(&svc).unwrap();
    assert!(st.pid != 0 && !st.ready, "{st:?}");
    assert_eq!(p.output().lines().count(), 1, "{out}");
}

// ------------------------------------------------------------ deadlines

#[test]
fn a_service_never_ready_is_restarted_after_timeout_ready() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "trap 'echo got TERM >> terms; exit 1' TERM\nwhile :; do sleep 0.05; done");
    sb.write("svc/notify-socket", "");
    sb.write("svc/timeout-ready", "300\n");
    let mut ev = Events::listen(&svc);
    let p = supervise(&mut sb, "svc");
    let first = wait_up(&svc);
    let got = ev.wait_for("uTdu");
    assert!(!got.contains('U'), "never ready: {got}");
    wait_output(&p, "rinit-supervise svc: warning: not ready within ./timeout-ready: restarting it");
    let second = wait_up(&svc);
    assert_ne!(second.pid, first.pid);
    assert!(sb.read("svc/terms").contains("got TERM"), "the down signal");
}

#[test]
fn a_service_ignoring_the_down_signal_is_killed_after_timeout_kill() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "trap '' TERM\nwhile :; do sleep 0.05; done");
    sb.write("svc/notify-socket", "");
    sb.write("svc/timeout-ready", "200\n");
    sb.write("svc/timeout-kill", "200\n");
    let mut ev = Events::listen(&svc);
    let _p = supervise(&mut sb, "svc");
    wait_up(&svc);
    ev.wait_for("uTd");
    let st = wait_status(&svc, "run killed", |s| s.pid == 0 || s.wstat & 0x7f == 9);
    assert!(st.wstat & 0x7f == 9 || st.pid == 0, "{st:?}");
}

#[test]
fn a_service_that_stops_sending_watchdog_is_restarted() {
    let mut sb = Sandbox::new();
    client(&sb);
    let svc = sb.service(
        "svc",
        "echo \"$WATCHDOG_USEC\" > usec\n../notify -s 1 READY=1 WATCHDOG=1 &\nsleep 0.1\n../notify -s 1 WATCHDOG=1 &\nexec sleep 100",
    );
    sb.write("svc/notify-socket", "");
    sb.write("svc/timeout-watchdog", "400\n");
    let mut ev = Events::listen(&svc);
    let p = supervise(&mut sb, "svc");
    let first = wait_ready(&svc);
    ev.wait_for("uUWdu");
    wait_output(&p, "rinit-supervise svc: warning: no WATCHDOG=1 within ./timeout-watchdog: restarting it");
    assert_eq!(sb.read("svc/usec"), "400000\n");
    let second = wait_up(&svc);
    assert_ne!(first.pid, second.pid);
}

#[test]
fn a_socket_path_too_long_is_one_line_and_never_ready() {
    let mut sb = Sandbox::new();
    let rel = format!("{}/svc", "d".repeat(100));
    let svc = sb.service(&rel, "exec sleep 100");
    sb.write(&format!("{rel}/notify-socket"), "");
    let p = supervise(&mut sb, &rel);
    wait_up(&svc);
    wait_output(&p, "/svc: warning: unable to bind supervise/notify: File name too long");
    let t0 = Instant::now();
    wait_until("a moment", SOON, || t0.elapsed() > Duration::from_millis(200));
    assert!(!status(&svc).unwrap().ready, "asked for a socket it did not get: never ready");
}

#[test]
fn timeout_watchdog_without_a_notify_socket_is_one_warning() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "echo \"[$WATCHDOG_USEC]\" > usec\nexec sleep 100");
    sb.write("svc/timeout-watchdog", "100\n");
    let p = supervise(&mut sb, "svc");
    let st = wait_ready(&svc);
    wait_output(&p, "rinit-supervise svc: warning: ./timeout-watchdog without a notify socket: ignored");
    let t0 = Instant::now();
    wait_until("several watchdog periods", SOON, || t0.elapsed() > Duration::from_millis(400));
    assert_eq!(status(&svc).unwrap().pid, st.pid, "not restarted");
    assert_eq!(sb.read("svc/usec"), "[]\n");
}
