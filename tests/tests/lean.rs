//! The lean build of the smallest container image (scripts/build-lean:
//! the crates' default features off): a file asking for what it leaves
//! out gets one warning line naming it, and the service still runs.

use rinit_tests::*;
use std::ffi::{OsStr, OsString};
use std::fs;


#[test]
fn a_lean_supervisor_given_notify_socket_warns_once_and_still_runs_the_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "#!/bin/sh\necho \"NOTIFY_SOCKET=${NOTIFY_SOCKET-unset}\"\nexec sleep 1000\n");
    sb.write("svc/notify-socket", "");
    let p = sb.spawn(args![lean_bin("rinit-supervise"), "svc"]);
    let warning = "rinit-supervise svc: warning: ./notify-socket: this build has no readiness beyond notification-fd (feature sd-notify): ignored\n";
    let out = wait_output(&p, "NOTIFY_SOCKET=unset");
    // Up, and ready at once: nothing is awaited that cannot come.
    let st = wait_status(&svc, "the service to be up and ready", |s| s.pid != 0 && s.ready);
    assert!(alive(st.pid));
    assert_eq!(out.matches(warning).count(), 1, "{out}");
    assert_eq!(out.lines().filter(|l| l.contains("warning")).count(), 1, "{out}");
    assert!(!svc.join("supervise/notify").exists());
}

#[test]
fn a_lean_supervisor_given_cgroup_limits_warns_once_and_still_runs_the_service() {
    let mut sb = Sandbox::new();
    let svc = sb.service("svc", "#!/bin/sh\nexec sleep 1000\n");
    sb.write("svc/cgroup/pids.max", "10\n");
    let p = sb.spawn(args![lean_bin("rinit-supervise"), "svc"]);
    let st = wait_status(&svc, "the service to be up", |s| s.pid != 0);
    assert!(alive(st.pid));
    let out = wait_output(&p, "rinit-supervise svc: warning: ./cgroup: this build has no cgroup per service (feature cgroups): ignored\n");
    assert_eq!(out.lines().filter(|l| l.contains("warning")).count(), 1, "{out}");
}

#[test]
fn a_lean_scanner_given_a_watchdog_warns_and_still_supervises() {
    let mut sb = Sandbox::new();
    let svc = sb.service("scan/svc", "#!/bin/sh\nexec sleep 1000\n");
    let path = format!("PATH={}:{}", lean_bin_dir().display(), test_path());
    let a: Vec<OsString> = vec![
        "/usr/bin/env".into(),
        path.into(),
        lean_bin("rinit-scan").into(),
        "-W".into(),
        "/dev/watchdog,1000,5000".into(),
        sb.path("scan").into(),
    ];
    let refs: Vec<&OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    let p = sb.spawn_pid1(&refs);
    wait_output(&p, "rinit-scan: warning: -W: this build has no hardware watchdog (feature watchdog): ignored\n");
    let st = wait_status(&svc, "the service to be up", |s| s.pid != 0);
    assert!(st.pid != 0);
    assert!(!p.output().contains("fatal"), "{}", p.output());
}

#[test]
fn a_lean_rinit_named_a_basedir_says_it_has_none_in_one_line() {
    let sb = Sandbox::new();
    let base = sb.mkdir("base");
    fs::create_dir_all(base.join("conf")).unwrap();
    let out = sb.run(args![lean_bin("rinit"), "-c", base.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(100), "{err}");
    assert_eq!(
        err,
        format!("rinit: fatal: this build has only the container entrypoint of zero configuration (feature basedir): unable to use the basedir {}\n", base.display())
    );
}
