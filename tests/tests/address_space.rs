//! What a scanner's and a supervisor's address space holds, from
//! /proc/PID/maps: a service costs the kernel page tables for every region
//! apart from the others, so a region that creeps in (a heap, a shared
//! library, a second anonymous mapping far from the binary) costs each of
//! hundreds of supervisors a page table or more.
//!
//! Today each holds: the binary's text and data, the zeroed data right
//! after it (the scanner's tables), all within one 2 MiB span, which one
//! page-table page maps; and what the kernel adds to every process: the
//! initial stack, the vDSO with its data pages (`[vvar]`, and
//! `[vvar_vclock]` on newer kernels) and the legacy `[vsyscall]` page (a
//! fixed kernel address, no page table of the process). On x86_64 a
//! supervisor and a logger have moved their arguments, environment and
//! stack into their own zeroed data and unmapped the kernel's stack and the
//! vDSO (`sys::run_in_one_region`): nothing but the binary's span and
//! `[vsyscall]` is left, and of its own memory one page is resident.

use rinit_tests::*;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

/// One page-table page maps this much (x86_64 and aarch64 with 4 KiB pages).
const PAGE_TABLE_SPAN: u64 = 2 << 20;

/// The kernel's own regions every process has; nothing else may be named.
const KERNEL_REGIONS: &[&str] = &["[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"];

struct Region {
    start: u64,
    end: u64,
    name: String,
}

fn regions(pid: u32) -> Vec<Region> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).expect("read /proc/PID/maps");
    maps.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (a, b) = f[0].split_once('-').expect("an address range");
            Region {
                start: u64::from_str_radix(a, 16).expect("hex"),
                end: u64::from_str_radix(b, 16).expect("hex"),
                name: f.get(5).map_or(String::new(), |s| s.to_string()),
            }
        })
        .collect()
}

/// The process's own regions (its binary and anonymous memory) lie in one
/// 2 MiB-aligned span; every other region is one of the kernel's.
fn assert_one_span(what: &str, pid: u32, binary: &Path) {
    let all = regions(pid);
    let text = all.iter().map(|r| format!("{:x}-{:x} {}", r.start, r.end, r.name)).collect::<Vec<_>>().join("\n");
    let binary = fs::canonicalize(binary).expect("canonicalize the binary");
    let own: Vec<&Region> = all.iter().filter(|r| r.name.is_empty() || Path::new(&r.name) == binary).collect();
    for r in &all {
        let known = r.name.is_empty() || Path::new(&r.name) == binary || KERNEL_REGIONS.contains(&r.name.as_str());
        assert!(known, "{what}: an unexpected region {} in its address space:\n{text}", r.name);
    }
    assert!(own.iter().any(|r| !r.name.is_empty()), "{what}: its binary is not mapped:\n{text}");
    let lo = own.iter().map(|r| r.start).min().unwrap_or(0);
    let hi = own.iter().map(|r| r.end).max().unwrap_or(0);
    assert!(
        lo / PAGE_TABLE_SPAN == (hi - 1) / PAGE_TABLE_SPAN,
        "{what}: its own regions span {lo:#x}-{hi:#x}, more than one page table maps:\n{text}"
    );
    assert!(all.iter().filter(|r| r.name == "[stack]").count() <= 1, "{what}: more than one stack:\n{text}");
}

/// Everything but `[vsyscall]` lies in the binary's 2 MiB span: no stack,
/// vDSO or data page of the kernel's anywhere else (the one named
/// `[stack]`, if any, is the moved stack, inside the span).
fn assert_only_its_span(what: &str, pid: u32, binary: &Path) {
    let all = regions(pid);
    let text = all.iter().map(|r| format!("{:x}-{:x} {}", r.start, r.end, r.name)).collect::<Vec<_>>().join("\n");
    let binary = fs::canonicalize(binary).expect("canonicalize the binary");
    let lo = all.iter().filter(|r| Path::new(&r.name) == binary).map(|r| r.start).min().expect("the binary mapped");
    for r in all.iter().filter(|r| r.name != "[vsyscall]") {
        assert!(
            r.start / PAGE_TABLE_SPAN == lo / PAGE_TABLE_SPAN && (r.end - 1) / PAGE_TABLE_SPAN == lo / PAGE_TABLE_SPAN,
            "{what}: {} at {:#x} lies outside its binary's page-table span:\n{text}",
            if r.name.is_empty() { "an anonymous region" } else { &r.name },
            r.start
        );
    }
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).expect("read /proc/PID/cmdline");
    assert!(
        cmdline.split(|&c| c == 0).next().is_some_and(|a| a.ends_with(what.as_bytes())),
        "{what}: /proc/PID/cmdline no longer shows its arguments: {:?}",
        String::from_utf8_lossy(&cmdline)
    );
}

/// Under qemu-user /proc/PID/maps is qemu's own address space, the guest's
/// somewhere inside it: what is left to check is the program's part, its
/// loadable segments (text, data, zeroed data) as the ELF file lays them
/// out, which the kernel maps as they are. 32- and 64-bit, either byte
/// order (EI_DATA 2: big-endian, mips).
fn assert_segments_in_one_span(what: &str, binary: &Path) {
    let f = fs::read(binary).expect("read the binary");
    let big = f[5] == 2;
    let u = |at: usize, n: usize| {
        let b = &f[at..at + n];
        let word = |v: u64, &b: &u8| v << 8 | b as u64;
        if big { b.iter().fold(0, word) } else { b.iter().rev().fold(0, word) }
    };
    let wide = f[4] == 2;
    let (phoff, phentsize, phnum) =
        if wide { (u(32, 8), u(54, 2), u(56, 2)) } else { (u(28, 4), u(42, 2), u(44, 2)) };
    let (mut lo, mut hi) = (u64::MAX, 0);
    for i in 0..phnum {
        let ph = (phoff + i * phentsize) as usize;
        // PT_LOAD: p_vaddr and p_memsz.
        if u(ph, 4) != 1 {
            continue;
        }
        let (vaddr, memsz) = if wide { (u(ph + 16, 8), u(ph + 40, 8)) } else { (u(ph + 8, 4), u(ph + 20, 4)) };
        lo = lo.min(vaddr);
        hi = hi.max(vaddr + memsz);
    }
    assert!(lo < hi, "{what}: no loadable segment in {}", binary.display());
    assert!(
        lo / PAGE_TABLE_SPAN == (hi - 1) / PAGE_TABLE_SPAN,
        "{what}: its loadable segments span {lo:#x}-{hi:#x}, more than one page table maps"
    );
}

#[test]
fn scanner_and_supervisor_live_in_one_page_table_span_beside_the_kernels_regions() {
    let mut sb = Sandbox::new();
    let svc = sb.service("scan/idle", "exec sleep 1000");
    sb.write("scan/idle/down", "");
    let scan = sb.path("scan");
    let p = sb.spawn_pid1(&[bin("rinit-scan").as_os_str(), OsStr::new("-t0"), scan.as_os_str()]);
    wait_until("the supervisor's status file", SOON, || status(&svc).is_some());
    let scanner = p.pid();
    let sups = children(scanner);
    assert_eq!(sups.len(), 1, "one supervisor under the scanner: {sups:?}\n{}", p.output());
    if qemu_user() {
        assert_segments_in_one_span("rinit-scan", &bin("rinit-scan"));
        assert_segments_in_one_span("rinit-supervise", &bin("rinit-supervise"));
        return;
    }
    assert_one_span("rinit-scan", scanner, &bin("rinit-scan"));
    assert_one_span("rinit-supervise", sups[0], &bin("rinit-supervise"));
    if bin_arch() == "x86_64" {
        assert_only_its_span("rinit-supervise", sups[0], &bin("rinit-supervise"));
    }
}

/// With an environment as small as a boot's (PATH alone here; the test
/// runner's, several KiB, would take a second page).
#[test]
fn a_supervisor_of_a_down_service_keeps_one_page_of_its_own() {
    if bin_arch() != "x86_64" || qemu_user() {
        return;
    }
    let mut sb = Sandbox::new();
    let svc = sb.service("scan/idle", "exec sleep 1000");
    sb.write("scan/idle/down", "");
    let scan = sb.path("scan");
    let p = sb.spawn_pid1_path(&[bin("rinit-scan").as_os_str(), OsStr::new("-t0"), scan.as_os_str()], &test_path());
    wait_until("the supervisor's status file", SOON, || status(&svc).is_some());
    let sups = children(p.pid());
    assert_eq!(sups.len(), 1, "one supervisor under the scanner: {sups:?}\n{}", p.output());
    // Idle in its poll loop, past the last write of its start-up.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_one_private_page("rinit-supervise", sups[0]);
}

/// A supervisor of a service that is down, idle in its poll loop, has one
/// page of its own: its moved strings, its stack at its deepest and every
/// static it wrote share the page where the region ends (`base::region!`).
/// Its text is the binary's, shared by every supervisor.
fn assert_one_private_page(what: &str, pid: u32) {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).expect("read /proc/PID/smaps");
    let kib: u64 = smaps
        .lines()
        .filter(|l| l.starts_with("Anonymous:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    assert_eq!(kib, 4, "{what}: {kib} KiB of anonymous memory, not one page:\n{smaps}");
}

#[test]
fn a_logger_lives_in_its_binarys_page_table_span_alone() {
    if bin_arch() != "x86_64" {
        return;
    }
    let sb = Sandbox::new();
    let mut logger = std::process::Command::new(bin("rinit-log"))
        .arg(sb.path("logdir"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start rinit-log");
    let current = sb.path("logdir/current");
    {
        use std::io::Write;
        let stdin = logger.stdin.as_mut().expect("the logger's stdin");
        stdin.write_all(b"one line\n").expect("write a line");
    }
    wait_until("the logger's line", SOON, || fs::read_to_string(&current).is_ok_and(|c| c.contains("one line")));
    assert_only_its_span("rinit-log", logger.id(), &bin("rinit-log"));
    drop(logger.stdin.take());
    let st = logger.wait().expect("wait for rinit-log");
    assert!(st.success(), "rinit-log ends at the end of its input: {st:?}");
}
