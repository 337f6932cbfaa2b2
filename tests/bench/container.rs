//! bench-container: rinit's zero configuration beside Debian's tini
//! (tini-static), dumb-init and catatonit, in one run: the bytes a
//! FROM-scratch image needs for the init, the time from the init's exec to
//! CMD running, the total time of `INIT -- /bin/true`, RSS and Pss of pid 1
//! while CMD runs, and a behaviour table, one row per point of the
//! container entrypoint, each cell the outcome of a run made here.
//!
//!     cargo build --release && cargo run --release -p rinit-tests --bin bench-container [-- --runs N] [--readme]
//!
//! Every run is pid 1 (or, for "not pid 1", the child of a shell that is)
//! of fresh user, mount and pid namespaces (`unshare`). Times come from a
//! tiny static probe (built here with gcc): `probe exec PROG...` prints
//! CLOCK_MONOTONIC and execs the init, `probe` as CMD prints it again
//! (and pauses with `probe pause`). `--readme` rewrites the README's
//! section between `<!-- bench-container begin -->` and `end -->`.

use rinit_tests::bin_dir;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROBE_C: &str = r#"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static void stamp(const char *tag) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    dprintf(1, "%s %lld\n", tag, (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
}
int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "exec")) { stamp("L"); execv(argv[2], argv + 2); return 127; }
    stamp("C");
    if (argc > 1 && !strcmp(argv[1], "pause")) for (;;) pause();
    return 0;
}
"#;

struct Tool {
    name: &'static str,
    path: PathBuf,
    /// Arguments before CMD (the `--`).
    args: Vec<String>,
    /// Its version, from dpkg (Debian's packages) or "this tree".
    version: String,
}

impl Tool {
    fn argv(&self, extra: &[&str], cmd: &[&str]) -> Vec<String> {
        let mut v = vec![self.path.display().to_string()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(self.args.iter().cloned());
        v.extend(cmd.iter().map(|s| s.to_string()));
        v
    }
}

fn dpkg_version(pkg: &str) -> String {
    Command::new("dpkg-query").args(["-W", "-f=${Version}", pkg]).output().ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).filter(|v| !v.is_empty()).unwrap_or_else(|| "?".into())
}

fn tools() -> Vec<Tool> {
    let t = |name: &'static str, path: &str, args: &[&str], pkg: &str| Tool {
        name,
        path: PathBuf::from(path),
        args: args.iter().map(|s| s.to_string()).collect(),
        version: dpkg_version(pkg),
    };
    let mut v = vec![Tool { name: "rinit", path: bin_dir().join("rinit"), args: vec!["--".into()], version: "this tree".into() }];
    v.push(t("tini", "/usr/bin/tini-static", &["--"], "tini"));
    v.push(t("dumb-init", "/usr/bin/dumb-init", &["--"], "dumb-init"));
    v.push(t("catatonit", "/usr/bin/catatonit", &["--"], "catatonit"));
    for tool in &v {
        assert!(tool.path.exists(), "{} is missing: scripts/deps installs tini, dumb-init, catatonit", tool.path.display());
    }
    v
}

fn unshare() -> Command {
    let mut c = Command::new("unshare");
    c.args(["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "--"]);
    c
}

fn build_probe(dir: &Path) -> PathBuf {
    let c = dir.join("probe.c");
    fs::write(&c, PROBE_C).unwrap();
    let out = dir.join("probe");
    let st = Command::new("gcc").args(["-static", "-O2", "-s", "-o"]).arg(&out).arg(&c).status()
        .expect("gcc (scripts/deps installs it)");
    assert!(st.success(), "gcc failed on probe.c");
    out
}

fn stamps(text: &str, tag: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(tag).and_then(|r| r.trim().parse().ok()))
}

fn now_ns() -> u64 {
    // CLOCK_MONOTONIC as the probe reads it (not namespaced).
    let mut t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    if t.tv_nsec < 0 {
        t.tv_nsec = 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One sample of exec → CMD, and of the total of `INIT -- /bin/true`
/// (from the init's exec until the bench sees the namespace end), in µs.
fn times(tool: &Tool, probe: &Path) -> (Option<f64>, Option<f64>) {
    let out = unshare().arg(probe).arg("exec").args(tool.argv(&[], &[probe.to_str().unwrap()]))
        .stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let start = match (stamps(&text, "L "), stamps(&text, "C ")) {
        (Some(l), Some(c)) => Some((c - l) as f64 / 1e3),
        _ => None,
    };
    let mut child = unshare().arg(probe).arg("exec").args(tool.argv(&[], &["/bin/true"]))
        .stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let st = child.wait().unwrap();
    let end = now_ns();
    let mut s = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    let total = match (stamps(&s, "L "), st.success()) {
        (Some(l), true) => Some((end - l) as f64 / 1e3),
        _ => None,
    };
    (start, total)
}

/// The pid of the wrapper's child (pid 1 inside), once it has one.
fn pid1_of(wrapper: &Child) -> u32 {
    let w = wrapper.id();
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let c = fs::read_to_string(format!("/proc/{w}/task/{w}/children")).unwrap_or_default();
        if let Some(p) = c.split_whitespace().next().and_then(|s| s.parse().ok()) {
            return p;
        }
        assert!(Instant::now() < end, "no pid 1 under unshare");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// RSS and Pss (KiB) of pid 1 while CMD (a pausing probe) runs.
fn memory(tool: &Tool, probe: &Path) -> (u64, u64) {
    let mut child = unshare().args(tool.argv(&[], &[probe.to_str().unwrap(), "pause"]))
        .stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let pid = pid1_of(&child);
    // CMD running: pid 1 has a child.
    let end = Instant::now() + Duration::from_secs(5);
    while fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default().trim().is_empty() {
        assert!(Instant::now() < end, "{}: CMD did not start", tool.name);
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(50));
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        rollup.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let r = (field("Rss:"), field("Pss:"));
    let _ = child.kill();
    let _ = child.wait();
    r
}

/// Bytes the image needs for the init: the file, and for a dynamic one
/// the libraries `ldd` names.
fn image_bytes(tool: &Tool) -> (u64, String) {
    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if tool.name == "rinit" {
        let tree: u64 = ["rinit-scan", "rinit-supervise"].iter().map(|b| size(&bin_dir().join(b))).sum();
        let own = size(&tool.path);
        return (own, format!("static; {} B with rinit-scan and rinit-supervise for service directories", own + tree));
    }
    let ldd = Command::new("ldd").arg(&tool.path).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let libs: Vec<PathBuf> = ldd.lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')).map(PathBuf::from))
        .collect();
    let lib_bytes: u64 = libs.iter().map(|l| size(&fs::canonicalize(l).unwrap_or(l.clone()))).sum();
    if libs.is_empty() {
        (size(&tool.path), "static".into())
    } else {
        (size(&tool.path) + lib_bytes, format!("dynamic: {} B + libc and loader", size(&tool.path)))
    }
}

/// Runs `script` with `sh` as pid 1 of fresh namespaces (its own /proc and
/// a tmpfs /run), to its end: exit code and output.
fn sh_pid1(script: &str) -> (Option<i32>, String) {
    let mut c = unshare();
    c.args(["/bin/sh", "-c", &format!("mount -t proc proc /proc && mount -t tmpfs tmpfs /run && {{ {script} ; }}")]);
    let out = c.stdin(Stdio::null()).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn run_pid1(argv: &[String], timeout: Duration, signals: &[(u64, &str)]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("bench-container-{}-{}", std::process::id(), now_ns()));
    fs::create_dir_all(&dir).unwrap();
    let log = dir.join("out");
    let f = fs::File::create(&log).unwrap();
    let mut child = unshare().args(argv).stdin(Stdio::null()).stdout(f.try_clone().unwrap()).stderr(f).spawn().unwrap();
    let t0 = Instant::now();
    let mut pending = signals.iter();
    let mut next = pending.next();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if let Some(&(after_ms, sig)) = next
            && t0.elapsed() >= Duration::from_millis(after_ms)
        {
            let pid = pid1_of(&child);
            let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
            next = pending.next();
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = fs::read_to_string(&log).unwrap_or_default();
    let _ = fs::remove_dir_all(&dir);
    (code, out)
}

/// One row of the behaviour table: (point, what was run, a verdict per tool).
fn behaviour(tools: &[Tool]) -> Vec<(&'static str, &'static str, Vec<bool>)> {
    let work = std::env::temp_dir().join(format!("bench-container-svc-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let svc = work.join("svc/db");
    fs::create_dir_all(&svc).unwrap();
    fs::write(svc.join("run"), "#!/bin/sh\necho db is up\nsleep 0.3\nexit 42\n").unwrap();
    fs::set_permissions(svc.join("run"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(svc.join("critical"), "").unwrap();
    let svcdir = work.join("svc").display().to_string();

    let mut rows = vec![];
    let per = |f: &dyn Fn(&Tool) -> bool| tools.iter().map(f).collect::<Vec<bool>>();

    rows.push(("1 zero configuration", "`-- sh -c 'exit 7'`: 7 and only CMD's output; killed by USR1: 138; missing CMD: 127", per(&|t| {
        let (c, out) = run_pid1(&t.argv(&[], &["/bin/sh", "-c", "echo only; exit 7"]), Duration::from_secs(10), &[]);
        let (c2, _) = run_pid1(&t.argv(&[], &["/bin/sh", "-c", "kill -USR1 $$"]), Duration::from_secs(10), &[]);
        let (c3, _) = run_pid1(&t.argv(&[], &["/nonexistent"]), Duration::from_secs(10), &[]);
        c == Some(7) && out == "only\n" && c2 == Some(138) && c3 == Some(127)
    })));
    rows.push(("2 services without a build step", "a service directory runs beside CMD, which starts once it is up", per(&|t| {
        if t.name != "rinit" {
            return false; // no such option
        }
        let (c, out) = run_pid1(&t.argv(&["-s", &svcdir], &["/bin/sh", "-c", "echo main; exit 0"]), Duration::from_secs(10), &[]);
        c == Some(0) && out.find("db is up").zip(out.find("main")).is_some_and(|(a, b)| a < b)
    })));
    rows.push(("3 one exit-code policy", "`-e 3` maps CMD's 3 to 0; a `critical` service that exits 42 gives 42", per(&|t| {
        let (c, _) = run_pid1(&t.argv(&["-e", "3"], &["/bin/sh", "-c", "exit 3"]), Duration::from_secs(10), &[]);
        let critical = t.name == "rinit" && {
            let (c2, _) = run_pid1(&t.argv(&["-s", &svcdir], &["/bin/sh", "-c", "exec sleep 1000"]), Duration::from_secs(10), &[]);
            c2 == Some(42)
        };
        c == Some(0) && critical
    })));
    rows.push(("4 signals, all of them", "HUP and WINCH reach CMD; TERM: 143; a TERM-proof grandchild in its own session is gone before the init exits", per(&|t| {
        // As pid 1: HUP, WINCH, then TERM.
        let (c, out) = run_pid1(&t.argv(&[], &["/bin/sh", "-c", "trap 'echo got HUP' HUP; trap 'echo got WINCH' WINCH; echo ready; while :; do sleep 0.05; done"]),
            Duration::from_secs(10), &[(300, "HUP"), (400, "WINCH"), (500, "TERM")]);
        let forwarded = out.contains("got HUP") && out.contains("got WINCH") && c == Some(143);
        // Not pid 1 under a shell: the grandchild must be gone when the init exits.
        let sub = subreaper_flag(t);
        let inner = "setsid sh -c 'trap \"\" TERM; exec sleep 1234' & sleep 0.2; kill -TERM $PPID; exec sleep 1000";
        let (_, out2) = sh_pid1(&format!(
            "{} {}; echo code=$?; if ps -eo comm | grep -qx sleep; then echo left; else echo none-left; fi",
            t.argv(&[sub], &[]).iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" "),
            shell_quote(&["/bin/sh", "-c", inner])
        ));
        forwarded && out2.contains("none-left")
    })));
    rows.push(("5 not pid 1", "under another pid 1: CMD's code 3 passed, and an orphan it left is reaped", per(&|t| {
        let sub = subreaper_flag(t);
        let (_, out) = sh_pid1(&format!(
            "{} {}; echo code=$?; if ps -eo comm | grep -qx sleep; then echo left; else echo none-left; fi",
            t.argv(&[sub], &[]).iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" "),
            shell_quote(&["/bin/sh", "-c", "sleep 1234 & exit 3"])
        ));
        out.contains("code=3") && out.contains("none-left")
    })));
    let _ = fs::remove_dir_all(&work);
    rows
}

/// The option that makes a tool a subreaper when it is not pid 1.
fn subreaper_flag(t: &Tool) -> &'static str {
    match t.name {
        "tini" => "-s",
        _ => "",
    }
}

fn shell_quote(words: &[&str]) -> String {
    words.iter().map(|w| format!("'{}'", w.replace('\'', "'\\''"))).collect::<Vec<_>>().join(" ")
}

fn main() {
    let mut runs = 9;
    let mut readme = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--readme" => readme = true,
            _ => panic!("usage: bench-container [--runs N] [--readme]"),
        }
    }
    let work = std::env::temp_dir().join(format!("bench-container-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).unwrap();
    let probe = build_probe(&work);
    let tools = tools();

    let mut rows: Vec<(String, Vec<String>)> = vec![];
    let mut image = vec![];
    let mut notes = vec![];
    let (mut rss, mut pss) = (vec![], vec![]);
    for t in &tools {
        let (b, note) = image_bytes(t);
        image.push(b);
        notes.push(format!("{}: {note}", t.name));
        let (r, p) = memory(t, &probe);
        rss.push(r);
        pss.push(p);
    }
    // Rounds, each tool once per round: a load that comes and goes weighs on all alike.
    let mut samples: Vec<(Vec<f64>, Vec<f64>)> = tools.iter().map(|_| (vec![], vec![])).collect();
    for _ in 0..runs {
        for (t, (s, tt)) in tools.iter().zip(samples.iter_mut()) {
            let (a, b) = times(t, &probe);
            s.extend(a);
            tt.extend(b);
        }
    }
    let start: Vec<f64> = samples.iter().map(|(s, _)| median(s.clone())).collect();
    let total: Vec<f64> = samples.iter().map(|(_, t)| median(t.clone())).collect();
    rows.push(("image bytes for the init".into(), image.iter().map(|b| format!("{b} B")).collect()));
    rows.push(("exec → CMD running".into(), start.iter().map(|v| format!("{v:.0} µs")).collect()));
    rows.push(("total of `-- /bin/true`".into(), total.iter().map(|v| format!("{v:.0} µs")).collect()));
    rows.push(("pid 1 RSS while CMD runs".into(), rss.iter().map(|v| format!("{v} KiB")).collect()));
    rows.push(("pid 1 Pss while CMD runs".into(), pss.iter().map(|v| format!("{v} KiB")).collect()));
    let behaviour = behaviour(&tools);

    let mut out = String::new();
    out += &format!(
        "container entrypoints, measured in the same run: rinit ({}) vs Debian's {}\n",
        tools[0].version,
        tools[1..].iter().map(|t| format!("{} {}", t.name, t.version)).collect::<Vec<_>>().join(", ")
    );
    out += &format!("each as pid 1 of fresh user+mount+pid namespaces; times: medians of {runs} rounds (each init once a round); tini is tini-static (a FROM-scratch image needs it)\n\n");
    let head: Vec<&str> = tools.iter().map(|t| t.name).collect();
    out += &format!("| measure | {} | rinit target |\n|---|{}---|\n", head.join(" | "), "---|".repeat(tools.len()));
    for (i, (name, cells)) in rows.iter().enumerate() {
        let target = match i {
            0 => verdict(image[0] as f64 <= 65536.0, "≤ 64 KiB (with the tree: size report)"),
            2 => verdict(total[0] <= 3.0 * total[1], "≤ 3× tini"),
            3 => verdict(rss[0] <= rss[1], "≤ tini"),
            _ => String::new(),
        };
        out += &format!("| {name} | {} | {target} |\n", cells.join(" | "));
    }
    out += &format!("\n| behaviour (measured) | {} | how |\n|---|{}---|\n", head.join(" | "), "---|".repeat(tools.len()));
    for (name, how, cells) in &behaviour {
        let marks: Vec<&str> = cells.iter().map(|&ok| if ok { "✓" } else { "✗" }).collect();
        out += &format!("| {name} | {} | {how} |\n", marks.join(" | "));
    }
    out += &format!("\n{}\n", notes.join("; "));
    print!("{out}");
    let _ = fs::remove_dir_all(&work);

    if readme {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let text = fs::read_to_string(&path).unwrap();
        let (b, e) = ("<!-- bench-container begin -->\n", "<!-- bench-container end -->");
        let (Some(i), Some(j)) = (text.find(b), text.find(e)) else { panic!("README.md has no bench-container markers") };
        let when = Command::new("date").args(["-u", "+%Y-%m-%d at %H:%M UTC"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
        let new = format!("{}{b}As measured on {when} (a 2-core VM shared with other work: the ratios in one run are the fair comparison):\n\n{out}{}", &text[..i], &text[j..]);
        fs::write(&path, new).unwrap();
        println!("README.md: bench-container section rewritten");
    }
}

fn verdict(ok: bool, what: &str) -> String {
    format!("{what}: {}", if ok { "met" } else { "NOT met" })
}
