//! The s6 a benchmark measures rinit against, one choice for every benchmark.
//!
//! `S6_PEER_DIR` names the directory holding the peer's programs (s6, s6-rc,
//! execline). Without it: the static musl build of the s6 suite when a
//! `shared/peers/s6-static-musl/bin` sits beside the checkout (the strongest
//! form of s6), else Debian's packages in /usr/bin. A fresh clone elsewhere
//! only ever sees the last; the benchmarks are not tests and need none of it.

#![allow(dead_code)] // each benchmark uses the part it needs

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the static musl set lives, relative to a directory above the checkout.
const STATIC_SET: &str = "shared/peers/s6-static-musl/bin";

pub struct Peer {
    pub dir: PathBuf,
    /// "s6 2.15.1.0, s6-rc 0.7.0.0, execline 2.9.9.2", as far as known.
    pub versions: String,
    /// Whether this is Debian's (dynamically linked) s6.
    pub debian: bool,
}

/// The checkout's top directory.
fn repo() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    fs::canonicalize(&repo).unwrap_or(repo)
}

/// `p` as a reader of a table can follow it: relative to the checkout when
/// it is inside it or beside it, so the figures do not name the machine's
/// own directories.
pub fn shown(p: &Path) -> String {
    let repo = repo();
    let p = fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if let Ok(r) = p.strip_prefix(&repo) {
        return r.display().to_string();
    }
    match repo.parent().map(|up| p.strip_prefix(up)) {
        Some(Ok(r)) => format!("../{}", r.display()),
        _ => p.display().to_string(),
    }
}

pub fn peer() -> Peer {
    let repo = repo();
    let dir = match std::env::var_os("S6_PEER_DIR") {
        Some(d) => PathBuf::from(d),
        None => repo.ancestors().skip(1).map(|a| a.join(STATIC_SET)).find(|d| d.is_dir()).unwrap_or_else(|| "/usr/bin".into()),
    };
    let debian = dir == Path::new("/usr/bin");
    let versions = if debian { dpkg_versions() } else { readme_versions(&dir) };
    Peer { dir, versions, debian }
}

impl Peer {
    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `PATH` with the peer's programs first: the static set finds its
    /// helpers (execline, s6-svc...) through `PATH`, not by absolute paths.
    pub fn path_env(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.display())
    }

    /// The line each benchmark prints first: which s6 it measured.
    pub fn header(&self) -> String {
        let kind = if self.debian { "Debian's packages" } else { "S6_PEER_DIR or the static musl set" };
        let v = if self.versions.is_empty() { "version unknown".to_string() } else { self.versions.clone() };
        format!("peer: s6 from {} ({kind}; {v})", shown(&self.dir))
    }

    /// s6-svscan's option for its capacity: s6 before 2.12 spells it -c, later -C.
    pub fn scan_capacity_flag(&self) -> &'static str {
        let v = self.s6_version();
        if v.starts_with("s6 2.10") || v.starts_with("s6 2.11") { "-c" } else { "-C" }
    }

    /// s6's own version alone, for a column heading ("s6 2.15.1.0").
    pub fn s6_version(&self) -> String {
        self.versions.split(", ").find(|v| v.starts_with("s6 ")).unwrap_or("s6").to_string()
    }
}

fn dpkg_versions() -> String {
    let mut v = Vec::new();
    for p in ["s6", "s6-rc", "execline"] {
        let out = Command::new("dpkg-query").args(["-W", "-f=${Version}", p]).output();
        if let Ok(o) = out
            && o.status.success()
            && !o.stdout.is_empty()
        {
            v.push(format!("{p} {}", String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
    v.join(", ")
}

/// The set's README beside `bin/` lists its packages as `| name | version |`.
fn readme_versions(dir: &Path) -> String {
    let Some(text) = dir.parent().and_then(|p| fs::read_to_string(p.join("README.md")).ok()) else {
        return String::new();
    };
    let mut v = Vec::new();
    for p in ["s6", "s6-rc", "execline"] {
        let row = text.lines().find_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // "2.15.1.0 (development head after v2.15.0.0)": the number alone.
            (cells.len() > 2 && cells[1] == p).then(|| cells[2].split_whitespace().next().unwrap_or("").to_string())
        });
        if let Some(ver) = row {
            v.push(format!("{p} {ver}"));
        }
    }
    v.join(", ")
}
