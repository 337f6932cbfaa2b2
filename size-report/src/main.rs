//! size-report: builds rinit's release binaries (`cargo build --release`)
//! and prints each one's size against its budget in size-report/budgets.txt.
//!
//! Exit status: 1 when a binary is over its budget or is not static; a
//! budgeted binary that was not built (or a rinit-* binary without a budget)
//! is reported, and is an error only under `--strict` or CI=true; 2 when the
//! build or the budget file fails.
//!
//! A `+` row (the smallest container image's rinit part) is measured in
//! the lean build beside the release directory, `<target>/lean/release`
//! (scripts/build-lean, which the report runs unless `--no-build`).
//!
//! `--write-readme` rewrites the README's size block with the table;
//! `--check-readme` fails (exit 1) when that block is not the table.
//!
//! `--arch ARCH` measures another architecture's binaries against its own
//! budgets (size-report/budgets.ARCH.txt); `--write-arch-table` rewrites
//! the README's table of every architecture (docs/architectures.md).

mod arches;
mod budgets;
mod elf;
mod image;
mod readme;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: size-report [--no-build] [--strict] [--arch ARCH] [--dir RELEASE_DIR] [--budgets FILE] [--write-readme | --check-readme | --write-arch-table] [--readme FILE] [--update DOC]";

/// What to do with the README's size block.
#[derive(PartialEq, Eq)]
enum Readme {
    Leave,
    Write,
    Check,
}

struct Options {
    build: bool,
    strict: bool,
    dir: Option<PathBuf>,
    budgets: PathBuf,
    readme: Readme,
    readme_file: PathBuf,
    /// A document whose minimal-image block is rewritten (docs/embedding.md).
    update: Option<PathBuf>,
    /// Another architecture's binaries and budgets (docs/architectures.md).
    arch: Option<String>,
    /// Write the README's table of every architecture, and nothing else.
    arch_table: bool,
}

/// One line of the table.
struct Row {
    name: String,
    budget: Option<u64>,
    measured: Option<(u64, elf::Sizes)>,
}

impl Row {
    fn verdict(&self) -> Verdict {
        match (&self.measured, self.budget) {
            (None, _) => Verdict::Missing,
            (Some((_, s)), _) if !s.is_static => Verdict::NotStatic,
            (Some(_), None) => Verdict::NoBudget,
            (Some((bytes, _)), Some(b)) if *bytes > b => Verdict::Over,
            (Some(_), Some(_)) => Verdict::Ok,
        }
    }
}

#[derive(PartialEq, Eq)]
enum Verdict {
    Ok,
    Over,
    NotStatic,
    Missing,
    NoBudget,
}

impl Verdict {
    fn text(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Over => "OVER BUDGET",
            Verdict::NotStatic => "NOT STATIC",
            Verdict::Missing => "missing",
            Verdict::NoBudget => "no budget",
        }
    }
    /// Does this line fail the run? Missing or unbudgeted only when strict.
    fn fails(&self, strict: bool) -> bool {
        match self {
            Verdict::Ok => false,
            Verdict::Over | Verdict::NotStatic => true,
            Verdict::Missing | Verdict::NoBudget => strict,
        }
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("size-report: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if opts.build
        && let Err(e) = build(opts.arch.as_deref().and_then(arches::cross_arch))
    {
        eprintln!("size-report: fatal: {e}");
        return ExitCode::from(2);
    }
    let budgets = match budgets::read(&opts.budgets) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("size-report: fatal: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = match &opts.arch {
        Some(a) if opts.dir.is_none() => arches::release_dir(&release_dir(), a),
        _ => opts.dir.clone().unwrap_or_else(release_dir),
    };
    if opts.arch_table {
        let names: Vec<String> = budgets.iter().map(|(n, _)| n.clone()).collect();
        let table = arches::table(&release_dir(), &names);
        return match arches::write_block(&opts.readme_file, "architectures", &table) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("size-report: fatal: {e}");
                ExitCode::from(2)
            }
        };
    }

    let mut rows: Vec<Row> = budgets
        .iter()
        .map(|(name, budget)| Row { name: name.clone(), budget: Some(*budget), measured: None })
        .collect();
    for extra in unbudgeted(&dir, &budgets) {
        rows.push(Row { name: extra, budget: None, measured: None });
    }
    // Another architecture's `+` rows are its full build's (no lean set is
    // built for it).
    let lean = if opts.arch.is_none() { lean_dir(&dir) } else { dir.clone() };
    for row in &mut rows {
        let at = if row.name.contains('+') { &lean } else { &dir };
        match measure_row(at, &row.name) {
            Ok(m) => row.measured = m,
            Err(e) => {
                eprintln!("size-report: fatal: {}: {e}", at.join(&row.name).display());
                return ExitCode::from(2);
            }
        }
    }

    // The directory as the README shows it: relative to the workspace.
    let root = workspace_root();
    let shown = dir.strip_prefix(&root).unwrap_or(&dir);
    let mut table = table(&rows, shown);
    if opts.arch.is_none() {
        table += &format!("`+` rows: the lean build, {}\n", lean.strip_prefix(&root).unwrap_or(&lean).display());
    }
    print!("{table}");
    let mut failed = false;
    match readme_step(&opts, &table) {
        Ok(true) => {}
        Ok(false) => failed = true,
        Err(e) => {
            eprintln!("size-report: fatal: {e}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = minimal_image(&rows, opts.update.as_deref()) {
        eprintln!("size-report: fatal: {e}");
        return ExitCode::from(2);
    }
    for r in rows.iter().filter(|r| r.verdict().fails(opts.strict)) {
        eprintln!("size-report: {}: {}", r.name, r.verdict().text());
        failed = true;
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Writes or checks the README's block; Ok(false) when the check fails.
fn readme_step(opts: &Options, table: &str) -> Result<bool, String> {
    let p = &opts.readme_file;
    match opts.readme {
        Readme::Leave => Ok(true),
        Readme::Write => {
            let new = readme::replaced(&readme::read(p)?, table, &utc_now()?)?;
            std::fs::write(p, new).map_err(|e| format!("unable to write {}: {e}", p.display()))?;
            eprintln!("size-report: {} written", p.display());
            Ok(true)
        }
        Readme::Check => match readme::differs(&readme::read(p)?, table)? {
            None => Ok(true),
            Some(d) => {
                eprintln!(
                    "size-report: {}: the size block is not what this report prints (run size-report --write-readme):\n  {d}",
                    p.display()
                );
                Ok(false)
            }
        },
    }
}

/// `YYYY-MM-DD at HH:MM UTC`.
fn utc_now() -> Result<String, String> {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%d at %H:%M UTC"])
        .output()
        .map_err(|e| format!("unable to run date: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn parse_args() -> Result<Options, String> {
    let ci = std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false);
    let mut o = Options {
        build: true,
        strict: ci,
        dir: None,
        budgets: Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.txt"),
        readme: Readme::Leave,
        readme_file: workspace_root().join("README.md"),
        update: None,
        arch: None,
        arch_table: false,
    };
    let mut budgets_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--no-build" => o.build = false,
            "--strict" => o.strict = true,
            "--dir" => o.dir = Some(args.next().ok_or("--dir needs a directory")?.into()),
            "--budgets" => {
                o.budgets = args.next().ok_or("--budgets needs a file")?.into();
                budgets_given = true;
            }
            "--arch" => {
                let a = args.next().ok_or("--arch needs an architecture")?;
                if !arches::known(&a) {
                    return Err(format!("unknown architecture {a} ({})", arches::names()));
                }
                o.arch = Some(a);
            }
            "--write-arch-table" => o.arch_table = true,
            "--write-readme" => o.readme = Readme::Write,
            "--check-readme" => o.readme = Readme::Check,
            "--readme" => o.readme_file = args.next().ok_or("--readme needs a file")?.into(),
            "--update" => o.update = Some(args.next().ok_or("--update needs a file")?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    if let Some(a) = &o.arch {
        if o.readme != Readme::Leave {
            return Err("the README's size block is x86_64's: no --arch with --write-readme or --check-readme".into());
        }
        if !budgets_given {
            o.budgets = arches::budgets_file(a);
        }
    }
    Ok(o)
}

/// Prints the minimal image's total (when its programs are all built) and,
/// with `--update DOC`, writes it into DOC's marked block.
fn minimal_image(rows: &[Row], update: Option<&Path>) -> Result<(), String> {
    let programs = image::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("minimal-image.txt"))?;
    let size = |p: &str| rows.iter().find(|r| r.name == p).and_then(|r| r.measured.as_ref()).map(|m| m.0);
    let table = match image::table(&programs, size) {
        Ok(t) => t,
        Err(e) if update.is_none() => {
            println!("minimal image: {e}");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    println!("minimal image (size-report/minimal-image.txt):\n{table}");
    let Some(doc) = update else { return Ok(()) };
    let text = readme::read(doc)?;
    let when = utc_now()?;
    let block = format!("As measured on {when} by `cargo run -p size-report -- --update {}`:\n\n```\n{table}```\n", doc.display());
    let new = image::replace_block(&text, &block).map_err(|e| format!("{}: {e}", doc.display()))?;
    std::fs::write(doc, new).map_err(|e| format!("unable to write {}: {e}", doc.display()))
}

/// Builds the workspace's release binaries, as the README says to.
fn build(arch: Option<&str>) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Another architecture builds the way scripts/build-arch says (nightly for MIPS).
    if let Some(a) = arch {
        let st = Command::new(root.join("scripts/build-arch"))
            .arg(a)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("unable to run scripts/build-arch: {e}"))?;
        return if st.success() { Ok(()) } else { Err(format!("scripts/build-arch {a} failed: {st}")) };
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--release"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("unable to run cargo: {e}"))?;
    if !st.success() {
        return Err(format!("cargo build --release failed: {st}"));
    }
    // The lean set is the host's container image; another architecture's
    // `+` rows are measured in its own full build.
    let st = Command::new(root.join("scripts/build-lean"))
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("unable to run scripts/build-lean: {e}"))?;
    if st.success() { Ok(()) } else { Err(format!("scripts/build-lean failed: {st}")) }
}

/// The lean build beside the release directory `<target>/release`:
/// `<target>/lean/release`, as scripts/build-lean makes it.
fn lean_dir(release: &Path) -> PathBuf {
    release.parent().unwrap_or(Path::new(".")).join("lean/release")
}

/// `<target>/release`, found from this program's own place in `<target>/<profile>/`
/// (so CARGO_TARGET_DIR is honoured whichever profile runs the report).
fn release_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d).join("release");
    }
    match std::env::current_exe() {
        Ok(exe) => match exe.parent().and_then(Path::parent) {
            Some(target) => target.join("release"),
            None => PathBuf::from("target/release"),
        },
        Err(_) => PathBuf::from("target/release"),
    }
}

/// rinit-* executables in `dir` that budgets.txt does not name.
fn unbudgeted(dir: &Path, budgets: &[(String, u64)]) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("rinit") && !n.contains('.'))
        .filter(|n| !budgets.iter().any(|(b, _)| b == n))
        .collect();
    v.sort();
    v
}

/// A row's measure: one binary, or the sum of `a+b+c` (a set of binaries
/// that ship together, such as the container image's rinit part): None
/// when one is missing, static only when all are.
fn measure_row(dir: &Path, name: &str) -> Result<Option<(u64, elf::Sizes)>, String> {
    let mut sum = (0, elf::Sizes { text: 0, data: 0, bss: 0, is_static: true });
    for part in name.split('+') {
        let Some((bytes, s)) = measure(&dir.join(part))? else { return Ok(None) };
        sum.0 += bytes;
        sum.1.text += s.text;
        sum.1.data += s.data;
        sum.1.bss += s.bss;
        sum.1.is_static &= s.is_static;
    }
    Ok(Some(sum))
}

/// File size and ELF sizes, None when the file does not exist.
fn measure(p: &Path) -> Result<Option<(u64, elf::Sizes)>, String> {
    let b = match std::fs::read(p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    Ok(Some((b.len() as u64, elf::sizes(&b)?)))
}

fn table(rows: &[Row], dir: &Path) -> String {
    let mut out = format!("size report of {}\n", dir.display());
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(6).max(6);
    out += &format!(
        "{:<w$}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  {:>5}  {}\n",
        "binary", "bytes", "text", "data", "bss", "budget", "used", "verdict"
    );
    let (mut total, mut total_budget) = (0, 0);
    for r in rows {
        let budget = r.budget.map(|b| b.to_string()).unwrap_or_else(|| "-".into());
        let line = match &r.measured {
            Some((bytes, s)) => {
                // A sum row counts binaries already counted.
                if !r.name.contains('+') {
                    total += bytes;
                    total_budget += r.budget.unwrap_or(0);
                }
                let used = r.budget.map(|b| format!("{}%", bytes * 100 / b.max(1))).unwrap_or_else(|| "-".into());
                format!(
                    "{:<w$}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  {:>5}  {}\n",
                    r.name,
                    bytes,
                    s.text,
                    s.data,
                    s.bss,
                    budget,
                    used,
                    r.verdict().text()
                )
            }
            None => format!(
                "{:<w$}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  {:>5}  {}\n",
                r.name,
                "-",
                "-",
                "-",
                "-",
                budget,
                "-",
                r.verdict().text()
            ),
        };
        out += &line;
    }
    out += &format!("{:<w$}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}\n", "total built", total, "", "", "", total_budget);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(bytes: Option<u64>, budget: Option<u64>, is_static: bool) -> Row {
        Row {
            name: "rinit-x".into(),
            budget,
            measured: bytes.map(|b| (b, elf::Sizes { text: b, data: 0, bss: 0, is_static })),
        }
    }

    #[test]
    fn over_budget_and_dynamic_binaries_always_fail() {
        assert!(row(Some(9000), Some(8192), true).verdict().fails(false));
        assert!(row(Some(100), Some(8192), false).verdict().fails(false));
        assert!(!row(Some(8192), Some(8192), true).verdict().fails(true));
    }

    #[test]
    fn missing_and_unbudgeted_binaries_fail_only_when_strict() {
        for r in [row(None, Some(8192), true), row(Some(10), None, true)] {
            assert!(!r.verdict().fails(false));
            assert!(r.verdict().fails(true));
        }
    }

    #[test]
    fn the_checked_in_budgets_parse() {
        let b = budgets::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.txt")).unwrap();
        assert!(b.iter().any(|(n, v)| n == "rinit-supervise" && *v >= 16384));
    }
}
