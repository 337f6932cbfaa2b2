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
