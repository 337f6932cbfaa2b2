//! Stage 3 names what the grace time left: each process still there when
//! TERM's grace time ends is named (pid and name) before KILL, when /proc
//! is the pid namespace's own.

use rinit_tests::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn stage_3_names_each_process_left_after_the_grace_time_before_kill() {
    let sb = Sandbox::new();
    let compiled = sb.path("compiled");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc");
    assert!(sb.run(args![bin("rinit-rc-compile"), compiled, demo]).status.success());
    let base = sb.path("base");
    let o = sb.run(args![bin("rinit-maker"), "-c", base, "-b", bin_dir(), "-r", compiled, "-C", "-q", "300", base]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sb.script("base/run-image/service/stubborn/run", "trap '' TERM\necho stubborn is up\nexec sleep 1000");
    let log = sb.path("rinit.log");
    let out = fs::File::create(&log).unwrap();
    // --mount-proc: /proc is this pid namespace's, as in a runtime's container.
    let mut child = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL", "--"])
        .arg(bin("rinit"))
        .arg("-c")
        .arg(&base)
        .env("PATH", test_path())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let text = || fs::read_to_string(&log).unwrap_or_default();
    wait_until("the stubborn service and default to be up", SOON, || {
        text().contains("stubborn is up") && text().contains("default is up")
    });
    let inner = fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id())).unwrap();
    let pid = inner.split_whitespace().next().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let end = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "rinit did not end:\n{}", text());
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = text();
    let grace = t.find("grace time of 300 ms elapsed").unwrap_or_else(|| panic!("{t}"));
    let named = t.find("rinit-shutdown: info: left after the grace time: pid ").unwrap_or_else(|| panic!("{t}"));
    let kill = t.find("sending all processes the KILL signal").unwrap_or_else(|| panic!("{t}"));
    assert!(grace < named && named < kill, "{t}");
    // Up to the KILL line's start (its `rinit-shutdown: info: ` is left out).
    let named: Vec<&str> = t[named..kill].lines().filter(|l| *l != "rinit-shutdown: info: ").collect();
    assert!(named.iter().all(|l| l.starts_with("rinit-shutdown: info: left after the grace time: pid ")), "{t}");
    assert!(named.iter().any(|l| l.ends_with(" (sleep)")), "the stubborn sleep is named: {t}");
    let _ = child.kill();
}
