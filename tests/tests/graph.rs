//! `rinit-rc-db graph`: the DOT picture of a compiled database, checked
//! with Debian's Graphviz (`dot -Tsvg` must accept it) on the demo, on a
//! tree with pipelines, bundles and an essential service, and on 1000
//! services; the same source gives the same bytes.

use rinit_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
}

fn longrun(src: &Path, name: &str) {
    write(src, &format!("{name}/type"), "longrun\n");
    write(src, &format!("{name}/run"), "#!/bin/sh\nexec sleep 1000\n");
    fs::set_permissions(src.join(name).join("run"), fs::Permissions::from_mode(0o755)).unwrap();
}

fn oneshot(src: &Path, name: &str, deps: &[&str]) {
    write(src, &format!("{name}/type"), "oneshot\n");
    write(src, &format!("{name}/up"), "true\n");
    if !deps.is_empty() {
        write(src, &format!("{name}/dependencies"), &(deps.join("\n") + "\n"));
    }
}

fn compile(sb: &Sandbox, out: &str, src: &Path) {
    let o = sb.run(args![bin("rinit-rc-compile"), sb.path(out), src]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn graph(sb: &Sandbox, compiled: &str, names: &[&str]) -> Output {
    let b = bin("rinit-rc-db");
    let c = sb.path(compiled);
    let mut v: Vec<&std::ffi::OsStr> = vec![b.as_os_str(), "-c".as_ref(), c.as_os_str(), "graph".as_ref()];
    v.extend(names.iter().map(std::ffi::OsStr::new));
    sb.run(&v)
}

/// The DOT text, after Graphviz's `dot -Tsvg` accepted it.
fn drawn(sb: &Sandbox, compiled: &str, names: &[&str]) -> Option<String> {
    let dot = require("dot")?;
    let o = graph(sb, compiled, names);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let path = sb.path(&format!("{compiled}.dot"));
    fs::write(&path, &text).unwrap();
    let svg = Command::new(dot).args(["-Tsvg", "-o"]).arg(sb.path(&format!("{compiled}.svg"))).arg(&path).stdin(Stdio::null()).output().unwrap();
    assert!(svg.status.success() && svg.stderr.is_empty(), "dot refused it: {}\n{text}", String::from_utf8_lossy(&svg.stderr));
    assert!(fs::read_to_string(sb.path(&format!("{compiled}.svg"))).unwrap().contains("<svg"));
    Some(text)
}

#[test]
fn graph_of_the_demo_is_drawn_by_graphviz() {
    let sb = Sandbox::new();
    compile(&sb, "comp", &Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/rc"));
    let Some(text) = drawn(&sb, "comp", &[]) else { return };
    assert!(text.starts_with("digraph \"rinit-rc\" {\n") && text.ends_with("}\n"), "{text}");
    assert!(text.contains("\"demo-longrun-1\" -> \"demo-oneshot-1\";"), "{text}");
    assert!(text.contains("\"default\" -> \"demo-longrun-1\" [style=dashed"), "{text}");
    assert!(text.contains("\"default\" [shape=folder"), "{text}");
    assert!(text.contains("\"demo-oneshot-1\" [style=filled"), "{text}");
    assert!(text.contains("\"demo-longrun-1\" [style=\"rounded,filled\""), "{text}");
}

#[test]
fn graph_shows_pipelines_bundles_essentials_and_closures() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    longrun(&src, "prod-a");
    longrun(&src, "prod-b");
    longrun(&src, "filter");
    longrun(&src, "sink");
    write(&src, "prod-a/producer-for", "filter\n");
    write(&src, "prod-b/producer-for", "filter\n");
    write(&src, "filter/consumer-for", "prod-a\nprod-b\n");
    write(&src, "filter/producer-for", "sink\n");
    write(&src, "sink/consumer-for", "filter\n");
    write(&src, "sink/pipeline-name", "logs\n");
    oneshot(&src, "mount", &[]);
    write(&src, "mount/flag-essential", "");
    oneshot(&src, "net", &["mount"]);
    write(&src, "web/type", "bundle\n");
    write(&src, "web/contents", "net\nprod-a\n");
    oneshot(&src, "lonely", &[]);
    compile(&sb, "comp", &src);
    let Some(text) = drawn(&sb, "comp", &[]) else { return };
    assert!(text.contains("\"prod-a\" -> \"filter\" [color=\"#2e7d32\""), "{text}");
    assert!(text.contains("\"filter\" -> \"sink\" [color=\"#2e7d32\""), "{text}");
    assert!(text.contains("subgraph \"cluster_logs\" {\n    label=\"logs\";"), "{text}");
    for member in ["sink", "filter", "prod-a", "prod-b"] {
        let cluster = &text[text.find("subgraph").unwrap()..];
        assert!(cluster.contains(&format!("    \"{member}\";\n")), "{member} not in the pipeline box: {text}");
    }
    assert!(text.contains("\"mount\" [style=filled, fillcolor=\"#fff0c2\", peripheries=2"), "{text}");
    assert!(text.contains("\"web\" -> \"net\" [style=dashed"), "{text}");
    assert!(text.contains("\"net\" -> \"mount\";"), "{text}");
    assert!(!text.contains("\"filter\" -> \"sink\";"), "a pipe is one arrow: {text}");

    // The closure of a name: it and what it needs (a producer needs its
    // consumers), nothing else.
    let text = drawn(&sb, "comp", &["web"]).unwrap();
    for n in ["web", "net", "mount", "prod-a", "filter", "sink"] {
        assert!(text.contains(&format!("  \"{n}\" [")), "{n} missing: {text}");
    }
    assert!(!text.contains("\"lonely\"") && !text.contains("\"prod-b\""), "{text}");
    let o = graph(&sb, "comp", &["nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "rinit-rc-db: fatal: unknown service name nosuch\n");
}

#[test]
fn graph_of_1000_services_is_drawn_and_reproducible() {
    let sb = Sandbox::new();
    let src = sb.path("src");
    // Each service needs up to three earlier ones; every tenth is a bundle.
    for i in 0..1000usize {
        let name = format!("s{i:04}");
        let deps: Vec<String> = (1..=3).filter(|k| i >= k * 7).map(|k| format!("s{:04}", (i - k * 7) / 10 * 10 + 1)).collect();
        let deps: Vec<&str> = deps.iter().map(|s| s.as_str()).collect();
        if i % 10 == 0 && i > 0 {
            write(&src, &format!("{name}/type"), "bundle\n");
            write(&src, &format!("{name}/contents"), &format!("s{:04}\n", i - 9));
        } else if i % 3 == 0 {
            longrun(&src, &name);
            if !deps.is_empty() {
                write(&src, &format!("{name}/dependencies"), &(deps.join("\n") + "\n"));
            }
        } else {
            oneshot(&src, &name, &deps);
        }
    }
    compile(&sb, "one", &src);
    compile(&sb, "two", &src);
    let Some(a) = drawn(&sb, "one", &[]) else { return };
    let b = drawn(&sb, "two", &[]).unwrap();
    assert_eq!(a, b, "two compiles of the same source draw the same bytes");
    let nodes = a.lines().filter(|l| l.starts_with("  \"") && !l.contains(" -> ")).count();
    assert_eq!(nodes, 1000, "a node line per service");
}
