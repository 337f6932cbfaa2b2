//! `rinit-rc timeline`: after a boot of the demo with rinit as pid 1 of
//! fresh namespaces, after a change of a larger tree, and after a boot of
//! a real kernel under qemu, the SVG is well formed (xmllint), renders
//! (rsvg-convert), and every bar starts after the bars of the services it
//! depends on end; the text form says the same.

use rinit_tests::*;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One service's transition as the text form gives it (ms since time 0).
#[derive(Debug)]
struct Bar {
    start: f64,
    end: f64,
    waited: Option<String>,
    failed: bool,
    up_at: Option<f64>,
}

fn number(s: &str) -> f64 {
    s.trim().trim_start_matches('+').trim_end_matches(" ms").parse().unwrap_or_else(|_| panic!("not a time: {s:?}"))
}

/// Parses `NAME  +A ms  →  +B ms  (D ms[, up at +U ms][, failed][, waited for W])`.
fn text_bars(text: &str) -> BTreeMap<String, Bar> {
    let mut m = BTreeMap::new();
    for l in text.lines().filter(|l| l.contains(" \u{2192} ")) {
        let (name, rest) = l.split_once("  +").unwrap_or_else(|| panic!("bad line {l:?}"));
        let (start, rest) = rest.split_once("  \u{2192}  ").unwrap();
        let (end, paren) = rest.split_once("  (").unwrap();
        let paren = paren.strip_suffix(')').unwrap();
        let parts: Vec<&str> = paren.split(", ").collect();
        let bar = Bar {
            start: number(start),
            end: number(end),
            waited: parts.iter().find_map(|p| p.strip_prefix("waited for ")).map(String::from),
            failed: parts.contains(&"failed"),
            up_at: parts.iter().find_map(|p| p.strip_prefix("up at ")).map(number),
        };
        assert!(bar.end >= bar.start, "{l}");
        m.insert(name.trim().to_string(), bar);
    }
    m
}

/// The bars of the SVG: name, its title's times, and the x where its bar
/// starts and ends.
fn svg_bars(svg: &str) -> BTreeMap<String, (f64, f64, u64, u64)> {
    let attr = |s: &str, a: &str| -> u64 {
        let k = format!(" {a}=\"");
        let i = s.find(&k).unwrap() + k.len();
        s[i..s[i..].find('"').unwrap() + i].parse().unwrap()
    };
    let mut m = BTreeMap::new();
    for g in svg.split("<g><title>").skip(1) {
        let g = &g[..g.find("</g>").unwrap()];
        let (title, rest) = g.split_once("</title>").unwrap();
        let (name, times) = title.rsplit_once(": ").unwrap();
        let (a, b) = times.split_once(" \u{2192} ").unwrap();
        let rects: Vec<&str> = rest.split("<rect").skip(1).collect();
        assert!(!rects.is_empty(), "no bar for {name}");
        let x0 = attr(rects[0], "x");
        let last = rects[rects.len() - 1];
        m.insert(name.to_string(), (number(a), number(b), x0, attr(last, "x") + attr(last, "width")));
    }
    m
}

/// xmllint finds the SVG well formed and rsvg-convert renders it to a PNG.
fn check_svg(svg_path: &Path) -> Option<()> {
    let xmllint = require("xmllint")?;
    let rsvg = require("rsvg-convert")?;
    let o = Command::new(xmllint).arg("--noout").arg(svg_path).output().unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "xmllint: {}", String::from_utf8_lossy(&o.stderr));
    let png = svg_path.with_extension("png");
    let o = Command::new(rsvg).arg("-o").arg(&png).arg(svg_path).output().unwrap();
    assert!(o.status.success(), "rsvg-convert: {}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::read(&png).unwrap().starts_with(b"\x89PNG"), "not a PNG");
    Some(())
}

/// Every service's bar starts once each of its dependencies' ended: in
/// the text (ms) and in the picture (px, one pixel of rounding).
fn check_order(compiled: &Path, text: &str, svg: &str) {
    let bars = text_bars(text);
    let drawn = svg_bars(svg);
    assert!(!bars.is_empty(), "no bars in {text}");
    assert_eq!(bars.keys().collect::<Vec<_>>(), drawn.keys().collect::<Vec<_>>(), "the picture draws what the text lists");
    for (name, bar) in &bars {
        let o = Command::new(bin("rinit-rc-db")).arg("-c").arg(compiled).args(["dependencies", name]).output().unwrap();
        assert!(o.status.success());
        let (_, _, x0, _) = drawn[name];
        assert_eq!((drawn[name].0, drawn[name].1), (bar.start, bar.end), "{name}: title and text agree");
        for dep in String::from_utf8_lossy(&o.stdout).lines() {
            let Some(d) = bars.get(dep) else { continue };
            assert!(bar.start >= d.end, "{name} starts at {} before {dep} ends at {}:\n{text}", bar.start, d.end);
            assert!(x0 + 1 >= drawn[dep].3, "{name}'s bar starts left of {dep}'s end:\n{svg}");
        }
        if let Some(w) = &bar.waited {
            assert!(bars.contains_key(w), "{name} waited for {w}, which has no bar");
        }
    }
}

#[test]
fn timeline_of_the_demo_booted_in_a_namespace_is_drawn_in_order_from_stage_1() {
    let mut sb = Sandbox::new();
    let compiled = sb.path("compiled");
    let o = sb.run(args![bin("rinit-rc-compile"), compiled, repo().join("demo/rc")]);
    assert!(o.status.success());
    let base = sb.path("base");
    let o = sb.run(args![bin("rinit-maker"), "-c", base, "-b", bin_dir(), "-r", compiled, "-C", base]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = sb.dir.display().to_string();
    let main = format!(
        "rinit-rc timeline > {dir}/t.svg && rinit-rc timeline -t > {dir}/t.txt && echo pictures-done"
    );
    let mut p = sb.spawn_pid1(args![bin("rinit"), "-c", base, "--", "/bin/sh", "-c", main]);
    let st = p.wait_timeout(Duration::from_secs(20)).expect("rinit to end with its main program");
    let out = p.output();
    assert_eq!(st.code(), Some(0), "{out}");
    assert!(out.contains("pictures-done"), "{out}");
    assert!(out.contains("rinit: info: boot is up in "), "rc.init sums the boot up: {out}");
    let text = sb.read("t.txt");
    let svg = sb.read("t.svg");
    assert!(text.contains("time 0: stage 1's start"), "{text}");
    assert!(text.contains("demo-longrun-1") && text.contains("waited for demo-oneshot-1"), "{text}");
    assert!(svg.contains(">boot is up in "), "{svg}");
    check_order(&compiled, &text, &svg);
    check_svg(&sb.path("t.svg"));
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
}

fn oneshot(src: &Path, name: &str, up: &str, deps: &[&str]) {
    write(src, &format!("{name}/type"), "oneshot\n");
    write(src, &format!("{name}/up"), &format!("{up}\n"));
    if !deps.is_empty() {
        write(src, &format!("{name}/dependencies"), &(deps.join("\n") + "\n"));
    }
}

/// Compiles `src/`, starts rinit-scan on `scan/`, runs rinit-rc-init and
/// then `body`, in fresh namespaces; stdout and stderr together.
fn in_namespace(sb: &Sandbox, body: &str) -> Output {
    let script = format!(
        "exec 2>&1\ncd {dir}\nmkdir -p scan\nrinit-scan scan >scan.log 2>&1 &\n\
         i=0; while [ ! -p scan/.s6-svscan/control ]; do sleep 0.01; i=$((i+1)); [ $i -gt 2000 ] && exit 90; done\n\
         rinit-rc-compile comp src || exit 91\n\
         rinit-rc-init -c comp -l live scan || exit 92\n{body}\n",
        dir = sb.dir.display()
    );
    Command::new("timeout")
        .args(["60", "unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child=SIGKILL", "/bin/sh", "-c"])
        .arg(script)
        .env("PATH", test_path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn timeline_orders_a_diamond_shows_readiness_and_failures_and_refuses_what_it_cannot_read() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    oneshot(&src, "a", "sleep 0.1", &[]);
    oneshot(&src, "b", "sleep 0.05", &["a"]);
    oneshot(&src, "c", "true", &["a"]);
    oneshot(&src, "d", "true", &["b", "c"]);
    oneshot(&src, "broken", "false", &["a"]);
    write(&src, "slowready/type", "longrun\n");
    write(&src, "slowready/run", "#!/bin/sh\nsleep 0.2\necho >&3\nexec sleep 1000\n");
    fs::set_permissions(src.join("slowready/run"), fs::Permissions::from_mode(0o755)).unwrap();
    write(&src, "slowready/notification-fd", "3\n");
    write(&src, "slowready/dependencies", "d\n");
    let o = in_namespace(
        &sb,
        "rinit-rc -l live timeline; echo before=$?\n\
         rinit-rc -l live change slowready broken > rc.log 2>&1; echo change=$?\n\
         rinit-rc -l live timeline > t.svg; rinit-rc -l live timeline -t > t.txt; rinit-rc -l live timeline -s\n\
         head -c 20 live/timeline > live/timeline.cut && mv live/timeline.cut live/timeline\n\
         rinit-rc -l live timeline -t; echo cut=$?\n\
         rinit-rc -l live timeline -x; echo usage=$?",
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains(
        "rinit-rc: fatal: no timeline in live: no change recorded one yet (a live state made before timelines were recorded has none)\nbefore=111\n"
    ), "{out}");
    assert!(out.contains("change=1\n"), "broken fails: {out}");
    assert!(out.contains("up in ") && out.contains(", 1 failed\n"), "{out}");
    assert!(out.contains(
        "rinit-rc: fatal: unable to read live/timeline: not a timeline of this database (run a change to record a new one)\ncut=111\n"
    ), "{out}");
    assert!(out.contains("usage=100"), "{out}");
    let text = sb.read("t.txt");
    let svg = sb.read("t.svg");
    assert!(text.contains("time 0: the first start"), "{text}");
    let bars = text_bars(&text);
    assert!(bars["broken"].failed, "{text}");
    assert!(svg.contains("fill=\"#d9453a\""), "a failure is drawn in its colour");
    assert_eq!(bars["d"].waited.as_deref(), Some("b"), "d waited for b, the slower of its two: {text}");
    let sr = &bars["slowready"];
    let up_at = sr.up_at.expect("a longrun that notifies readiness shows when it was up");
    assert!(sr.end - up_at >= 150.0, "readiness came 0.2 s after the start: {text}");
    assert!(svg.contains("opacity=\"0.4\""), "the wait for readiness is drawn lighter");
    check_order(&sb.path("comp"), &text, &svg);
    check_svg(&sb.path("t.svg"));
}

#[test]
fn a_long_change_names_what_it_still_waits_for_every_5_seconds() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    oneshot(&src, "quick", "true", &[]);
    oneshot(&src, "slow", "sleep 6", &["quick"]);
    let o = in_namespace(&sb, "rinit-rc -l live change slow; echo change=$?");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("rinit-rc: info: still waiting for services to start: slow (5 s)\n"), "{out}");
    assert!(out.ends_with("change=0\n"), "{out}");
}

#[test]
fn timeline_of_a_real_qemu_boot_is_kept_by_boot_qemu_and_drawn_in_order() {
    if require("qemu-system-x86_64").is_none() || require("busybox").is_none() || require("cpio").is_none() {
        return;
    }
    let sb = Sandbox::new();
    let out_dir = sb.mkdir("qemu");
    let st = Command::new(repo().join("scripts/boot-qemu"))
        .args(["-p", "-t", "120", "-o"])
        .arg(&out_dir)
        .env("RINIT_BIN_DIR", bin_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("scripts/boot-qemu");
    let console = fs::read_to_string(out_dir.join("console.log")).unwrap_or_default();
    assert!(st.success(), "{console}");
    assert!(console.contains("rinit: info: boot is up in "), "{console}");
    let svg = fs::read_to_string(out_dir.join("timeline.svg")).unwrap();
    assert!(svg.contains(">boot is up in ") && svg.contains("time 0: stage 1's start"), "{svg}");
    check_svg(&out_dir.join("timeline.svg"));
    // The text form is the picture's titles; the order holds in them.
    let bars = svg_bars(&svg);
    assert!(bars.contains_key("demo-oneshot-1") && bars.contains_key("demo-longrun-1"), "{svg}");
    assert!(bars["demo-longrun-1"].0 >= bars["demo-oneshot-1"].1, "{svg}");
    assert!(bars["demo-longrun-1"].2 + 1 >= bars["demo-oneshot-1"].3, "{svg}");
    if require("dot").is_some() {
        let graph = fs::read_to_string(out_dir.join("graph.svg")).unwrap();
        assert!(graph.contains("<svg") && graph.contains("getty"), "{graph}");
    }
}
