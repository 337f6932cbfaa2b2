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
