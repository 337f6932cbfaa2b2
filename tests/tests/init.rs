//! Stage 1 and stage 3: rinit as pid 1 of fresh namespaces (container
//! mode), under a real OCI runtime (runc), and booting a real kernel (qemu).

use rinit_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn demo_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc")
}

/// Compiles the demo tree and writes a basedir for container mode in the
/// sandbox; `extra` are more rinit-maker options.
fn demo_basedir(sb: &Sandbox, extra: &[&str]) -> PathBuf {
    basedir_of(sb, &demo_source(), extra)
}

/// `demo_basedir` for the s6-rc source tree `source`.
fn basedir_of(sb: &Sandbox, source: &Path, extra: &[&str]) -> PathBuf {
    let compiled = sb.path("compiled");
    let out = sb.run(args![bin("rinit-rc-compile"), compiled, source]);
    assert!(out.status.success(), "rinit-rc-compile: {}", String::from_utf8_lossy(&out.stderr));
    let base = sb.path("base");
    let mut a: Vec<std::ffi::OsString> = vec![bin("rinit-maker").into()];
    for s in ["-c", base.to_str().unwrap(), "-b", bin_dir().to_str().unwrap(), "-r", compiled.to_str().unwrap(), "-C"] {
        a.push(s.into());
    }
    a.extend(extra.iter().map(|s| s.into()));
    a.push(base.clone().into());
    let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    let out = sb.run(&refs);
    assert!(out.status.success(), "rinit-maker: {}", String::from_utf8_lossy(&out.stderr));
    base
}

const UP_LINES: &[&str] = &[
    "rinit: info: stage 1 started",
    "service demo-oneshot-1: starting",
    "demo-oneshot-1 is up",
    "service demo-oneshot-1 successfully started",
    "service demo-longrun-1 successfully started",
    "default is up",
];

const DOWN_LINES: &[&str] = &[
    "rinit-shutdownd: info: shutting down",
    "service demo-longrun-1: stopping",
    "service demo-longrun-1 successfully stopped",
    "service demo-oneshot-1: stopping",
    "service demo-oneshot-1 successfully stopped",
    "sending all processes the TERM signal",
    "sending all processes the KILL signal",
];

#[test]
fn container_mode_brings_the_demo_up_and_stops_it_cleanly_on_sigterm() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base]);
    wait_until("default to be up", SOON, || p.output().contains("default is up"));
    // The longrun prints on its own schedule, maybe after rinit-rc's last line.
    wait_until("the longrun to print", SOON, || p.output().contains("demo-longrun-1 is running"));
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end after SIGTERM");
    let out = p.output();
    assert_eq!(st.code(), Some(0), "{out}");
    assert_in_order(&out, UP_LINES);
    assert_in_order(&out, DOWN_LINES);
    assert!(out.contains("every process exited after"), "{out}");
    assert!(!out.contains("unable to"), "{out}");
}

#[test]
fn a_oneshot_sees_a_variable_from_the_basedirs_env() {
    let mut sb = Sandbox::new();
    sb.write("src/greet/type", "oneshot\n");
    sb.write("src/greet/up", "/bin/sh -c \"echo greeting=$GREETING\"\n");
    sb.write("src/default/type", "bundle\n");
    sb.write("src/default/contents", "greet\n");
    let base = basedir_of(&sb, &sb.path("src"), &[]);
    fs::write(base.join("env/GREETING"), "from-env\n").unwrap();
    // Nothing inherited: the test's own environment could fill stage 2's table.
    let mut p = sb.spawn_pid1_path(args![bin("rinit"), "-c", base], &test_path());
    wait_until("default to be up", SOON, || p.output().contains("default is up"));
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end after SIGTERM");
    let out = p.output();
    assert_eq!(st.code(), Some(0), "{out}");
    assert!(out.contains("greeting=from-env\n"), "{out}");
}

/// A runtime hands its whole environment over (Kubernetes adds several
/// variables per service of the namespace): CMD gets every one, as under
/// tini, with the basedir's `env/` on top.
#[test]
fn the_main_program_gets_the_whole_environment_of_the_runtime_even_a_large_one() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    let mut a: Vec<std::ffi::OsString> = vec!["/usr/bin/env".into()];
    for i in 0..600 {
        a.push(format!("SVC_{i}_SERVICE_HOST=10.0.{}.{}", i / 256, i % 256).into());
    }
    a.extend([bin("rinit").into_os_string(), "-c".into(), base.into_os_string(), "--".into(), "/bin/sh".into(), "-c".into()]);
    a.push("echo vars $(env | grep -c _SERVICE_HOST=) last $SVC_599_SERVICE_HOST".into());
    let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    let mut p = sb.spawn_pid1(&refs);
    let st = p.wait_timeout(Duration::from_secs(10)).expect("rinit to end with its main program");
    let out = p.output();
    assert_eq!(st.code(), Some(0), "{out}");
    assert!(out.contains("vars 600 last 10.0.2.87\n"), "{out}");
    assert!(!out.contains("exceeds the capacity"), "{out}");
}

#[test]
fn the_main_programs_exit_code_becomes_the_containers() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base, "--", "/bin/sh", "-c", "echo main program; exit 7"]);
    let st = p.wait_timeout(Duration::from_secs(10)).expect("rinit to end with its main program");
    let out = p.output();
    assert_eq!(st.code(), Some(7), "{out}");
    assert_in_order(&out, UP_LINES);
    assert_in_order(&out, &["main program", "exited 7: shutting the container down"]);
    assert_in_order(&out, DOWN_LINES);
    assert!(out.contains("exiting with code 7"), "{out}");
}

#[test]
fn a_service_that_ignores_term_is_killed_after_the_grace_time() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &["-q", "300"]);
    let svc = base.join("run-image/service/stubborn");
    fs::create_dir_all(&svc).unwrap();
    sb.script("base/run-image/service/stubborn/run", "trap '' TERM\necho stubborn is up\nexec sleep 1000");
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base]);
    wait_until("the stubborn service to be up", SOON, || p.output().contains("stubborn is up"));
    wait_until("default to be up", SOON, || p.output().contains("default is up"));
    p.signal(15);
    let st = p.wait_timeout(SOON).expect("rinit to end after SIGTERM");
    let out = p.output();
    assert_eq!(st.code(), Some(0), "{out}");
    assert_in_order(&out, &["TERM signal", "grace time of 300 ms elapsed", "KILL signal", "exiting with code 0"]);
}

#[test]
fn a_failing_stage_2_is_logged_and_the_tree_still_runs() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    sb.script("base/scripts/rc.init", "echo rc.init gives up\nexit 3");
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base, "--", "/bin/sh", "-c", "exit 4"]);
    let st = p.wait_timeout(Duration::from_secs(10)).expect("rinit to end");
    let out = p.output();
    assert_eq!(st.code(), Some(4), "{out}");
    assert_in_order(&out, &["rc.init gives up", "rc.init exited 3", "shutting down", "exiting with code 4"]);
}

#[test]
fn shutdown_can_be_delayed_and_cancelled() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    let shutdown = base.join("bin/shutdown");
    let main = format!(
        "{s} -p +1 && sleep 0.3 && {s} -c && sleep 0.3 && echo still up; exit 5",
        s = shutdown.display()
    );
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base, "--", "/bin/sh", "-c", main]);
    let st = p.wait_timeout(Duration::from_secs(10)).expect("rinit to end");
    let out = p.output();
    assert_eq!(st.code(), Some(5), "{out}");
    // Exit code 5: the main program lived on after the cancelled shutdown.
    assert!(out.contains("still up"), "{out}");
    assert_in_order(&out, &["poweroff requested, in 60000 ms", "pending shutdown cancelled", "poweroff requested, in 0 ms"]);
}

#[test]
fn shutdown_without_a_daemon_says_so() {
    let sb = Sandbox::new();
    let out = sb.run(args![bin("rinit-shutdown"), "-r", "now"]);
    assert_eq!(out.status.code(), Some(111));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rinit-shutdown: fatal: the shutdown daemon is not listening"), "{err}");
}

#[test]
fn refuses_to_run_when_not_pid_1() {
    let mut sb = Sandbox::new();
    let base = demo_basedir(&sb, &[]);
    let mut p = sb.spawn(args![bin("rinit"), "-c", base]);
    let st = p.wait_timeout(SOON).expect("rinit to refuse");
    assert_eq!(st.code(), Some(100));
    assert!(p.output().contains("rinit: fatal: not pid 1"), "{}", p.output());
}

#[test]
fn a_missing_basedir_is_one_clear_error() {
    let mut sb = Sandbox::new();
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", "/nonexistent/rinit"]);
    let st = p.wait_timeout(SOON).expect("rinit to fail");
    assert_eq!(st.code(), Some(111));
    let out = p.output();
    assert!(
        out.contains("rinit: fatal: unable to read the run-image /nonexistent/rinit/run-image: No such file or directory"),
        "{out}"
    );
}

#[test]
fn the_maker_writes_every_piece_of_a_basedir() {
    let sb = Sandbox::new();
    let base = sb.path("b");
    let out = sb.run(args![bin("rinit-maker"), "-c", "/etc/rinit", "-b", "/sbin", "-1", "-G", "getty 38400 tty1", "-D", "boot", "-m", "027", base]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["bin/init", "bin/halt", "bin/poweroff", "bin/reboot", "bin/shutdown", "bin/telinit",
        "scripts/rc.init", "scripts/runlevel", "scripts/rc.shutdown", "scripts/rc.shutdown.final",
        "env/PATH", "conf/runlevel", "conf/umask",
        "run-image/service/.s6-svscan/SIGTERM", "run-image/service/.s6-svscan/finish",
        "run-image/service/rinit-shutdownd/run", "run-image/service/rinit-log-catchall/run",
        "run-image/service/rinit-early-getty/run", "run-image/uncaught-logs"]
    {
        assert!(fs::symlink_metadata(base.join(f)).is_ok(), "{f} is missing");
    }
    assert_eq!(fs::read_link(base.join("bin/init")).unwrap(), Path::new("/sbin/rinit"));
    assert!(sb.read("b/run-image/service/rinit-log-catchall/run").contains("rinit-log -- 1 t"));
    // getopt's spellings write the same basedir.
    let out = sb.run(args![bin("rinit-maker"), "-c/etc/rinit", "-b/sbin", "-1Ggetty 38400 tty1", "-Dboot", "-m027", sb.path("g")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(tree(&base), tree(&sb.path("g")));
    let help = sb.run(args![bin("rinit-maker"), "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for o in ["-c", "-b", "-r", "-G", "-1", "-L", "-B", "-p", "-m", "-t", "-d", "-s", "-D", "-q", "-C"] {
        assert!(help.contains(&format!("\n  {o} ")), "--help lacks {o}:\n{help}");
    }
    assert_eq!(sb.run(args![bin("rinit-maker"), "-h"]).stdout, sb.run(args![bin("rinit-maker"), "--help"]).stdout);
}

/// Every entry under `dir`: its path, type, mode, and what it holds (a
/// file's bytes, a link's target).
fn tree(dir: &Path) -> Vec<(PathBuf, String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut all = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let held = if m.file_type().is_symlink() {
                fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()
            } else if m.is_file() {
                fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            if m.is_dir() {
                todo.push(p.clone());
            }
            all.push((p.strip_prefix(dir).unwrap().to_path_buf(), format!("{:?}", m.file_type()), m.permissions().mode(), held));
        }
    }
    all.sort();
    all
}

#[test]
fn stage2_shutdownd_and_the_maker_refuse_a_bad_command_line_in_one_usage_line() {
    let sb = Sandbox::new();
    for (prog, a) in [
        ("rinit-shutdownd", &["-x"][..]),
        ("rinit-shutdownd", &["-c"]),
        ("rinit-stage2", &[]),
        ("rinit-stage2", &["-x", "/b"]),
        ("rinit-stage2", &["-r"]),
        ("rinit-stage2", &["-rx", "/b"]),
        ("rinit-stage2", &["/b", "extra"]),
        ("rinit-maker", &["-t4", "/b"]),
        ("rinit-maker", &["/b", "/c"]),
        ("rinit-maker", &["-c"]),
    ] {
        let mut v: Vec<&std::ffi::OsStr> = vec![bin(prog).into_os_string().leak()];
        v.extend(a.iter().map(std::ffi::OsStr::new));
        let out = sb.run(&v);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(100), "{prog} {a:?}: {err}");
        // Stage 2 speaks as rinit, whose second stage it is.
        let voice = if prog == "rinit-stage2" { "rinit" } else { prog };
        assert!(err.starts_with(&format!("{voice}: usage: ")) && err.lines().count() == 1, "{prog} {a:?}: {err}");
    }
}

#[test]
fn shutdownd_takes_its_basedir_spelled_as_getopt_does() {
    let mut sb = Sandbox::new();
    let dir = sb.mkdir("svc");
    let mut p = sb.spawn_in(&dir, args![bin("rinit-shutdownd"), "-c/nonexistent", "svc"]);
    wait_until("the fifo", SOON, || dir.join("fifo").exists());
    assert!(p.is_running(), "{}", p.output());
    assert!(!p.output().contains("usage"), "{}", p.output());
}

// ---------------------------------------------------------------- runc

/// A runc bundle whose root file system holds only rinit's programs,
/// busybox, the compiled demo and a basedir; read-only, with a tmpfs /run.
fn runc_bundle(sb: &Sandbox, args: &[&str]) -> PathBuf {
    runc_bundle_as(sb, args, 0)
}

/// The same, the container's processes running as `uid` (its /run theirs).
fn runc_bundle_as(sb: &Sandbox, args: &[&str], uid: u32) -> PathBuf {
    let bundle = sb.mkdir("bundle");
    let root = bundle.join("rootfs");
    for d in ["sbin", "bin", "etc/rinit-rc", "run", "proc", "dev", "sys", "tmp"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for e in fs::read_dir(bin_dir()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if (name == "rinit" || name.starts_with("rinit-")) && !name.contains('.') && e.path().is_file() {
            fs::copy(e.path(), root.join("sbin").join(&name)).unwrap();
        }
    }
    fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for a in ["sh", "sleep", "echo", "cut", "cat", "id"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
    }
    let out = sb.run(args![bin("rinit-rc-compile"), root.join("etc/rinit-rc/compiled"), demo_source()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // As root the image is a machine's (container mode is detected); for
    // another user a container's (-C: no catch-all logger directory to own).
    let out = if uid == 0 {
        sb.run(args![bin("rinit-maker"), "-c", "/etc/rinit", "-b", "/sbin", "-p", "/sbin:/bin", "-q", "1000", root.join("etc/rinit")])
    } else {
        sb.run(args![bin("rinit-maker"), "-C", "-c", "/etc/rinit", "-b", "/sbin", "-p", "/sbin:/bin", "-q", "1000", root.join("etc/rinit")])
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let quoted: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    let config = format!(
        r#"{{
  "ociVersion": "1.0.2",
  "process": {{
    "terminal": false, "user": {{ "uid": {uid}, "gid": {uid} }}, "cwd": "/",
    "args": [{}],
    "env": ["PATH=/sbin:/bin", "TERM=xterm"],
    "capabilities": {{
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    }},
    "rlimits": [{{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }}],
    "noNewPrivileges": true
  }},
  "root": {{ "path": "rootfs", "readonly": true }},
  "hostname": "rinit",
  "mounts": [
    {{ "destination": "/proc", "type": "proc", "source": "proc" }},
    {{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] }},
    {{ "destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755", "uid={uid}", "gid={uid}"] }},
    {{ "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] }}
  ],
  "linux": {{
    "namespaces": [{{ "type": "pid" }}, {{ "type": "ipc" }}, {{ "type": "uts" }}, {{ "type": "mount" }}]
  }}
}}"#,
        quoted.join(", "),
        uid = uid
    );
    fs::write(bundle.join("config.json"), config).unwrap();
    bundle
}

/// A container name unique to the sandbox (tests run in parallel).
fn runc_name(sb: &Sandbox) -> String {
    sb.dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// Deletes the container however the test ends (a panic included).
struct RuncGuard {
    runc: PathBuf,
    name: String,
}

impl Drop for RuncGuard {
    fn drop(&mut self) {
        let _ = Command::new(&self.runc).args(["delete", "-f", &self.name]).output();
    }
}

/// runc, when both it and busybox (the containers' only tools) are there.
fn runc_and_busybox() -> Option<PathBuf> {
    let runc = require("runc")?;
    require("busybox")?;
    Some(runc)
}

/// `runc run` of the bundle to its end: its status and all it printed.
fn runc_run(runc: &Path, bundle: &Path, name: &str) -> (std::process::Output, String) {
    let out = Command::new(runc)
        .args(["run", "--bundle"]).arg(bundle).arg(name)
        .stdin(Stdio::null())
        .output()
        .expect("runc run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

#[test]
fn runc_passes_the_main_programs_exit_code_out() {
    let Some(runc) = runc_and_busybox() else { return };
    let sb = Sandbox::new();
    let bundle = runc_bundle(&sb, &["/sbin/rinit", "--", "/bin/busybox", "sh", "-c", "echo main program; exit 7"]);
    let name = runc_name(&sb);
    let _guard = RuncGuard { runc: runc.clone(), name: name.clone() };
    let (out, text) = runc_run(&runc, &bundle, &name);
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert_in_order(&text, &["service demo-oneshot-1: starting", "service demo-longrun-1 successfully started"]);
    assert_in_order(&text, &["exited 7: shutting the container down", "service demo-oneshot-1 successfully stopped", "exiting with code 7"]);
}

#[test]
fn runc_runs_a_read_only_container_as_a_non_root_user() {
    let Some(runc) = runc_and_busybox() else { return };
    let sb = Sandbox::new();
    let bundle = runc_bundle_as(&sb, &["/sbin/rinit", "--", "/bin/busybox", "sh", "-c", "echo uid=$(id -u); exit 9"], 1000);
    let name = runc_name(&sb);
    let _guard = RuncGuard { runc: runc.clone(), name: name.clone() };
    let (out, text) = runc_run(&runc, &bundle, &name);
    assert_eq!(out.status.code(), Some(9), "{text}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("uid=1000"), "{text}");
    assert_in_order(&text, &["service demo-longrun-1 successfully started", "service demo-oneshot-1 successfully stopped", "exiting with code 9"]);
}

#[test]
fn runc_stops_the_container_cleanly_on_sigterm() {
    let Some(runc) = runc_and_busybox() else { return };
    let sb = Sandbox::new();
    let bundle = runc_bundle(&sb, &["/sbin/rinit", "--", "/bin/busybox", "sleep", "1000"]);
    let name = runc_name(&sb);
    let _guard = RuncGuard { runc: runc.clone(), name: name.clone() };
    let log = sb.path("runc.log");
    let mut child = Command::new(&runc)
        .args(["run", "--bundle"]).arg(&bundle).arg(&name)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(fs::File::create(sb.path("runc.err")).unwrap())
        .spawn()
        .expect("runc run");
    wait_until("default to be up in the container", Duration::from_secs(10), || {
        fs::read_to_string(&log).unwrap_or_default().contains("default is up")
    });
    let k = Command::new(&runc).args(["kill", &name, "TERM"]).output().expect("runc kill");
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    let end = Instant::now() + Duration::from_secs(10);
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("the container did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = format!("{}{}", fs::read_to_string(&log).unwrap_or_default(), fs::read_to_string(sb.path("runc.err")).unwrap_or_default());
    assert_eq!(st.code(), Some(0), "{text}");
    assert_in_order(&text, DOWN_LINES);
    assert!(text.contains("exiting with code 0"), "{text}");
}

// ---------------------------------------------------------------- qemu

#[test]
fn boots_the_demo_on_a_real_kernel_and_powers_off() {
    let sb = Sandbox::new();
    let Some(console) = boot_qemu(&sb.mkdir("qemu"), &[]) else { return };
    assert_in_order(
        &console,
        &[
            "rinit: info: stage 1 started",
            "(boot mode)",
            "mounted /proc",
            "service demo-oneshot-1: starting",
            "demo-oneshot-1 is up",
            "service demo-longrun-1 successfully started",
            "login:",
            "shutting down: poweroff",
            "service demo-longrun-1: stopping",
            "service demo-longrun-1 successfully stopped",
            "service demo-oneshot-1: stopping",
            "service demo-oneshot-1 successfully stopped",
            "sending all processes the TERM signal",
            "sending all processes the KILL signal",
            "unmounted /run",
            "system poweroff",
            "reboot: Power down",
        ],
    );
    assert_in_order(&console, &["demo-oneshot-1 is up", "demo-longrun-1 is running", "shutting down: poweroff"]);
    assert!(!console.contains("unable to open /proc/mounts"), "{console}");
    assert!(!console.contains("Kernel panic"), "{console}");
}

/// rinit-shutdownd alone in a service directory of the sandbox (requests
/// are only read and announced until one is due), and a writer to its FIFO.
fn lone_shutdownd(sb: &mut Sandbox) -> (Proc, fs::File) {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = sb.mkdir("shutdownd");
    let p = sb.spawn_in(&dir, args![bin("rinit-shutdownd"), "-c", sb.path("no-basedir")]);
    let fifo = dir.join("fifo");
    let mut w = None;
    // O_NONBLOCK: ENXIO until the daemon has its reading end open.
    wait_until("the daemon's FIFO", SOON, || {
        w = fs::OpenOptions::new().write(true).custom_flags(0o4000).open(&fifo).ok();
        w.is_some()
    });
    (p, w.unwrap())
}

#[test]
fn a_delay_too_large_for_the_clock_waits_and_never_fires_at_once() {
    use std::io::Write;
    let mut sb = Sandbox::new();
    let (p, mut w) = lone_shutdownd(&mut sb);
    // `shutdown -p +307445734561`: minutes that overflow 64-bit nanoseconds.
    w.write_all(b"p 2000 18446744073660000\n").unwrap();
    wait_until("the request", SOON, || p.output().contains("requested"));
    // A daemon whose deadline wrapped is shutting down by now, deaf to this.
    w.write_all(b"c 0 0\n").unwrap();
    wait_until("the cancellation", SOON, || p.output().contains("pending shutdown cancelled"));
    let out = p.output();
    assert_in_order(&out, &["poweroff requested, in 18446744073660000 ms", "rinit-shutdownd: info: pending shutdown cancelled"]);
    assert!(!out.contains("shutting down"), "{out}");
}

#[test]
fn a_request_split_over_two_writes_is_one_request_and_bad_ones_are_quoted() {
    use std::io::Write;
    let mut sb = Sandbox::new();
    let (p, mut w) = lone_shutdownd(&mut sb);
    w.write_all(b"r 2000 ").unwrap();
    // The daemon reads the first half on its own before the second comes.
    std::thread::sleep(Duration::from_millis(100));
    w.write_all(b"60000\n\x1b[2Jx\n").unwrap();
    wait_until("the warning", SOON, || p.output().contains("malformed"));
    w.write_all(b"c 0 0\n").unwrap();
    wait_until("the cancellation", SOON, || p.output().contains("cancelled"));
    assert_eq!(
        p.output(),
        "rinit-shutdownd: info: reboot requested, in 60000 ms\n\
         rinit-shutdownd: warning: ignoring a malformed request: \"\\x1b[2Jx\"\n\
         rinit-shutdownd: info: pending shutdown cancelled\n"
    );
}

#[test]
fn shutdown_takes_bundled_and_attached_options() {
    let sb = Sandbox::new();
    let shutdown = |args: &[&str]| {
        let mut a = vec![bin("rinit-shutdown").into_os_string()];
        a.extend(args.iter().map(Into::into));
        sb.run(&a.iter().map(|s| s.as_os_str()).collect::<Vec<_>>())
    };
    // Without a daemon, a command line that parses ends with "not listening".
    for args in [&["-rt5", "now"][..], &["-r", "-t", "5", "now"], &["-at5", "-r", "+1"]] {
        let out = shutdown(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(111), "{args:?}: {err}");
        assert!(err.contains("the shutdown daemon is not listening"), "{args:?}: {err}");
    }
    for args in [&["-t"][..], &["-tx", "now"], &["-z"]] {
        assert_eq!(shutdown(args).status.code(), Some(100), "{args:?}");
    }
}
