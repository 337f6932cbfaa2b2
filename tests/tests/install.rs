//! scripts/install: the programs, their manual pages (made by
//! scripts/manpages, rendered by man), s6's names as links, and programs that
//! answer to those names.

use rinit_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The programs: one per manual page in docs/ (the list scripts/install uses).
fn programs() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(repo().join("docs"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("rinit") && n.ends_with(".md"))
        .map(|n| n.trim_end_matches(".md").to_string())
        .collect();
    v.sort();
    v
}

const S6_NAMES: &[(&str, &str)] = &[
    ("s6-svscan", "rinit-scan"),
    ("s6-supervise", "rinit-supervise"),
    ("s6-svc", "rinit-svc"),
    ("s6-svstat", "rinit-svstat"),
    ("s6-svwait", "rinit-svwait"),
    ("s6-svok", "rinit-svok"),
    ("s6-svscanctl", "rinit-svscanctl"),
    ("s6-log", "rinit-log"),
    ("s6-rc", "rinit-rc"),
    ("s6-rc-init", "rinit-rc-init"),
    ("s6-rc-compile", "rinit-rc-compile"),
    ("s6-rc-db", "rinit-rc-db"),
    ("s6-rc-update", "rinit-rc-update"),
    ("s6-linux-init-shutdown", "rinit-shutdown"),
    ("s6-linux-init-hpr", "rinit-shutdown"),
];

/// Runs scripts/install with `args`, taking the binaries under test.
pub fn install(args: &[&str]) -> Output {
    Command::new(repo().join("scripts/install"))
        .args(args)
        .env("RINIT_BIN_DIR", bin_dir())
        .output()
        .expect("run scripts/install")
}

fn ok(out: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

/// `man -l PAGE` at 80 columns: the rendered text, and troff's complaints.
fn man(page: &Path) -> (String, String) {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("run man");
    assert!(out.status.success(), "man -l {}: {:?}", page.display(), out);
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn install_puts_every_program_its_page_and_s6s_names_under_destdir_and_prefix() {
    let sb = Sandbox::new();
    let dest = sb.path("image");
    ok(&install(&["--destdir", dest.to_str().unwrap(), "--prefix", "/opt/rinit", "--s6-names"]));
    let bindir = dest.join("opt/rinit/bin");
    let mandir = dest.join("opt/rinit/share/man/man8");
    let programs = programs();
    assert!(programs.len() >= 18, "{programs:?}");
    for p in &programs {
        let f = bindir.join(p);
        let m = fs::metadata(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(m.is_file() && m.permissions().mode() & 0o111 != 0, "{} not an executable file", f.display());
        assert_eq!(fs::read(&f).unwrap(), fs::read(bin(p)).unwrap(), "{p} is not the built binary");
        assert!(mandir.join(format!("{p}.8")).is_file(), "no manual page for {p}");
    }
    for (s6, ours) in S6_NAMES {
        assert_eq!(fs::read_link(bindir.join(s6)).unwrap(), Path::new(ours), "{s6}");
        assert_eq!(fs::read_link(mandir.join(format!("{s6}.8"))).unwrap(), Path::new(&format!("{ours}.8")));
    }
    // Nothing else: no stray temporary files.
    let n = fs::read_dir(&bindir).unwrap().count();
    assert_eq!(n, programs.len() + S6_NAMES.len());
    // Again over itself: the links are recognised as ours.
    ok(&install(&["--destdir", dest.to_str().unwrap(), "--prefix", "/opt/rinit", "--s6-names"]));
}

#[test]
fn install_refuses_to_replace_a_program_that_is_not_its_own_link() {
    let sb = Sandbox::new();
    let dest = sb.path("image");
    let theirs = sb.write("image/usr/bin/s6-svc", "#!/bin/sh\necho the real s6-svc\n");
    let out = install(&["--destdir", dest.to_str().unwrap(), "--s6-names"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(111), "{err}");
    assert!(err.contains("install: fatal:") && err.contains("s6-svc exists and is not rinit's link"), "{err}");
    assert_eq!(fs::read_to_string(theirs).unwrap(), "#!/bin/sh\necho the real s6-svc\n");
    // Bad usage is one line and exit 100.
    let out = install(&["--prefix", "relative"]);
    assert_eq!(out.status.code(), Some(100), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the prefix must be an absolute path"));
}

#[test]
fn install_writes_a_basedir_with_rinit_maker_when_asked() {
    let sb = Sandbox::new();
    let dest = sb.path("image");
    ok(&install(&["--destdir", dest.to_str().unwrap(), "--basedir", "/etc/rinit", "--", "-C"]));
    assert_eq!(fs::read_link(dest.join("etc/rinit/bin/init")).unwrap(), Path::new("/usr/bin/rinit"));
    assert!(fs::read_to_string(dest.join("etc/rinit/env/PATH")).unwrap().starts_with("/usr/bin"));
}

#[test]
fn every_manual_page_renders_with_man_and_troff_has_nothing_to_say() {
    if require("man").is_none() {
        return;
    }
    let sb = Sandbox::new();
    let out = Command::new(repo().join("scripts/manpages")).arg(sb.path("man8")).output().unwrap();
    ok(&out);
    for p in programs() {
        let page = sb.path(&format!("man8/{p}.8"));
        let (text, complaints) = man(&page);
        assert_eq!(complaints, "", "man -l {}", page.display());
        let title = format!("{}(8)", p.to_uppercase());
        assert!(text.starts_with(&title), "{p}: {text}");
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"] {
            assert!(text.lines().any(|l| l == section), "{p}: no {section} section in:\n{text}");
        }
        // The Markdown is gone: no fences, no table rules, no backquotes.
        assert!(!text.contains("```") && !text.contains("|---") && !text.contains('`'), "{p}: {text}");
    }
    // A page whose first line is not a title is refused, naming the file.
    let bad = sb.write("bad.md", "no title\n");
    let out = Command::new(repo().join("scripts/manpages")).arg(sb.path("x")).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.md: the first line must be"), "{out:?}");
}

#[test]
fn a_program_run_by_its_s6_name_speaks_with_that_name() {
    let sb = Sandbox::new();
    let dest = sb.path("image");
    ok(&install(&["--destdir", dest.to_str().unwrap(), "--s6-names"]));
    let bindir = dest.join("usr/bin");
    let run = |prog: &Path, args: &[&str]| {
        let out = Command::new(prog).args(args).current_dir(&sb.dir).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&bindir.join("s6-svc"), &["-u", "nowhere"]);
    assert_eq!(code, Some(111));
    assert!(err.starts_with("s6-svc: fatal: unable to control nowhere"), "{err}");
    // Through PATH, as a run script calls it.
    let out = Command::new("s6-rc-compile").env("PATH", &bindir).output().unwrap();
    assert_eq!(out.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("s6-rc-compile: usage: "), "{out:?}");
    for (s6, _) in S6_NAMES {
        // A usage error from each (rinit-svok has no options: no operand).
        let bad: &[&str] = if *s6 == "s6-svok" { &[] } else { &["-Z"] };
        let (_, err) = run(&bindir.join(s6), bad);
        // The supervisor keeps its own name (the scanner starts it by it anyway).
        let name = if *s6 == "s6-supervise" { "rinit-supervise" } else { s6 };
        assert!(err.starts_with(&format!("{name}: ")) || err.starts_with(&format!("{name} ")), "{s6} -Z said: {err}");
    }
    // s6-log's alerts carry its name too.
    let mut c = Command::new(bindir.join("s6-log"))
        .arg("e")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut c.stdin.take().unwrap(), b"disk on fire\n").unwrap();
    let out = c.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "s6-log: alert: disk on fire\n");
    // Under its own name it keeps its own.
    let (_, err) = run(&bindir.join("rinit-svc"), &["-u", "nowhere"]);
    assert!(err.starts_with("rinit-svc: fatal:"), "{err}");
}

/// An s6-style system written with one set of names (`s6-svc`... or
/// `rinit-svc`...), installed by scripts/install, booted as a container with
/// a PATH of the installed programs, busybox and execline's commands only.
/// Returns the container's exit code, its output, and the two log
/// directories' `current`.
fn boot_s6_style_system(s6: bool) -> (Option<i32>, String, String, String, String) {
    let mut sb = Sandbox::new();
    let n = |p: &str| if s6 { format!("s6-{p}") } else { format!("rinit-{p}") };
    let root = sb.dir.to_str().unwrap().to_string();
    let basedir = format!("{root}/base");
    ok(&install(&[
        "--prefix", &format!("{root}/usr"), "--s6-names", "--basedir", &basedir, "--", "-C", "-r",
        &format!("{root}/compiled"), "-p", &format!("{root}/usr/bin:{root}/bb:/usr/lib/execline/bin"),
    ]));
    fs::create_dir_all(sb.path("bb")).unwrap();
    // `true` for the oneshot's `if { true }`: it runs with the tree's PATH.
    for a in ["sh", "echo", "sleep", "cat", "grep", "cut", "sort", "true"] {
        std::os::unix::fs::symlink("/bin/busybox", sb.path(&format!("bb/{a}"))).unwrap();
    }

    // Service directories of the scan directory itself, s6 style.
    let svc = |rel: &str, file: &str, body: String| {
        let p = sb.write(&format!("base/run-image/service/{rel}/{file}"), &format!("#!/bin/busybox sh\n{body}\n"));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    };
    svc("ticker", "run", "echo tick\nexec sleep 1000".into());
    svc("ticker", "finish", format!("{} . > {root}/ticker-finish", n("svstat")));
    svc("ticker/log", "run", format!("exec {} -b n3 t {root}/logs/ticker", n("log")));
    svc(
        "waiter",
        "run",
        format!(
            // The scanner may start the waiter before the ticker's supervisor
            // has set up: svwait needs its event/ fifodir to subscribe and
            // its status file to read, and the status file comes last.
            "until [ -f ../ticker/supervise/status ]; do sleep 0.05; done\n{w} -u -t 5000 ../ticker || exit 1\necho waiter saw ticker up\n{c} -o . && exec sleep 0.5",
            w = n("svwait"),
            c = n("svc")
        ),
    );
    fs::create_dir_all(sb.path("logs")).unwrap();

    // An s6-rc source tree with execline scripts, compiled by the installed compiler.
    sb.write("src/setup/type", "oneshot\n");
    sb.write("src/setup/up", "foreground { echo setup is up }\nif { true }\necho setup done\n");
    sb.write("src/web/type", "longrun\n");
    sb.write("src/web/producer-for", "web-log\n");
    sb.write("src/web/dependencies", "setup\n");
    sb.write("src/web/run", "#!/usr/bin/execlineb -P\nforeground { echo web says hello }\nsleep 1000\n");
    sb.write("src/web-log/type", "longrun\n");
    sb.write("src/web-log/consumer-for", "web\n");
    sb.write("src/web-log/run", &format!("#!/usr/bin/execlineb -P\n{} -b n3 {root}/logs/web\n", n("log")));
    for r in ["src/web/run", "src/web-log/run"] {
        fs::set_permissions(sb.path(r), fs::Permissions::from_mode(0o755)).unwrap();
    }
    sb.write("src/default/type", "bundle\n");
    sb.write("src/default/contents", "setup\nweb\nweb-log\n");
    let path = format!("{root}/usr/bin:{root}/bb:/usr/lib/execline/bin");
    let out = Command::new(n("rc-compile")).arg(sb.path("compiled")).arg(sb.path("src")).env("PATH", &path).output();
    ok(&out.expect("run the compiler by its name"));

    // The container's main program: what an administrator would type.
    let main = sb.write(
        "main",
        &format!(
            "set -e
{svwait} -u -t 5000 /run/service/ticker /run/service/web
echo main: ticker and web are up
{svwait} -D -t 5000 /run/service/waiter
echo main: waiter ran
{svc} -wd -T 5000 -d /run/service/ticker
echo main: ticker is $({svstat} -o up /run/service/ticker) up
{svc} -wu -T 5000 -u /run/service/ticker
echo main: ticker is $({svstat} -o up /run/service/ticker) up
{svok} /run/service/web && echo main: web is supervised
sleep 1.2
echo main: waiter is $({svstat} -o up,wantedup /run/service/waiter)
echo main: services up: $({rc} list | grep -v '^$' | sort)
",
            svwait = n("svwait"),
            svc = n("svc"),
            svstat = n("svstat"),
            svok = n("svok"),
            rc = n("rc"),
        ),
    );
    let init = format!("{root}/base/bin/init");
    let mut p = sb.spawn_pid1_path(args![init, "--", "/bin/busybox", "sh", main], &path);
    let st = p.wait_timeout(std::time::Duration::from_secs(20)).expect("the system to end with its main program");
    let out = p.output();
    let logs = |l: &str| fs::read_to_string(sb.path(&format!("logs/{l}/current"))).unwrap_or_default();
    let finish = sb.read("ticker-finish");
    (st.code(), out, logs("ticker"), logs("web"), finish)
}

/// The lines the system's own programs printed, the tree's progress lines
/// (prefix and all) left out: the main program's in order, the services'
/// sorted (they run side by side).
fn story(out: &str) -> (Vec<&str>, Vec<&str>) {
    let main = out.lines().filter(|l| l.starts_with("main: ")).collect();
    let mut services: Vec<&str> = out.lines().filter(|l| l.starts_with("waiter ") || l.starts_with("setup ")).collect();
    services.sort();
    (main, services)
}

#[test]
fn an_s6_style_system_runs_with_s6s_names_only_as_with_rinits() {
    if require("busybox").is_none() || require("execlineb").is_none() {
        return;
    }
    let (code, out, ticker, web, finish) = boot_s6_style_system(true);
    assert_eq!(code, Some(0), "{out}");
    for l in ["main: ticker and web are up", "main: waiter ran", "main: ticker is false up", "main: ticker is true up",
        "main: web is supervised", "main: waiter is false false", "main: services up: setup web web-log"] {
        assert!(out.contains(l), "{l:?} missing in:\n{out}");
    }
    assert_eq!(out.matches("waiter saw ticker up").count(), 1, "{out}");
    assert!(!out.contains("fatal") && !out.contains("unable to") && !out.contains("not found"), "{out}");
    // s6-log wrote both logs: the ticker's stamped, twice (started, stopped, started).
    assert_eq!(ticker.lines().filter(|l| l.starts_with('@') && l.ends_with(" tick")).count(), 2, "{ticker}");
    assert_eq!(web, "web says hello\n");
    assert!(finish.starts_with("down (signal SIGTERM)"), "finish's s6-svstat said: {finish}");

    let (code2, out2, ticker2, web2, finish2) = boot_s6_style_system(false);
    assert_eq!(code2, Some(0), "{out2}");
    assert_eq!(story(&out), story(&out2), "\n{out}\n----\n{out2}");
    assert_eq!(ticker.lines().count(), ticker2.lines().count());
    assert_eq!(web, web2);
    assert_eq!(finish.split(')').next(), finish2.split(')').next());
}

#[test]
fn an_s6_style_service_boots_on_a_real_kernel_knowing_only_s6s_names() {
    let sb = Sandbox::new();
    let Some(console) = boot_qemu(&sb.mkdir("qemu"), &["-s"]) else { return };
    // On x86_64 the image has the host's execline: the oneshot's `up` uses its blocks.
    let setup = if bin_arch() == "x86_64" { "s6-setup: up, by execline" } else { "s6-setup: up" };
    let lines = [
        setup,
        "service s6-setup successfully started",
        "service s6-style successfully started",
        "s6-style: finish saw exit 3, wanted up: true, says s6-svstat",
        "s6-style: up and wanted up: true true, says s6-svstat",
        "s6-style: the getty is up, says s6-svwait",
        "s6-style: s6-svc -wu returned",
        "s6-style: s6-log wrote: a line for s6-log",
        "service s6-style successfully stopped",
        "reboot: Power down",
    ];
    assert_in_order(&console, &lines);
    if bin_arch() == "x86_64" {
        assert!(console.contains("s6-setup: done"), "{console}");
    }
    assert!(!console.contains("fatal") && !console.contains("Kernel panic"), "{console}");
}
