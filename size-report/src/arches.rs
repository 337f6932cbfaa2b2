//! The architectures rinit is built for (docs/architectures.md): each one's
//! Rust target, release directory and budget file, and the README's table
//! of every architecture's sizes, tests and boot.

use std::path::{Path, PathBuf};

/// Architecture name and Rust target; x86_64 is the host build.
pub const ARCHES: &[(&str, &str)] = &[
    ("x86_64", "x86_64-unknown-linux-gnu"),
    ("aarch64", "aarch64-unknown-linux-gnu"),
    ("armv7", "armv7-unknown-linux-gnueabihf"),
    ("riscv64", "riscv64gc-unknown-linux-gnu"),
    ("i686", "i686-unknown-linux-gnu"),
    ("mipsel", "mipsel-unknown-linux-gnu"),
    ("mips", "mips-unknown-linux-gnu"),
];

/// A cross build's architecture (what `scripts/build-arch` takes); None for the host's.
pub fn cross_arch(arch: &str) -> Option<&'static str> {
    ARCHES.iter().find(|(a, _)| *a == arch && *a != "x86_64").map(|(a, _)| *a)
}

pub fn known(arch: &str) -> bool {
    ARCHES.iter().any(|(a, _)| *a == arch)
}

/// The names of ARCHES, for a message.
pub fn names() -> String {
    ARCHES.iter().map(|(a, _)| *a).collect::<Vec<_>>().join(" ")
}

/// Where `cargo build --release [--target T]` leaves the architecture's
/// binaries, from the host's release directory.
pub fn release_dir(host_release: &Path, arch: &str) -> PathBuf {
    match ARCHES.iter().find(|(a, _)| *a == arch) {
        Some((a, t)) if *a != "x86_64" => host_release.join("..").join(t).join("release"),
        _ => host_release.to_path_buf(),
    }
}

/// budgets.txt for x86_64, budgets.ARCH.txt for the others.
pub fn budgets_file(arch: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if arch == "x86_64" { dir.join("budgets.txt") } else { dir.join(format!("budgets.{arch}.txt")) }
}

/// `scripts/test`'s record of one architecture's run: `tests P/T ...` and
/// `boot SECONDS` lines in `<target>/arch-results/ARCH`.
fn results(host_release: &Path, arch: &str) -> (String, String) {
    let text = std::fs::read_to_string(host_release.join("../arch-results").join(arch)).unwrap_or_default();
    let field = |k: &str| {
        text.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string()).unwrap_or_else(|| "-".into())
    };
    (field("tests "), field("boot "))
}

/// The markdown table: one row per program of `names`, one column per
/// architecture (file size in bytes), then the tests and the boot.
pub fn table(host_release: &Path, names: &[String]) -> String {
    let mut out = String::from("| program |");
    let mut rule = String::from("|---|");
    for (a, _) in ARCHES {
        out += &format!(" {a} |");
        rule += "---:|";
    }
    out += &format!("\n{rule}\n");
    let mut totals = vec![0u64; ARCHES.len()];
    // A `+` line of the budgets is a sum, not a program.
    for n in names.iter().filter(|n| !n.contains('+')) {
        out += &format!("| {n} |");
        for (i, (a, _)) in ARCHES.iter().enumerate() {
            match std::fs::metadata(release_dir(host_release, a).join(n)) {
                Ok(m) => {
                    totals[i] += m.len();
                    out += &format!(" {} |", m.len());
                }
                Err(_) => out += " - |",
            }
        }
        out += "\n";
    }
    out += "| **total** |";
    for t in &totals {
        out += &format!(" **{t}** |");
    }
    out += "\n| tests passed |";
    for (a, _) in ARCHES {
        out += &format!(" {} |", results(host_release, a).0);
    }
    out += "\n| boot to `default` (s of guest uptime) |";
    for (a, _) in ARCHES {
        out += &format!(" {} |", results(host_release, a).1);
    }
    out + "\n"
}

/// Replaces what lies between `<!-- NAME begin -->` and `<!-- NAME end -->` in `file`.
pub fn write_block(file: &Path, name: &str, body: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("unable to read {}: {e}", file.display()))?;
    let (begin, end) = (format!("<!-- {name} begin -->\n"), format!("<!-- {name} end -->"));
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        return Err(format!("{}: no {begin:?} ... {end:?} block", file.display()));
    };
    if e < b {
        return Err(format!("{}: the {name} block ends before it begins", file.display()));
    }
    let new = format!("{}{body}{}", &text[..b + begin.len()], &text[e..]);
    std::fs::write(file, new).map_err(|e| format!("unable to write {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_but_the_host_has_its_own_directory_and_budgets() {
        let host = Path::new("/t/release");
        assert_eq!(release_dir(host, "x86_64"), host);
        assert_eq!(release_dir(host, "armv7"), Path::new("/t/release/../armv7-unknown-linux-gnueabihf/release"));
        assert!(budgets_file("x86_64").ends_with("budgets.txt"));
        for (a, _) in &ARCHES[1..] {
            assert!(budgets_file(a).exists(), "{a} has no budget file");
        }
    }

    #[test]
    fn a_block_is_replaced_between_its_markers_only() {
        let f = std::env::temp_dir().join(format!("size-report-block-{}", std::process::id()));
        std::fs::write(&f, "a\n<!-- t begin -->\nold\n<!-- t end -->\nb\n").unwrap();
        write_block(&f, "t", "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "a\n<!-- t begin -->\nnew\n<!-- t end -->\nb\n");
        assert!(write_block(&f, "nope", "x").is_err());
        // A temporary file left behind fails nothing.
        let _ = std::fs::remove_file(&f);
    }
}
