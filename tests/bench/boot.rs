//! bench-boot: how long rinit takes to bring the seed demo up and down, in
//! a namespace (container mode) and on a real kernel under qemu (TCG), and
//! how much room rinit takes in an initramfs and in a FROM-scratch container.
//!
//!     cargo build --release && cargo run --release -p rinit-tests --bin bench-boot
//!
//! Times are measured inside: stage 1 logs the uptime it started at, rc.init
//! the uptime `default` (the demo's runlevel; `boot` under qemu, which adds a
//! getty) was up at, the shutdown daemon when it started, and pid 1's last
//! stage when it powered off or exited. Options: `--runs N` (medians over N,
//! default 3), `--no-qemu`.

mod peer;

use rinit_tests::bin_dir;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The FROM-scratch container's one service: pauses forever; `-x` exits 0.
const TINY_C: &str = r#"
__asm__(".globl _start\n_start:\n"
        " cmpq $2,(%rsp)\n jne 2f\n"
        " mov 16(%rsp),%rsi\n cmpw $0x782d,(%rsi)\n jne 2f\n cmpb $0,2(%rsi)\n jne 2f\n"
        " mov $60,%eax\n xor %edi,%edi\n syscall\n"
        "2: mov $34,%eax\n syscall\n jmp 2b\n");
"#;

/// What pid 1 needs at run time (rinit-maker only writes the basedir).
const RUNTIME: &[&str] = &["rinit", "rinit-stage2", "rinit-scan", "rinit-supervise", "rinit-shutdownd", "rinit-shutdown"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// `... at 12.345 s of uptime` in the line holding `marker`.
fn uptime_at(text: &str, marker: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains(marker))?;
    let rest = &line[line.find(" at ")? + 4..];
    rest.split_whitespace().next()?.parse().ok()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Some(v[v.len() / 2])
}

fn ms(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0} ms", x * 1000.0)).unwrap_or_else(|| "-".into())
}

fn run_ok(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bench-boot-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

struct Times {
    boot: Vec<f64>,
    down: Vec<f64>,
    wall_up: Vec<f64>,
    wall_total: Vec<f64>,
}

fn namespace_runs(runs: usize) -> Times {
    let mut t = Times { boot: vec![], down: vec![], wall_up: vec![], wall_total: vec![] };
    let work = tmpdir("ns");
    let compiled = work.join("compiled");
    assert!(run_ok(Command::new(bin("rinit-rc-compile")).arg(&compiled).arg(repo().join("demo/rc"))));
    let base = work.join("base");
    assert!(run_ok(
        Command::new(bin("rinit-maker"))
            .args(["-C", "-c"]).arg(&base).arg("-b").arg(bin_dir()).arg("-r").arg(&compiled).arg(&base)
    ));
    for _ in 0..runs {
        let t0 = Instant::now();
        // Stage 1 and 3 log on stderr, rc.init on stdout: read both, in order.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec unshare --user --map-root-user --mount --pid --fork --kill-child=SIGKILL \"$@\" 2>&1")
            .arg("sh")
            .arg(bin("rinit")).arg("-c").arg(&base)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("unshare");
        let out = child.stdout.take().unwrap();
        let mut lines = BufReader::new(out).lines();
        let mut text = String::new();
        for l in lines.by_ref() {
            let l = l.unwrap_or_default();
            text.push_str(&l);
            text.push('\n');
            if l.contains("default is up") {
                break;
            }
        }
        let up_wall = t0.elapsed().as_secs_f64();
        let w = child.id();
        let pid1 = fs::read_to_string(format!("/proc/{w}/task/{w}/children")).unwrap_or_default();
        let _ = Command::new("kill").arg("-TERM").arg(pid1.trim()).status();
        for l in lines {
            text.push_str(&l.unwrap_or_default());
            text.push('\n');
        }
        let _ = child.wait();
        let total = t0.elapsed().as_secs_f64();
        if let (Some(a), Some(b)) = (uptime_at(&text, "stage 1 started"), uptime_at(&text, "default is up")) {
            t.boot.push(b - a);
        }
        match (uptime_at(&text, "shutting down"), uptime_at(&text, "exiting with code")) {
            (Some(a), Some(b)) => t.down.push(b - a),
            _ => eprintln!("bench-boot: no shutdown lines in:\n{text}"),
        }
        t.wall_up.push(up_wall);
        t.wall_total.push(total);
    }
    let _ = fs::remove_dir_all(&work);
    t
}

fn qemu_runs(runs: usize) -> (Times, Option<PathBuf>) {
    let mut t = Times { boot: vec![], down: vec![], wall_up: vec![], wall_total: vec![] };
    let mut kept = None;
    for i in 0..runs {
        let out = tmpdir(&format!("qemu{i}"));
        let t0 = Instant::now();
        let ok = run_ok(
            Command::new(repo().join("scripts/boot-qemu"))
                .args(["-p", "-t", "180", "-o"]).arg(&out)
                .env("RINIT_BIN_DIR", bin_dir())
                .stdout(Stdio::null()),
        );
        let wall = t0.elapsed().as_secs_f64();
        let console = fs::read_to_string(out.join("console.log")).unwrap_or_default();
        if !ok || !console.contains("reboot: Power down") {
            eprintln!("bench-boot: qemu run {i} failed:\n{console}");
            continue;
        }
        if let (Some(a), Some(b)) = (uptime_at(&console, "stage 1 started"), uptime_at(&console, "boot is up")) {
            t.boot.push(b - a);
            t.wall_up.push(b);
        }
        if let (Some(a), Some(b)) = (uptime_at(&console, "shutting down"), uptime_at(&console, "system poweroff")) {
            t.down.push(b - a);
        }
        t.wall_total.push(wall);
        if kept.is_none() {
            kept = Some(out);
        } else {
            let _ = fs::remove_dir_all(&out);
        }
    }
    (t, kept)
}

fn size(p: &Path) -> u64 {
    fs::symlink_metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Bytes of the regular files under `dir` (symlinks count their own length).
fn tree_bytes(dir: &Path) -> (u64, usize) {
    let mut total = 0;
    let mut n = 0;
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let m = fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                let (b, k) = tree_bytes(&e.path());
                total += b;
                n += k;
            } else {
                total += m.len();
                n += 1;
            }
        }
    }
    (total, n)
}

/// A FROM-scratch root file system: rinit's run-time programs, a basedir
/// without shell scripts, and one service (a static program that pauses).
fn scratch_container() -> Option<(PathBuf, u64, u64, usize)> {
    let work = tmpdir("scratch");
    let src = work.join("tiny.c");
    fs::write(&src, TINY_C).ok()?;
    let root = work.join("rootfs");
    fs::create_dir_all(root.join("sbin")).ok()?;
    let tiny = root.join("sbin/hello");
    if !run_ok(Command::new("gcc").args(["-nostdlib", "-static", "-Os", "-s", "-o"]).arg(&tiny).arg(&src)) {
        eprintln!("bench-boot: gcc failed: no FROM-scratch container figure");
        return None;
    }
    for p in RUNTIME {
        fs::copy(bin(p), root.join("sbin").join(p)).ok()?;
    }
    for d in ["run", "proc", "dev", "sys", "etc"] {
        fs::create_dir_all(root.join(d)).ok()?;
    }
    let base = root.join("etc/rinit");
    if !run_ok(Command::new(bin("rinit-maker")).args(["-C", "-c", "/etc/rinit", "-b", "/sbin", "-p", "/sbin"]).arg(&base)) {
        return None;
    }
    // No shell in this image: no scripts (stage 2 then runs only the main program).
    let _ = fs::remove_dir_all(base.join("scripts"));
    let _ = fs::remove_file(base.join("bin/telinit"));
    let svc = base.join("run-image/service/hello");
    fs::create_dir_all(&svc).ok()?;
    std::os::unix::fs::symlink("/sbin/hello", svc.join("run")).ok()?;
    let (bytes, files) = tree_bytes(&root);
    let tar = Command::new("tar").arg("-C").arg(&root).args(["-cf", "-", "."]).output().ok()?;
    Some((work, bytes, tar.stdout.len() as u64, files))
}

/// Runs the FROM-scratch image under runc with `hello -x` as the main program.
fn run_scratch(work: &Path) -> Option<(bool, f64, String)> {
    let runc = ["/usr/sbin/runc", "/usr/bin/runc", "/sbin/runc"].iter().map(PathBuf::from).find(|p| p.exists())?;
    let bundle = work;
    let config = r#"{
  "ociVersion": "1.0.2",
  "process": { "terminal": false, "user": { "uid": 0, "gid": 0 }, "cwd": "/",
    "args": ["/sbin/rinit", "--", "/sbin/hello", "-x"], "env": ["PATH=/sbin"],
    "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
    "noNewPrivileges": true },
  "root": { "path": "rootfs", "readonly": true },
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"] }
  ],
  "linux": { "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }] }
}"#;
    fs::write(bundle.join("config.json"), config).ok()?;
    let name = format!("bench-boot-{}", std::process::id());
    let t0 = Instant::now();
    let out = Command::new(&runc).args(["run", "--bundle"]).arg(bundle).arg(&name).stdin(Stdio::null()).output().ok()?;
    let wall = t0.elapsed().as_secs_f64();
    let _ = Command::new(&runc).args(["delete", "-f", &name]).output();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), wall, text))
}

fn main() {
    let mut runs = 3;
    let mut qemu = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--no-qemu" => qemu = false,
            _ => {
                eprintln!("usage: bench-boot [--runs N] [--no-qemu]");
                std::process::exit(100);
            }
        }
    }
    if !bin("rinit").exists() {
        eprintln!("bench-boot: build first: cargo build --release");
        std::process::exit(111);
    }

    let ns = namespace_runs(runs);
    let (q, kept) = if qemu { qemu_runs(runs) } else { (Times { boot: vec![], down: vec![], wall_up: vec![], wall_total: vec![] }, None) };

    // s6-linux-init boots no demo of rinit's: no s6 column, but the line
    // says which s6 the other benchmarks use.
    println!("{}: not run here (the demo is rinit's)", peer::peer().header());
    println!("\n## rinit boot and shutdown (medians of {runs} runs)\n");
    println!("| where | stage 1 → runlevel up (inside) | shutdown (inside) | wall: start → up | wall: start → end |");
    println!("|---|---|---|---|---|");
    println!(
        "| namespace, container mode (demo: default) | {} | {} (request → exit) | {} | {} (start → TERM at up → exit) |",
        ms(median(ns.boot.clone())),
        ms(median(ns.down.clone())),
        ms(median(ns.wall_up.clone())),
        ms(median(ns.wall_total.clone()))
    );
    if qemu {
        println!(
            "| qemu TCG, initramfs (demo + getty: boot) | {} | {} (request → reboot(2)) | {} (kernel uptime) | {} (qemu start → exit) |",
            ms(median(q.boot.clone())),
            ms(median(q.down.clone())),
            ms(median(q.wall_up.clone())),
            ms(median(q.wall_total.clone()))
        );
    }

    println!("\n## sizes (bytes)\n");
    println!("| what | bytes |");
    println!("|---|---|");
    for p in RUNTIME.iter().chain(["rinit-rc", "rinit-rc-init", "rinit-log", "rinit-maker"].iter()) {
        println!("| {p} | {} |", size(&bin(p)));
    }
    if let Some(dir) = &kept {
        // The initramfs boot-qemu built: unpack the rinit part to count it.
        let un = dir.join("root");
        let _ = fs::create_dir_all(&un);
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("cd {} && gzip -dc ../initrd.cpio.gz | cpio -id --quiet", un.display()))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            let mut rinit_bins = 0;
            for e in fs::read_dir(un.join("sbin")).into_iter().flatten().flatten() {
                rinit_bins += size(&e.path());
            }
            let (etc, _) = tree_bytes(&un.join("etc/rinit"));
            let (db, _) = tree_bytes(&un.join("etc/rinit-rc"));
            println!("| initramfs: rinit's programs (/sbin) | {rinit_bins} |");
            println!("| initramfs: basedir (/etc/rinit) + compiled demo (/etc/rinit-rc) | {} |", etc + db);
            println!("| initramfs: busybox | {} |", size(&un.join("bin/busybox")));
            println!("| initramfs: initrd.cpio.gz, all of it | {} |", size(&dir.join("initrd.cpio.gz")));
        }
        let _ = fs::remove_dir_all(dir);
    }
    if let Some((work, bytes, tar, files)) = scratch_container() {
        println!("| FROM-scratch container: rinit ({} programs) + basedir + one service, {files} files | {bytes} |", RUNTIME.len());
        println!("| the same as a tar archive | {tar} |");
        match run_scratch(&work) {
            Some((ok, wall, text)) => {
                println!(
                    "\nFROM-scratch container under runc: {} in {} (start → exit)",
                    if ok { "booted, ran its main program, shut down, exit 0" } else { "FAILED" },
                    ms(Some(wall))
                );
                if !ok {
                    println!("{text}");
                }
            }
            None => println!("\n(runc not installed: the FROM-scratch container was not run)"),
        }
        let _ = fs::remove_dir_all(&work);
    }
}
