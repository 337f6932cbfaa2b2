//! On a real kernel (Debian's, under qemu): stage 1 mounts cgroup2 and
//! delegates it, a service over its `memory.max` is OOM-killed and
//! restarted, `pids.max` holds a fork bomb inside its service while the
//! rest of the system runs, and the hardware watchdog (softdog) keeps the
//! machine up while process 1 pets it and resets it when process 1 stops.
//!
//! How process 1 stops petting without rinit being made weaker for it: a
//! test-only program, scripts/stop-pid1.c (compiled here with gcc), stops
//! pid 1 with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT), as a hang would.
//! rinit has no switch to stop petting.
//!
//! One boot runs it all; a service, `checker`, reports on the console (the
//! scanner's own line about the watchdog is written before the catch-all
//! logger reads its FIFO, so the watchdog's state comes from sysfs here).

use rinit_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(p: &Path, body: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
}

fn sh(cmd: &str) {
    let st = Command::new("sh").arg("-ec").arg(cmd).status().expect("sh");
    assert!(st.success(), "failed: {cmd}");
}

/// The watchdog: petted every second, reset after 5 s without a keepalive.
const WATCHDOG: &str = "/dev/watchdog,1000,5000";

const CHECKER: &str = r#"c=/dev/console
say() { echo "checker: $*" > $c; }
up() { cut -d' ' -f1 /proc/uptime; }
cg=/sys/fs/cgroup
sleep 8
say "cgroup2 mounted on $(awk '$3 == "cgroup2" { print $2 }' /proc/mounts)"
say "hog: memory.max $(cat $cg/hog/memory.max), $(grep oom_kill $cg/hog/memory.events)"
say "bomb: pids.max $(cat $cg/bomb/pids.max), pids.current $(cat $cg/bomb/pids.current), refused forks: $(cat $cg/bomb/pids.events)"
say "tick still runs: $(cat /run/ticks) ticks"
rinit-status /run/service | grep -E '^(NAME|tick) ' | while read -r l; do say "status: $l"; done
rinit-svc -d /run/service/bomb
sleep 2
say "bomb down: pids.current $(cat $cg/bomb/pids.current)"
say "watchdog0: timeout $(cat /sys/class/watchdog/watchdog0/timeout) s, state $(cat /sys/class/watchdog/watchdog0/state)"
t0=$(up)
say "pid 1 pets the watchdog: up at $t0 s"
sleep 16
say "still up at $(up) s"
say "stopping process 1 at $(up) s"
exec /stop-pid1 > $c 2>&1"#;

/// An initramfs of rinit, busybox, the watchdog modules and stop-pid1,
/// with a basedir made by rinit-maker (`maker` are more of its options)
/// and the services `services` writes into the run-image's scan directory
/// (an empty runlevel: they are not rinit-rc's). None when a tool is
/// missing outside CI.
struct Machine {
    sb: Sandbox,
    qemu: PathBuf,
    /// qemu's machine and CPU for a foreign architecture (`-M virt`).
    machine: &'static [&'static str],
    console: &'static str,
    kernel: PathBuf,
}

/// The kernel and the busybox to boot the binaries under test with: the
/// host's for x86_64 and i686, else Debian's for their architecture, as
/// `scripts/boot-qemu -f` fetches them (the root it prints holds `boot/`,
/// `bin/busybox` and the kernel's watchdog modules).
fn kernel_root() -> Option<(PathBuf, PathBuf)> {
    let out = Command::new(repo().join("scripts/boot-qemu"))
        .args(["-f", "-a", bin_arch()])
        .env("RINIT_BIN_DIR", bin_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/boot-qemu -f");
    assert!(out.status.success(), "scripts/boot-qemu -f -a {} failed", bin_arch());
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if root == Path::new("/") {
        return Some((root, require("busybox")?));
    }
    let busybox = root.join("bin/busybox");
    Some((root, busybox))
}

impl Machine {
    fn new(maker: &[&str], services: impl Fn(&Path)) -> Option<Machine> {
        // The binaries' own architecture (x86_64's kernel for i686); its
        // compiler for stop-pid1, static against the cross libc.
        let (qemu, machine, console, cc): (_, &[&str], _, _) = match bin_arch() {
            "aarch64" => ("qemu-system-aarch64", &["-M", "virt", "-cpu", "cortex-a57"], "ttyAMA0", "aarch64-linux-gnu-gcc"),
            "armv7" => ("qemu-system-arm", &["-M", "virt", "-cpu", "cortex-a15"], "ttyAMA0", "arm-linux-gnueabihf-gcc"),
            "riscv64" => ("qemu-system-riscv64", &["-M", "virt"], "ttyS0", "riscv64-linux-gnu-gcc"),
            _ => ("qemu-system-x86_64", &[], "ttyS0", "gcc"),
        };
        let (Some(qemu), Some(_), Some(_)) = (require(qemu), require("cpio"), require(cc)) else {
            return None;
        };
        let (kroot, busybox) = kernel_root()?;
        let kernel = fs::read_dir(kroot.join("boot"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("vmlinuz-"))
            .max()
            .expect("a kernel in /boot (linux-image-amd64)");
        let version = kernel.file_name().unwrap().to_string_lossy().trim_start_matches("vmlinuz-").to_owned();
        let modules = ["lib", "usr/lib"]
            .iter()
            .map(|l| kroot.join(format!("{l}/modules/{version}/kernel/drivers/watchdog")))
            .find(|d| d.exists())
            .unwrap_or_else(|| panic!("no watchdog modules for {}", kernel.display()));
        // softdog needs the watchdog core, a module of its own in Debian's
        // kernels that do not build it in.
        assert!(modules.join("softdog.ko").exists(), "{} is missing", modules.join("softdog.ko").display());
        let core = modules.join("watchdog.ko").exists();

        let sb = Sandbox::new();
        let root = sb.mkdir("root");
        for d in ["sbin", "bin", "etc", "proc", "sys", "dev", "run", "tmp"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for e in fs::read_dir(bin_dir()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if (n == "rinit" || n.starts_with("rinit-")) && !n.ends_with(".d") && n != "rinit-maker" {
                fs::copy(e.path(), root.join("sbin").join(&n)).unwrap();
            }
        }
        fs::copy(&busybox, root.join("bin/busybox")).unwrap();
        let applets = Command::new(&busybox).arg("--list").output().unwrap();
        for a in String::from_utf8_lossy(&applets.stdout).lines() {
            // EEXIST: an applet listed twice.
            let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(a));
        }
        for m in ["watchdog.ko", "softdog.ko"] {
            if modules.join(m).exists() {
                fs::copy(modules.join(m), root.join(m)).unwrap();
            }
        }
        let st = Command::new(cc)
            .args(["-static", "-O2", "-o"])
            .arg(root.join("stop-pid1"))
            .arg(repo().join("scripts/stop-pid1.c"))
            .status()
            .unwrap();
        assert!(st.success(), "{cc} scripts/stop-pid1.c");
        // The module before rinit: the scanner opens /dev/watchdog as it starts.
        let insmod = if core { "insmod /watchdog.ko && insmod /softdog.ko" } else { "insmod /softdog.ko" };
        script(&root.join("init"), &format!("{insmod}\nexec /sbin/rinit \"$@\""));

        let src = sb.mkdir("rc/default");
        fs::write(src.join("type"), "bundle\n").unwrap();
        fs::write(src.join("contents"), "").unwrap();
        fs::create_dir_all(root.join("etc/rinit-rc")).unwrap();
        let out = sb.run(args![bin("rinit-rc-compile"), root.join("etc/rinit-rc/compiled"), sb.path("rc")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let base = root.join("etc/rinit");
        let mut a: Vec<std::ffi::OsString> = vec![bin("rinit-maker").into()];
        for w in ["-c", "/etc/rinit", "-b", "/sbin", "-r", "/etc/rinit-rc/compiled", "-d", "/dev", "-1", "-p", "/sbin:/bin"] {
            a.push(w.into());
        }
        a.extend(maker.iter().map(|w| w.into()));
        a.push(base.clone().into());
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|w| w.as_os_str()).collect();
        let out = sb.run(&refs);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        services(&base.join("run-image/service"));

        sh(&format!(
            "cd '{}' && find . | sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 > '{}'",
            root.display(),
            sb.path("initrd.cpio.gz").display()
        ));
        Some(Machine { sb, qemu, machine, console, kernel })
    }

    /// Boots with `words` on the kernel command line; the console, and
    /// whether qemu ended by itself (a reset or a power-off: -no-reboot)
    /// within 120 s. The console is also kept in the temporary directory as
    /// `name`.
    fn boot(&self, words: &str, name: &str) -> (bool, String) {
        let log = self.sb.path("console.log");
        let mut q = Command::new(&self.qemu)
            .args(self.machine)
            .args(["-m", "256", "-net", "none", "-no-reboot", "-display", "none"])
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(self.sb.path("initrd.cpio.gz"))
            .arg("-serial")
            .arg(format!("file:{}", log.display()))
            .arg("-append")
            .arg(format!("console={} rdinit=/init panic=-1 quiet printk.time=1{words}", self.console))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(120);
        let exited = loop {
            if q.try_wait().unwrap().is_some() {
                break true;
            }
            if Instant::now() > end {
                // It is stopped here either way; a kill that fails means it just ended.
                let _ = q.kill();
                let _ = q.wait();
                break false;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let text = fs::read_to_string(&log).unwrap_or_default();
        // Kept for a human to read; losing it loses nothing the test checks.
        let _ = fs::write(std::env::temp_dir().join(name), &text);
        (exited, text)
    }
}

#[test]
fn cgroups_limits_and_the_watchdog_on_a_real_kernel() {
    let machine = Machine::new(&["-W", WATCHDOG], |svc| {
        script(&svc.join("hog/run"), "echo \"hog: starting\" > /dev/console\nexec dd if=/dev/zero of=/dev/null bs=64M count=1");
        fs::create_dir_all(svc.join("hog/cgroup")).unwrap();
        fs::write(svc.join("hog/cgroup/memory.max"), "16M\n").unwrap();
        script(&svc.join("bomb/run"), "echo \"bomb: starting\" > /dev/console\nexec 2>/dev/null\nwhile :; do sleep 1000 & done");
        fs::create_dir_all(svc.join("bomb/cgroup")).unwrap();
        fs::write(svc.join("bomb/cgroup/pids.max"), "32\n").unwrap();
        script(&svc.join("tick/run"), "i=0\nwhile :; do i=$((i+1)); echo $i > /run/ticks; sleep 1; done");
        script(&svc.join("checker/run"), CHECKER);
    });
    let Some(machine) = machine else { return };
    let (exited, text) = machine.boot("", "rinit-qemu-cgroup-console.log");
    assert!(exited, "the machine did not reset by itself:\n{text}");

    let has = |s: &str| text.contains(s);
    for line in [
        "rinit: info: mounted /sys/fs/cgroup",
        "rinit: info: a cgroup per service, in /sys/fs/cgroup",
        "checker: watchdog0: timeout 5 s, state active",
        "checker: cgroup2 mounted on /sys/fs/cgroup",
        "checker: hog: memory.max 16777216",
        "checker: bomb: pids.max 32, ",
        "checker: bomb down: pids.current 0",
        "stop-pid1: process 1 is stopped",
        "softdog: Initiating system reboot",
    ] {
        assert!(has(line), "the console lacks {line:?}:\n{text}");
    }
    assert!(text.matches("hog: starting").count() >= 3, "hog was not restarted after its OOM kills:\n{text}");
    assert!(has("Memory cgroup out of memory"), "no OOM kill in the hog's cgroup:\n{text}");
    let field = |prefix: &str| -> f64 {
        let l = text.lines().find(|l| l.contains(prefix)).unwrap_or_else(|| panic!("no {prefix:?}"));
        let rest = &l[l.find(prefix).unwrap() + prefix.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(field("tick still runs: ") >= 3.0, "the rest of the system did not run beside the fork bomb:\n{text}");
    let refused: u64 = text.lines().find(|l| l.contains("checker: bomb:")).and_then(|l| l.rsplit("max ").next()).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    assert!(refused >= 1, "pids.max never refused the fork bomb a fork:\n{text}");
    // rinit-status shows what the tick service's cgroup counts: `sh` and its `sleep`.
    let head = text.lines().find(|l| l.starts_with("checker: status: NAME")).unwrap_or_else(|| panic!("no status:\n{text}"));
    assert!(head.split_whitespace().rev().take(2).eq(["PIDS", "MEMORY"]), "{head}");
    let tick = text.lines().find(|l| l.starts_with("checker: status: tick ")).unwrap_or_else(|| panic!("no tick:\n{text}"));
    let cells: Vec<&str> = tick.split_whitespace().collect();
    let (mem, pids) = (cells[cells.len() - 2], cells[cells.len() - 1]);
    assert!(mem.ends_with('K') && mem.trim_end_matches('K').parse::<u64>().unwrap() > 0, "{tick}");
    assert!((1..=3).contains(&pids.parse::<u64>().unwrap()), "{tick}");
    let oom: u64 = text.lines().find_map(|l| l.split("oom_kill ").nth(1)).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    assert!(oom >= 2, "oom_kill {oom}:\n{text}");
    let armed = field("pets the watchdog: up at ");
    let still = field("still up at ");
    assert!(still - armed >= 15.0, "three timeouts of 5 s with pid 1 petting: {armed} .. {still}");
    assert!(!has("Kernel panic"), "{text}");
}

#[test]
fn stage_3_keeps_petting_the_watchdog_until_the_power_goes_off() {
    // A grace time of 8 s, more than two of the watchdog's 3 s timeouts,
    // spent waiting for a service that ignores SIGTERM: only stage 3's
    // keepalives keep the machine from being reset before it powers off.
    let machine = Machine::new(&["-W", "/dev/watchdog,1000,3000", "-V", "-q", "8000"], |svc| {
        script(&svc.join("stubborn/run"), "trap '' TERM\nexec sleep 1000");
    });
    let Some(machine) = machine else { return };
    let (exited, text) = machine.boot(" poweroff", "rinit-qemu-stage3-console.log");
    assert!(exited, "the machine did not power off by itself:\n{text}");
    let mut at = 0;
    for line in [
        "rinit-shutdown: info: watchdog /dev/watchdog: timeout 3 s, petted every 1000 ms",
        "rinit-shutdown: info: grace time of 8000 ms elapsed",
        "rinit-shutdown: info: watchdog disarmed",
        "reboot: Power down",
    ] {
        match text[at..].find(line) {
            Some(i) => at += i + line.len(),
            None => panic!("{line:?} missing (or out of order) in:\n{text}"),
        }
    }
    assert!(!text.contains("softdog: Initiating system reboot"), "the watchdog fired during stage 3:\n{text}");
}
