//! bench-fuzz: runs every fuzz target of tests/fuzz/engine.rs for a number
//! of cases (default 10^7 in all, shared evenly) and prints the counts and
//! the rate. `bench-fuzz [ -n cases ] [ -s seed ]`.

#[path = "../fuzz/engine.rs"]
mod engine;

use std::time::Instant;

fn main() {
    let mut total: u64 = 10_000_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().and_then(|v| v.parse().ok());
        match (a.as_str(), v) {
            ("-n", Some(n)) => total = n,
            ("-s", Some(s)) => seed = s,
            _ => {
                eprintln!("usage: bench-fuzz [ -n cases ] [ -s seed ]");
                std::process::exit(100);
            }
        }
    }
    engine::install_panic_hook();
    let targets = engine::targets();
    let each = total.div_ceil(targets.len() as u64);
    println!("fuzz: seed {seed}, {each} cases per target");
    let start = Instant::now();
    let mut all = 0;
    for t in &targets {
        let t0 = Instant::now();
        let n = engine::run(t, seed, &mut |n| n < each);
        let s = t0.elapsed().as_secs_f64();
        println!("{:<18} {:>10} cases  {:>6.1} s  {:>9.0} cases/s", t.name, n, s, n as f64 / s.max(1e-9));
        all += n;
    }
    let s = start.elapsed().as_secs_f64();
    println!("{:<18} {:>10} cases  {:>6.1} s  {:>9.0} cases/s, no failure", "total", all, s, all as f64 / s.max(1e-9));
}
