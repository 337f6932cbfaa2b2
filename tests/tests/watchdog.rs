//! The watchdog petted from process 1's loop: rinit-scan's `-W`, the
//! hand-over to `.s6-svscan/finish`, rinit-maker's options. A regular file
//! stands in for the device here (its ioctls fail, so each keepalive is
//! the one-byte write drivers also accept, and the file's size counts
//! them); the real device, softdog, is in tests/tests/qemu_cgroup.rs.

use rinit_tests::*;
use std::fs;

fn size(p: &std::path::Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn the_scanner_pets_the_watchdog_from_its_loop() {
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    let dev = sb.write("watchdog", "");
    let spec = format!("{},50,1000", dev.display());
    let p = sb.spawn_pid1(args![bin("rinit-scan"), "-W", spec, scan]);
    wait_until("ten keepalives", SOON, || size(&dev) >= 10);
    let out = p.output();
    let d = dev.display();
    // qemu-user answers an ioctl it does not translate (the watchdog's)
    // with ENOSYS itself; the kernel says a regular file has no such ioctl.
    let why = if qemu_user() { "Function not implemented" } else { "Inappropriate ioctl for device" };
    assert_eq!(
        out,
        format!(
            "rinit-scan: warning: unable to set the timeout of {d}: keeping the device's: {why}\n\
             rinit-scan: info: watchdog {d}: timeout 1 s, petted every 50 ms\n"
        )
    );
    // About one every 50 ms, not one every turn of the loop.
    let (n0, t0) = (size(&dev), std::time::Instant::now());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let rate = (size(&dev) - n0) as f64 / t0.elapsed().as_secs_f64();
    assert!((5.0..=40.0).contains(&rate), "{rate} keepalives a second");
}

#[test]
fn finish_gets_the_watchdog_open_on_fd_3() {
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    let dev = sb.write("watchdog", "");
    sb.script("scan/.s6-svscan/finish", "readlink /proc/self/fd/3 > ../handed");
    let spec = format!("{},50,1000", dev.display());
    let mut p = sb.spawn_pid1(args![bin("rinit-scan"), "-W", spec, scan]);
    wait_until("a keepalive", SOON, || size(&dev) >= 1);
    let ctl = scan.join(".s6-svscan/control");
    wait_until("the scanner to take commands", SOON, || fs::write(&ctl, "t").is_ok());
    assert!(p.wait_timeout(SOON).is_some(), "the scanner did not finish");
    assert_eq!(sb.read("handed"), format!("{}\n", dev.display()));
}

#[test]
fn a_watchdog_that_cannot_be_used_is_a_warning_and_the_scanner_runs() {
    let mut sb = Sandbox::new();
    let scan = sb.mkdir("scan");
    let dir = sb.service("scan/svc", "exec sleep 100");
    let missing = sb.path("no-such-device");
    let bad = format!("{},50,1000", missing.display());
    let p = sb.spawn_pid1(args![bin("rinit-scan"), "-W", bad, scan]);
    wait_until("the service to be up", SOON, || status(&dir).is_some_and(|s| s.pid != 0));
    assert_eq!(
        p.output(),
        format!(
            "rinit-scan: warning: unable to use the watchdog {},50,1000: running without it: No such file or directory\n",
            missing.display()
        )
    );
    let q = sb.spawn_pid1(args![bin("rinit-scan"), "-W", "/dev/watchdog,30000,5000", sb.mkdir("scan2")]);
    wait_until("the warning", SOON, || !q.output().is_empty());
    assert_eq!(
        q.output(),
        "rinit-scan: warning: unable to use the watchdog /dev/watchdog,30000,5000: running without it: Invalid argument\n"
    );
}

#[test]
fn rinit_maker_records_the_watchdog_and_refuses_a_bad_one() {
    let sb = Sandbox::new();
    let base = sb.path("base");
    let out = sb.run(args![bin("rinit-maker"), "-W", "/dev/watchdog,5000,30000", "-V", "-n", base]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(base.join("conf/watchdog")).unwrap(), "/dev/watchdog,5000,30000\n");
    assert!(base.join("conf/watchdog-disarm").exists());
    assert!(base.join("conf/no-cgroups").exists());

    let plain = sb.path("plain");
    assert!(sb.run(args![bin("rinit-maker"), plain]).status.success());
    assert!(!plain.join("conf/watchdog").exists() && !plain.join("conf/watchdog-disarm").exists());

    let out = sb.run(args![bin("rinit-maker"), "-W", "/dev/watchdog,30000", sb.path("bad")]);
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rinit-maker: fatal: bad watchdog (device,interval_ms,timeout_ms, interval shorter than timeout): /dev/watchdog,30000\n"
    );
}
