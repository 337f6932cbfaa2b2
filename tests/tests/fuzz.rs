//! Every decoder and parser survives a bounded run of mutated inputs (see
//! tests/fuzz/engine.rs): `RINIT_FUZZ_SECS` seconds each (default 1), from
//! `RINIT_FUZZ_SEED` (default: a new seed each run, printed to replay it).

#[path = "../fuzz/engine.rs"]
mod engine;

use std::time::{Duration, Instant};

#[test]
fn every_parser_survives_a_bounded_mutation_run() {
    engine::install_panic_hook();
    let secs: u64 = std::env::var("RINIT_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let seed: u64 = std::env::var("RINIT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("fuzz: seed {seed} (RINIT_FUZZ_SEED={seed} replays this run)");
    for t in engine::targets() {
        let end = Instant::now() + Duration::from_secs(secs);
        let n = engine::run(&t, seed, &mut |n| n % 256 != 0 || Instant::now() < end);
        eprintln!("fuzz: {:<18} {n} cases", t.name);
        assert!(n > 0);
    }
}

#[test]
fn the_source_tree_seeds_compile_so_mutations_start_from_valid_trees() {
    let seeds = engine::tree_seeds();
    for s in &seeds[..2] {
        assert!(engine::compile_tree(s), "a seed tree is refused: {}", String::from_utf8_lossy(s));
    }
}

/// Random bytes written into the control FIFOs of a live tree: every
/// supervisor's `supervise/control` (all but `x`, which ends it) and the
/// scanner's `.s6-svscan/control` (all but the letters that end it). No
/// supervisor may die (its pid stays), pid 1 stays alive, and the tree
/// still obeys afterwards. `RINIT_FUZZ_WRITES` writes (default 10000).
#[test]
fn control_fifos_survive_random_bytes_and_still_obey() {
    use rinit_tests::*;
    use std::os::unix::fs::OpenOptionsExt;
    let writes: u64 = std::env::var("RINIT_FUZZ_WRITES").ok().and_then(|s| s.parse().ok()).unwrap_or(10000);
    let seed: u64 = std::env::var("RINIT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut sb = Sandbox::new();
    let svcs: Vec<_> = (0..3).map(|i| sb.service(&format!("scan/s{i}"), "exec sleep 100000")).collect();
    let mut scan = sb.spawn_pid1(args![bin("rinit-scan"), "-t0", "scan"]);
    wait_until("every service up", SOON, || svcs.iter().all(|s| status(s).is_some_and(|st| st.pid != 0)));
    let pid1 = scan.pid();
    let pids_of = |svc: &std::path::Path| supervisors_of(pid1, svc);
    let before: Vec<Vec<u32>> = svcs.iter().map(|s| pids_of(s)).collect();
    assert!(before.iter().all(|p| p.len() == 1), "one supervisor per service: {before:?}");
    let fifo_seeds: Vec<Vec<u8>> = [&b"udoOpcshkatiq12wWrl"[..], b"UDdux", b"ahnNz"].iter().map(|s| s.to_vec()).collect();
    let mut rng = engine::Rng::new(seed);
    let mut bytes = Vec::new();
    let mut sent = 0;
    while sent < writes {
        engine::mutate(&mut rng, &fifo_seeds, &[b"u", b"d", b"\0", b"\xff"], &mut bytes);
        let k = rng.below(svcs.len() + 1);
        let (fifo, banned): (std::path::PathBuf, &[u8]) = match svcs.get(k) {
            Some(s) => (s.join("supervise/control"), b"x"),
            None => (sb.path("scan/.s6-svscan/control"), b"tiqb"),
        };
        for c in bytes.iter_mut().filter(|c| banned.contains(c)) {
            *c = b'a';
        }
        bytes.truncate(512);
        let f = fs::OpenOptions::new().write(true).custom_flags(0o4000 /* O_NONBLOCK */).open(&fifo);
        if f.and_then(|mut f| f.write_all(&bytes)).is_ok() {
            sent += 1;
        }
    }
    eprintln!("fuzz: control-fifos {sent} writes, seed {seed}");
    for s in &svcs {
        // The FIFO may still be full of the last writes: the supervisor drains it.
        wait_until("room in supervise/control", SOON, || {
            let f = fs::OpenOptions::new().write(true).custom_flags(0o4000).open(s.join("supervise/control"));
            f.and_then(|mut f| f.write_all(b"cu")).is_ok()
        });
    }
    wait_until("every service up again", SOON, || {
        svcs.iter().all(|s| status(s).is_some_and(|st| st.pid != 0 && st.want_up && !st.paused))
    });
    assert!(scan.is_running(), "pid 1 died: {}", scan.output());
    let after: Vec<Vec<u32>> = svcs.iter().map(|s| pids_of(s)).collect();
    assert_eq!(before, after, "a supervisor died (or a second one started)");
}

use std::fs;
use std::io::Write;

/// Host pids of the rinit-supervise processes under `root` whose working
/// directory is `svc`.
fn supervisors_of(root: u32, svc: &std::path::Path) -> Vec<u32> {
    let children = fs::read_to_string(format!("/proc/{root}/task/{root}/children")).unwrap_or_default();
    let mut out: Vec<u32> = children
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .filter(|p| fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "rinit-supervise"))
        .filter(|p| fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c == svc))
        .collect();
    out.sort();
    out
}
