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
        assert!(err.starts_with(&format!("{s6}: ")), "{s6} -Z said: {err}");
    }
    // Under its own name it keeps its own.
    let (_, err) = run(&bindir.join("rinit-svc"), &["-u", "nowhere"]);
    assert!(err.starts_with("rinit-svc: fatal:"), "{err}");
}
