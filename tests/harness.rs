//! The test harness: every test builds its service directories in a fresh
//! temporary directory, runs the real release binaries in fresh user, mount
//! and pid namespaces (`unshare`), waits on conditions with deadlines, and
//! leaves no process behind (dropping the `Sandbox` kills every namespace it
//! started, which kills everything inside).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Directory holding the release binaries under test.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RINIT_BIN_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d).join("release");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release")
}

/// Directory of the lean build (`<target>/lean/release`, made by
/// scripts/build-lean, which the test command runs after the full build):
/// the smallest container image's programs. For another architecture's
/// binaries (`<target>/<triple>/release`), `scripts/build-lean <triple>`'s
/// `<target>/lean/<triple>/release`.
pub fn lean_bin_dir() -> PathBuf {
    let dir = bin_dir();
    let Some(up) = dir.parent() else { return PathBuf::new() };
    match (up.file_name().and_then(|n| n.to_str()), up.parent()) {
        (Some(triple), Some(target)) if triple.contains("-linux-") => target.join("lean").join(triple).join("release"),
        _ => up.join("lean/release"),
    }
}

/// Path of one of rinit's lean binaries; fails the test if it was not built.
pub fn lean_bin(name: &str) -> PathBuf {
    let p = lean_bin_dir().join(name);
    assert!(p.exists(), "{} is not built: run scripts/build-lean first", p.display());
    p
}

/// Path of one of rinit's binaries; fails the test if it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} is not built: run `cargo build --release` first", p.display());
    p
}

/// Is this a CI run, where no test may skip?
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// A host tool (Debian's s6-svc, qemu...). None (the test should return
/// early, skipped) when absent; a failure under CI=true.
pub fn require(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin"), PathBuf::from("/bin")]) {
        let p = d.join(tool);
        if p.is_file() {
            return Some(p);
        }
    }
    if in_ci() {
        panic!("{tool} is missing (CI=true: no test may skip; .ci/run must install it)");
    }
    eprintln!("skipped: {tool} is not installed");
    None
}

/// PATH for processes under test: rinit's binaries first.
pub fn test_path() -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", bin_dir().display())
}

/// Waits until `f` holds, polling every 5 ms; panics naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return;
        }
        if Instant::now() > end {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The usual deadline for "this should happen soon".
pub const SOON: Duration = Duration::from_secs(5);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A process started by the sandbox, inside its own namespaces.
pub struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Host pid of the `unshare` wrapper.
    pub fn wrapper_pid(&self) -> u32 {
        self.child.id()
    }

    /// Host pid of the program itself (the wrapper's child: pid 1 inside).
    pub fn pid(&self) -> u32 {
        let w = self.child.id();
        let mut found = 0;
        wait_until("the namespaced process to start", SOON, || {
            let c = fs::read_to_string(format!("/proc/{w}/task/{w}/children")).unwrap_or_default();
            match c.split_whitespace().next().and_then(|s| s.parse().ok()) {
                Some(p) => {
                    found = p;
                    true
                }
                None => false,
            }
        });
        found
    }

    /// Sends `sig` to the program (not the wrapper).
    pub fn signal(&self, sig: i32) {
        let pid = self.pid();
        // Using kill(1) keeps the harness free of libc bindings.
        let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
    }

    /// Everything the program wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits for the program to end; None on timeout.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A fresh directory for one test; every process it started is killed when
/// it is dropped, then the directory is removed.
pub struct Sandbox {
    pub dir: PathBuf,
    procs: Vec<u32>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rinit-test-{}-{}", std::process::id(), n));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create sandbox dir");
        Sandbox { dir, procs: Vec::new() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, contents).expect("write");
        p
    }

    /// An executable `#!/bin/sh` script.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        let p = self.write(rel, &format!("#!/bin/sh\n{body}\n"));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// A service directory `rel` whose `run` is the shell `body`.
    pub fn service(&self, rel: &str, run_body: &str) -> PathBuf {
        self.script(&format!("{rel}/run"), run_body);
        self.path(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    fn start(&mut self, pid1: bool, args: &[&OsStr], cwd: &Path) -> Proc {
        self.start_env(pid1, args, cwd, None)
    }

    fn start_env(&mut self, pid1: bool, args: &[&OsStr], cwd: &Path, path: Option<&str>) -> Proc {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let log = self.dir.join(format!(".proc-{n}.log"));
        let out = fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        // Found in the harness's PATH: the child's may not have it.
        let path_dirs = std::env::var_os("PATH").unwrap_or_default();
        let unshare = std::env::split_paths(&path_dirs).map(|d| d.join("unshare")).find(|p| p.is_file());
        let mut c = Command::new(unshare.unwrap_or_else(|| "unshare".into()));
        c.args(["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "--"]);
        if !pid1 {
            // A shell as pid 1 that reaps; the program is its child.
            c.args(["/bin/sh", "-c", "\"$@\" & wait $!; s=$?; exit $s", "sh"]);
        }
        if path.is_some() {
            c.env_clear();
        }
        c.args(args).current_dir(cwd).env("PATH", path.map_or_else(test_path, String::from));
        c.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = c.spawn().expect("spawn unshare");
        self.procs.push(child.id());
        Proc { child, log }
    }

    /// Runs `args` as pid 1 of fresh user, mount and pid namespaces, in the sandbox dir.
    pub fn spawn_pid1(&mut self, args: &[&OsStr]) -> Proc {
        let dir = self.dir.clone();
        self.start(true, args, &dir)
    }

    /// `spawn_pid1` with nothing inherited from the environment and `path` as PATH.
    pub fn spawn_pid1_path(&mut self, args: &[&OsStr], path: &str) -> Proc {
        let dir = self.dir.clone();
        self.start_env(true, args, &dir, Some(path))
    }

    /// Runs `args` in fresh namespaces, not as pid 1 (a shell is pid 1 there).
    pub fn spawn(&mut self, args: &[&OsStr]) -> Proc {
        let dir = self.dir.clone();
        self.start(false, args, &dir)
    }

    /// Like `spawn`, with `cwd` as the working directory.
    pub fn spawn_in(&mut self, cwd: &Path, args: &[&OsStr]) -> Proc {
        self.start(false, args, cwd)
    }

    /// Runs a command to completion on the host, in the sandbox dir, with rinit's PATH.
    pub fn run(&self, args: &[&OsStr]) -> Output {
        Command::new(args[0])
            .args(&args[1..])
            .current_dir(&self.dir)
            .env("PATH", test_path())
            .stdin(Stdio::null())
            .output()
            .expect("run command")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for &p in &self.procs {
            // Killing the wrapper makes it SIGKILL its child, pid 1 of the
            // namespace, and the kernel then kills everything inside.
            let _ = Command::new("kill").arg("-KILL").arg(p.to_string()).status();
        }
        // Let the kernel tear the namespaces down before removing files.
        std::thread::sleep(Duration::from_millis(20));
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs scripts/boot-qemu `-p` (boot, power off by itself) with `opts`,
/// its files kept in `out_dir`, and returns the console; None (skipped)
/// when qemu, busybox or cpio is missing. Fails the test when qemu does not
/// power off by itself.
pub fn boot_qemu(out_dir: &Path, opts: &[&str]) -> Option<String> {
    // The binaries' own architecture: Debian's kernel for it under -M virt
    // (x86_64's kernel for i686).
    let arch = bin_arch();
    let qemu = match arch {
        "aarch64" => "qemu-system-aarch64",
        "armv7" => "qemu-system-arm",
        "riscv64" => "qemu-system-riscv64",
        _ => "qemu-system-x86_64",
    };
    if require(qemu).is_none() || require("busybox").is_none() || require("cpio").is_none() {
        return None;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let st = Command::new(repo.join("scripts/boot-qemu"))
        .args(["-a", arch, "-p", "-t", "120", "-o"])
        .arg(out_dir)
        .args(opts)
        .env("RINIT_BIN_DIR", bin_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("scripts/boot-qemu");
    let console = fs::read_to_string(out_dir.join("console.log")).unwrap_or_default();
    assert!(st.success(), "qemu did not power off by itself:\n{console}");
    Some(console)
}

/// Each of `lines` appears in `text`, in this order.
pub fn assert_in_order(text: &str, lines: &[&str]) {
    let mut at = 0;
    for l in lines {
        match text[at..].find(l) {
            Some(i) => at += i + l.len(),
            None => panic!("{l:?} missing (or out of order) after byte {at} in:\n{text}"),
        }
    }
}

/// Rewrites the README's measured block `name` (between `<!-- NAME begin -->`
/// and `<!-- NAME end -->`) with `body`, headed by the date of the measure.
pub fn write_readme_block(name: &str, body: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = fs::read_to_string(&path).expect("README.md");
    let (b, e) = (format!("<!-- {name} begin -->\n"), format!("<!-- {name} end -->"));
    let (Some(i), Some(j)) = (text.find(&b), text.find(&e)) else { panic!("README.md has no {name} markers") };
    let when = Command::new("date").args(["-u", "+%Y-%m-%d at %H:%M UTC"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    let new = format!("{}{b}As measured on {when} (a 2-core VM shared with other work):\n\n{body}{}", &text[..i], &text[j..]);
    fs::write(&path, new).expect("README.md");
    println!("README.md: {name} section rewritten");
}

/// Shorthand for building argument lists: `args![bin("rinit-scan"), "-t0", dir]`.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$(::std::ffi::OsStr::new(&$a)),*][..]
    };
}

/// s6's status record as the tests see it (decoded independently of base/,
/// so a bug there cannot hide itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub stamp_secs: u64,
    pub ready_secs: u64,
    pub pid: u64,
    pub wstat: u16,
    pub paused: bool,
    pub finishing: bool,
    pub want_up: bool,
    pub ready: bool,
}

/// Reads `<svc>/supervise/status`, None if absent or not 35 bytes.
pub fn status(svc: &Path) -> Option<Status> {
    let b = fs::read(svc.join("supervise/status")).ok()?;
    if b.len() != 35 {
        return None;
    }
    let be64 = |o: usize| u64::from_be_bytes(b[o..o + 8].try_into().unwrap());
    let tai = |o: usize| be64(o).saturating_sub((1u64 << 62) + 37);
    Some(Status {
        stamp_secs: tai(0),
        ready_secs: tai(12),
        pid: be64(24),
        wstat: u16::from_be_bytes([b[32], b[33]]),
        paused: b[34] & 1 != 0,
        finishing: b[34] & 2 != 0,
        want_up: b[34] & 4 != 0,
        ready: b[34] & 8 != 0,
    })
}

/// Is a process with host pid `pid` alive (and not a zombie)?
pub fn alive(pid: u64) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits until `p`'s output holds `text`; returns the output.
pub fn wait_output(p: &Proc, text: &str) -> String {
    let mut out = String::new();
    wait_until(&format!("the line {text:?}"), SOON, || {
        out = p.output();
        out.contains(text)
    });
    out
}

/// Waits until `<svc>/supervise/status` satisfies `f`, and returns it.
pub fn wait_status(svc: &Path, what: &str, f: impl Fn(&Status) -> bool) -> Status {
    let mut last = None;
    wait_until(what, SOON, || {
        last = status(svc);
        last.as_ref().is_some_and(&f)
    });
    last.unwrap_or_else(|| panic!("{what}: no status"))
}

/// A listener on a service's `event/` fifodir (s6's ftrig protocol), made
/// before the supervisor starts so it hears everything.
pub struct Events {
    fifo: fs::File,
    got: String,
}

impl Events {
    pub fn listen(svc: &Path) -> Events {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = svc.join("event");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o3730)).unwrap();
        let path = dir.join("ftrig1:@400000006b075ab30d099b02:tests1");
        assert_eq!(path.file_name().unwrap().len(), 39);
        let ok = Command::new("mkfifo").arg("-m").arg("0622").arg(&path).status().unwrap();
        assert!(ok.success());
        let fifo = fs::OpenOptions::new().read(true).write(true).custom_flags(0o4000 /* O_NONBLOCK */).open(&path).unwrap();
        Events { fifo, got: String::new() }
    }

    /// Every letter received so far.
    pub fn read(&mut self) -> &str {
        use std::io::Read;
        let mut buf = [0u8; 256];
        while let Ok(n) = self.fifo.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        &self.got
    }

    /// Waits until the letters received so far contain `seq` in order (not
    /// necessarily adjacent); returns them all.
    pub fn wait_for(&mut self, seq: &str) -> String {
        let mut got = String::new();
        wait_until(&format!("events {seq:?}"), SOON, || {
            got = self.read().to_owned();
            let mut it = got.chars();
            seq.chars().all(|c| it.any(|g| g == c))
        });
        got
    }
}

/// The median of benchmark samples (the upper one of an even count).
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Some(s[s.len() / 2])
}

/// Host pids of the children of `pid` (its main thread's).
pub fn children(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The architecture the binaries under test were built for, from the ELF
/// header of `rinit`: "x86_64", "i686", "aarch64", "armv7", "riscv64",
/// "mipsel", "mips" (docs/architectures.md), or "unknown".
pub fn bin_arch() -> &'static str {
    let head = fs::read(bin("rinit")).unwrap_or_default();
    match head.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]])) {
        Some(62) => "x86_64",
        Some(3) => "i686",
        Some(183) => "aarch64",
        Some(40) => "armv7",
        Some(243) => "riscv64",
        Some(8) => "mipsel",
        // EM_MIPS in a big-endian header.
        Some(0x0800) => "mips",
        _ => "unknown",
    }
}

/// The number of signal `name` (without SIG) where the binaries under test
/// run: a wait status they report carries it, whatever the host's. MIPS
/// has numbers of its own (the kernel's arch/mips/include/uapi/asm/signal.h),
/// every other architecture here the generic ones.
pub fn bin_signal(name: &str) -> i32 {
    const GENERIC: &[(&str, i32)] = &[("HUP", 1), ("INT", 2), ("KILL", 9), ("USR1", 10), ("USR2", 12), ("TERM", 15), ("CHLD", 17), ("CONT", 18), ("STOP", 19)];
    const MIPS: &[(&str, i32)] = &[("HUP", 1), ("INT", 2), ("KILL", 9), ("USR1", 16), ("USR2", 17), ("TERM", 15), ("CHLD", 18), ("CONT", 25), ("STOP", 23)];
    let table = if bin_arch().starts_with("mips") { MIPS } else { GENERIC };
    table.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).unwrap_or_else(|| panic!("bin_signal: no SIG{name} here"))
}

/// Do the binaries under test run under qemu-user (through binfmt_misc)
/// rather than on the CPU? An x86_64 kernel runs i686 binaries itself.
/// qemu-user is not the kernel: the few tests that see a difference say
/// which (docs/architectures.md) and check what holds under it.
pub fn qemu_user() -> bool {
    let arch = bin_arch();
    !(arch == std::env::consts::ARCH || (arch == "i686" && std::env::consts::ARCH == "x86_64"))
}
