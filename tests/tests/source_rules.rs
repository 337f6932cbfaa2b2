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

/// The files allowed `unsafe`: base's syscall layer (its unsafe floor) and
/// the start-up code of `linker/`. Each says so at its top with
/// `#![allow(unsafe_code)]` (the workspace denies it everywhere else).
const UNSAFE_FILES: &[&str] = &[
    "base/src/sys/raw.rs",
    "base/src/sys/calls.rs",
    "base/src/sys/clone.rs",
    "base/src/sys/mem.rs",
    "base/src/sys/start.rs",
    "base/src/sys/region.rs",
    "linker/src/lib.rs",
    "linker/src/arch.rs",
    "linker/src/mem.rs",
];

/// The code of a line: without its string literals and its `//` comment.
fn code_of(line: &str) -> String {
    let (mut code, mut in_str, mut escaped) = (String::new(), false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_str, c) {
            (true, '\\') if !escaped => escaped = true,
            (true, '"') if !escaped => in_str = false,
            (true, _) => escaped = false,
            (false, '"') => in_str = true,
            (false, '/') if chars.peek() == Some(&'/') => break,
            (false, c) => code.push(c),
        }
    }
    code
}

/// `unsafe` appears only in the files of UNSAFE_FILES, those opt in to it
/// visibly, and every `unsafe` block or impl has a `// SAFETY:` comment on
/// its line or above the statement it is part of.
#[test]
fn unsafe_code_stays_in_the_syscall_layer_and_says_why_it_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for crate_dir in ["base", "supervise", "log", "rc", "init", "linker", "size-report", "tests"] {
        rust_files(&root.join(crate_dir), &mut files);
    }
    let mut wrong = Vec::new();
    for f in &files {
        let name = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if name.contains("/target/") {
            continue;
        }
        let text = fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let allowed = UNSAFE_FILES.contains(&name.as_str());
        let opts_in = lines.iter().any(|l| l.trim() == "#![allow(unsafe_code)]");
        if allowed && !opts_in && !name.starts_with("linker/src/") {
            wrong.push(format!("{name}: allowed unsafe but does not say `#![allow(unsafe_code)]` at its top"));
        }
        if !allowed && opts_in {
            wrong.push(format!("{name}: opts in to unsafe code outside the syscall layer"));
        }
        for (i, l) in lines.iter().enumerate() {
            let code = code_of(l);
            let words = code.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            if !words.clone().any(|w| w == "unsafe") {
                continue;
            }
            let at = format!("{name}:{}: {}", i + 1, l.trim());
            if !allowed {
                wrong.push(format!("{at}: unsafe outside the syscall layer"));
                continue;
            }
            let block = code.contains("unsafe {") || code.trim_end().ends_with("unsafe") || code.contains("unsafe impl");
            if block && !l.contains("SAFETY:") && !safety_comment_above(&lines[..i]) {
                wrong.push(format!("{at}: unsafe without a `// SAFETY:` line"));
            }
        }
    }
    assert!(wrong.is_empty(), "the safety boundary:\n{}", wrong.join("\n"));
}

/// Is there a `// SAFETY:` comment above the statement that ends `lines`
/// (over comment lines and the statement's earlier lines)?
fn safety_comment_above(lines: &[&str]) -> bool {
    for l in lines.iter().rev().map(|l| l.trim()) {
        if l.starts_with("//") {
            if l.contains("SAFETY:") {
                return true;
            }
            continue;
        }
        if l.is_empty() || l.ends_with(';') || l.ends_with('{') || l.ends_with('}') || l.starts_with("#[") {
            return false;
        }
    }
    false
}
