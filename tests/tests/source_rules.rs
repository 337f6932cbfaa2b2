//! Rules of the sources that the compiler does not check.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A result thrown away with `let _ =` says why it may fail silently: in
/// a comment on its line, or above it (a comment may cover a run of such
/// lines, and may sit above the block's `// SAFETY:` lines).
#[test]
fn every_ignored_result_says_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for crate_dir in ["base", "supervise", "log", "rc", "init", "linker", "size-report"] {
        rust_files(&root.join(crate_dir).join("src"), &mut files);
    }
    let mut bare = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some((_, rest)) = l.split_once("let _ =") else { continue };
            if rest.contains("//") {
                continue;
            }
            let above = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| !l.contains("let _ =") && !l.starts_with("// SAFETY"));
            if !above.is_some_and(|l| l.starts_with("//")) {
                bare.push(format!("{}:{}: {}", f.strip_prefix(&root).unwrap().display(), i + 1, l.trim()));
            }
        }
    }
    assert!(bare.is_empty(), "results ignored without a word on why:\n{}", bare.join("\n"));
}

/// Each crate uses every dependency its manifest declares (a name in
/// `[dependencies]` appears as `name::` in its sources).
#[test]
fn every_declared_dependency_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut unused = Vec::new();
    for crate_dir in ["base", "supervise", "log", "rc", "init", "linker", "size-report", "tests"] {
        let manifest = fs::read_to_string(root.join(crate_dir).join("Cargo.toml")).unwrap();
        let Some((_, deps)) = manifest.split_once("[dependencies]") else { continue };
        let deps = deps.split("\n[").next().unwrap_or("");
        let mut files = Vec::new();
        rust_files(&root.join(crate_dir), &mut files);
        let text: String = files.iter().map(|f| fs::read_to_string(f).unwrap()).collect();
        for line in deps.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let name = line.split(['=', '.', ' ']).next().unwrap().replace('-', "_");
            if !text.contains(&format!("{name}::")) {
                unused.push(format!("{crate_dir}: {name}"));
            }
        }
    }
    assert!(unused.is_empty(), "declared and unused:\n{}", unused.join("\n"));
}
