//! rinit-status: one table of a scan directory, read from s6's formats
//! only, on trees run by Debian's s6-supervise and by rinit-supervise, with
//! every state a service can be in; `-j` parsed here; with a live
//! rinit-rc state, the types and rinit-rc's view.

use rinit_tests::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One JSON value of a flat object, as rinit-status writes them.
#[derive(Debug, Clone, PartialEq)]
enum J {
    S(String),
    N(u64),
    Null,
}

/// Parses one line `{"k":v,...}` (strings, whole numbers, null); panics on
/// anything else, so a malformed line fails the test.
fn parse_object(line: &str) -> BTreeMap<String, J> {
    let b = line.as_bytes();
    let mut i = 0;
    let expect = |i: &mut usize, c: u8| {
        assert_eq!(b.get(*i), Some(&c), "expected {:?} at {} in {line}", c as char, *i);
        *i += 1;
    };
    let string = |i: &mut usize| -> String {
        expect(i, b'"');
        let mut s = String::new();
        loop {
            let c = b[*i];
            *i += 1;
            match c {
                b'"' => return s,
                b'\\' => {
                    let e = b[*i];
                    *i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => s.push(e as char),
                        b'n' => s.push('\n'),
                        b'u' => {
                            let h = std::str::from_utf8(&b[*i..*i + 4]).unwrap();
                            s.push(char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap());
                            *i += 4;
                        }
                        _ => panic!("bad escape in {line}"),
                    }
                }
                c if c < 0x20 => panic!("raw control byte in {line}"),
                c => s.push(c as char),
            }
        }
    };
    let mut m = BTreeMap::new();
    expect(&mut i, b'{');
    loop {
        let k = string(&mut i);
        expect(&mut i, b':');
        let v = match b[i] {
            b'"' => J::S(string(&mut i)),
            b'n' => {
                assert_eq!(&line[i..i + 4], "null", "{line}");
                i += 4;
                J::Null
            }
            _ => {
                let start = i;
                while b[i].is_ascii_digit() {
                    i += 1;
                }
                J::N(line[start..i].parse().unwrap_or_else(|_| panic!("bad number in {line}")))
            }
        };
        assert!(m.insert(k, v).is_none(), "duplicate key in {line}");
        match b[i] {
            b',' => i += 1,
            b'}' => {
                assert_eq!(i + 1, b.len(), "trailing bytes in {line}");
                return m;
            }
            _ => panic!("bad separator in {line}"),
        }
    }
}

/// `rinit-status -j` output, one object per name.
fn rows(out: &str) -> BTreeMap<String, BTreeMap<String, J>> {
    let mut all = BTreeMap::new();
    for l in out.lines() {
        let o = parse_object(l);
        let J::S(name) = o["name"].clone() else { panic!("no name in {l}") };
        all.insert(name, o);
    }
    all
}

fn status_of(sb: &Sandbox, args: &[&str]) -> Output {
    status_of_bin(sb, &bin("rinit-status"), args)
}

fn status_of_bin(sb: &Sandbox, b: &Path, args: &[&str]) -> Output {
    let mut v: Vec<&std::ffi::OsStr> = vec![b.as_os_str()];
    v.extend(args.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

fn s(v: &str) -> J {
    J::S(v.into())
}

/// A tree with a service in each state, `sup` supervising what is
/// supervised; returns once each has reached its state.
fn tree(sb: &mut Sandbox, sup: &Path) -> PathBuf {
    let scan = sb.mkdir("scan");
    sb.service("scan/up", "exec sleep 1000");
    sb.service("scan/up/log", "exec sleep 1000");
    sb.service("scan/down", "exec sleep 1000");
    sb.write("scan/down/down", "");
    sb.service("scan/never-ready", "exec sleep 1000");
    sb.write("scan/never-ready/notification-fd", "3\n");
    sb.service("scan/crashing", "exit 3");
    sb.service("scan/finishing", "exit 7");
    sb.script("scan/finishing/finish", "exec sleep 1000");
    sb.write("scan/finishing/timeout-finish", "0\n");
    sb.service("scan/unsupervised", "exec sleep 1000");
    sb.mkdir("scan/broken");
    sb.write("scan/broken/supervise", "not a directory\n");
    sb.mkdir("scan/.hidden");
    for d in ["up", "up/log", "down", "never-ready", "crashing", "finishing"] {
        sb.spawn(args![sup, format!("scan/{d}")]);
    }
    let st = |d: &str| status(&scan.join(d));
    wait_until("up and its logger to be up", SOON, || {
        st("up").is_some_and(|s| s.pid != 0) && st("up/log").is_some_and(|s| s.pid != 0)
    });
    wait_until("down to be supervised", SOON, || st("down").is_some());
    wait_until("never-ready to run", SOON, || st("never-ready").is_some_and(|s| s.pid != 0));
    wait_until("finishing to be in its finish script", SOON, || st("finishing").is_some_and(|s| s.finishing));
    // s6-supervise restarts a quickly dying run once a second.
    wait_until("crashing to have died twice", Duration::from_secs(10), || {
        std::fs::metadata(scan.join("crashing/supervise/death_tally")).is_ok_and(|m| m.len() >= 28)
    });
    scan
}

use std::time::Duration;

fn check_tree(sup: &Path) {
    let mut sb = Sandbox::new();
    tree(&mut sb, sup);
    let o = status_of(&sb, &["-j", "scan"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let r = rows(&out);
    let names: Vec<&str> = out.lines().map(|l| l.split('"').nth(3).unwrap()).collect();
    assert_eq!(
        names,
        ["broken", "crashing", "down", "finishing", "never-ready", "unsupervised", "up", "up/log"],
        "sorted by name, the logger under its service, dot-directories left out"
    );
    let up = &r["up"];
    assert_eq!(up["state"], s("up"));
    assert!(matches!(up["pid"], J::N(p) if p > 0), "{up:?}");
    assert!(matches!(up["for_ms"], J::N(_)) && matches!(up["ready_for_ms"], J::N(_)), "{up:?}");
    assert_eq!(up["wanted"], s("up"));
    assert_eq!(up["restarts"], J::N(0));
    assert_eq!(up["last"], J::Null);
    assert_eq!(r["up/log"]["state"], s("up"));

    let down = &r["down"];
    assert_eq!((&down["state"], &down["pid"], &down["wanted"]), (&s("down"), &J::Null, &s("down")));
    assert_eq!(down["ready_for_ms"], J::Null);

    let nr = &r["never-ready"];
    assert_eq!(nr["state"], s("starting-not-ready"));
    assert_eq!(nr["ready_for_ms"], J::Null);
    assert!(matches!(nr["pid"], J::N(p) if p > 0), "{nr:?}");

    let c = &r["crashing"];
    assert!(matches!(c["restarts"], J::N(n) if n >= 2), "{c:?}");
    assert_eq!(c["last"], s("exit 3"));
    assert_eq!(c["wanted"], s("up"));

    let f = &r["finishing"];
    assert_eq!((&f["state"], &f["pid"], &f["last"]), (&s("finishing"), &J::Null, &s("exit 7")));

    assert_eq!(r["unsupervised"]["state"], s("unsupervised"));
    assert_eq!(r["unsupervised"]["pid"], J::Null);

    let b = &r["broken"];
    assert_eq!(b["state"], s("bad"));
    assert_eq!(b["error"], s("unable to open supervise/control: Not a directory"));
    assert!(!b.contains_key("pid"), "{b:?}");

    // The table: a header, a line per row, columns aligned.
    let o = status_of(&sb, &["scan"]);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME ") && lines[0].ends_with("WANT"), "{table}");
    assert_eq!(lines.len(), 1 + names.len(), "{table}");
    let col = lines[0].find("STATE").unwrap();
    for l in &lines[1..] {
        assert_eq!(l.as_bytes()[col - 1], b' ', "{table}");
        assert_ne!(l.as_bytes()[col], b' ', "{table}");
    }
    let broken = lines.iter().find(|l| l.starts_with("broken")).unwrap();
    assert_eq!(broken.split_whitespace().nth(1), Some("bad"), "{table}");
    assert!(broken.ends_with("  unable to open supervise/control: Not a directory"), "{table}");
    assert!(lines.iter().any(|l| l.starts_with("crashing") && l.contains("exit 3")), "{table}");
}

#[test]
fn status_shows_every_state_of_a_tree_run_by_s6_supervise() {
    let Some(s6) = require("s6-supervise") else { return };
    check_tree(&s6);
}

#[test]
fn status_shows_every_state_of_a_tree_run_by_rinit_supervise() {
    check_tree(&bin("rinit-supervise"));
}

#[test]
fn status_refuses_bad_usage_and_a_missing_scan_directory() {
    let sb = Sandbox::new();
    let o = status_of(&sb, &["-x"]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "rinit-status: usage: rinit-status [ -l live ] [ -j ] [ scandir ]\n");
    let o = status_of(&sb, &["nowhere"]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "rinit-status: fatal: unable to open the scan directory nowhere: No such file or directory\n"
    );
    let o = status_of(&sb, &["-l", "nolive", "."]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "rinit-status: fatal: unable to read nolive/compiled/db: No such file or directory\n"
    );
}

/// Under rinit-scan in fresh namespaces: compiles `src`, runs
/// rinit-rc-init and `rinit-rc change NAME`, then `rinit-status -j -l live`;
/// its output, once it exited 0. None (skipped) without rinit-scan.
fn live_status(sb: &Sandbox, src: &Path, name: &str) -> Option<String> {
    live_run(sb, src, name, "rinit-status -j -l live scan")
}

/// As `live_status`, with the shell command `show` in place of
/// rinit-status: the output of the whole script, once it exited 0.
fn live_run(sb: &Sandbox, src: &Path, name: &str, show: &str) -> Option<String> {
    let scanner = bin_dir().join("rinit-scan").exists().then(|| bin("rinit-scan"))?;
    let script = format!(
        "exec 2>&1\ncd {dir}\nmkdir -p scan\n{scanner} scan >scan.log 2>&1 &\n\
         i=0; while [ ! -p scan/.s6-svscan/control ]; do sleep 0.01; i=$((i+1)); [ $i -gt 2000 ] && exit 90; done\n\
         rinit-rc-compile comp {src} || exit 91\n\
         rinit-rc-init -c comp -l live scan || exit 92\n\
         rinit-rc -l live change {name} >rc.log 2>&1 || exit 93\n\
         {show}; echo status=$?\n",
        dir = sb.dir.display(),
        scanner = scanner.display(),
        src = src.display(),
        show = show
    );
    let o = Command::new("timeout")
        .args(["60", "unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "/bin/sh", "-c"])
        .arg(script)
        .env("PATH", test_path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    match out.strip_suffix("status=0\n") {
        Some(body) => Some(body.to_string()),
        None => panic!("{out}"),
    }
}

#[test]
fn status_with_a_live_state_shows_types_and_what_rinit_rc_counts_up() {
    let sb = Sandbox::new();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc");
    let Some(out) = live_status(&sb, &demo, "demo-oneshot-1") else { return };
    let r = rows(&out);
    let one = &r["demo-oneshot-1"];
    assert_eq!((&one["type"], &one["rc"], &one["state"]), (&s("oneshot"), &s("up"), &s("-")));
    let lr = &r["demo-longrun-1"];
    assert_eq!((&lr["type"], &lr["rc"], &lr["state"]), (&s("longrun"), &s("down"), &s("down")));
    assert_eq!((&r["default"]["type"], &r["default"]["rc"]), (&s("bundle"), &s("down")));
}

#[test]
fn status_puts_a_wired_consumer_under_its_producer_with_rinit_rcs_view() {
    let sb = Sandbox::new();
    for (name, extra) in [("prod", "producer-for"), ("cons", "consumer-for")] {
        sb.write(&format!("src/{name}/type"), "longrun\n");
        sb.script(&format!("src/{name}/run"), "exec sleep 1000");
        sb.write(&format!("src/{name}/{extra}"), if name == "prod" { "cons\n" } else { "prod\n" });
    }
    let Some(out) = live_status(&sb, &sb.path("src"), "prod") else { return };
    let names: Vec<&str> = out.lines().map(|l| l.split('"').nth(3).unwrap()).collect();
    // The oneshot runner is a service of the tree too (of no database).
    assert_eq!(names, ["prod", "prod/log", "rinit-oneshot-runner"], "the consumer is prod's logger, not a row of its own: {out}");
    let r = rows(&out);
    for n in ["prod", "prod/log"] {
        assert_eq!((&r[n]["type"], &r[n]["rc"], &r[n]["state"]), (&s("longrun"), &s("up"), &s("up")), "{out}");
    }
}

#[test]
fn status_with_a_live_state_is_the_table_of_rinit_rc_db_beside_it() {
    let sb = Sandbox::new();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc");
    let show = "rinit-status -l live scan | head -n 1; rinit-rc-db status -l live scan | head -n 1";
    let Some(out) = live_run(&sb, &demo, "demo-oneshot-1", show) else { return };
    let headers: Vec<&str> = out.lines().collect();
    assert_eq!(headers.len(), 2, "{out}");
    let words: Vec<&str> = headers[0].split_whitespace().collect();
    assert_eq!(words[..10], ["NAME", "STATE", "PID", "FOR", "READY", "RESTARTS", "LAST", "WANT", "TYPE", "RC"], "{out}");
    // The words, not the spacing: a column is as wide as its widest value,
    // and the FOR column's values grow between the two runs.
    let words1: Vec<&str> = headers[1].split_whitespace().collect();
    assert_eq!(words, words1, "rinit-status's table is rinit-rc-db status's: {out}");

    // Alone in its directory, it names the program it would have run.
    let lone = sb.mkdir("lone");
    std::fs::copy(bin("rinit-status"), lone.join("rinit-status")).unwrap();
    let o = status_of_bin(&sb, &lone.join("rinit-status"), &["-l", "nolive", "."]);
    assert_eq!(o.status.code(), Some(111));
    let dir = lone.canonicalize().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("rinit-status: fatal: unable to run {}/rinit-rc-db: No such file or directory\n", dir.display())
    );
    // Without a live state it needs none.
    let o = status_of_bin(&sb, &lone.join("rinit-status"), &["."]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
