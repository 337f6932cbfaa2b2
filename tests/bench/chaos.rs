//! bench-chaos: kills services, supervisors and loggers at random under
//! rinit-scan as pid 1 (tests/chaos/engine.rs) and prints what survived:
//! pid 1, the services (each running exactly once), zombies, log lines
//! lost, duplicated and out of order, orphans; and the rinit-rc changes run
//! meanwhile (some killed) and whether its live state was consistent after.
//! `bench-chaos [ -n kills ] [ -t seconds ] [ -S services ] [ -s seed ] [ --readme ]`;
//! `--readme` rewrites the README's block between `<!-- bench-chaos begin -->` and `end -->`.

#[path = "../chaos/engine.rs"]
mod engine;

fn main() {
    let mut cfg = engine::Config { services: 8, kills: 1000, secs: 60, seed: 1 };
    let mut readme = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--readme" {
            readme = true;
            continue;
        }
        let v: Option<u64> = args.next().and_then(|v| v.parse().ok());
        match (a.as_str(), v) {
            ("-n", Some(n)) => cfg.kills = n,
            ("-t", Some(t)) => cfg.secs = t,
            ("-S", Some(s)) if s > 0 => cfg.services = s as usize,
            ("-s", Some(s)) => cfg.seed = s,
            _ => {
                eprintln!("usage: bench-chaos [ -n kills ] [ -t seconds ] [ -S services ] [ -s seed ] [ --readme ]");
                std::process::exit(100);
            }
        }
    }
    let head = format!("chaos: rinit-scan as pid 1, {} services (half logged by rinit-log), {} kills in {} s, seed {}\n", cfg.services, cfg.kills, cfg.secs, cfg.seed);
    let f = engine::Chaos::start(cfg.services).run(&cfg);
    let text = format!("{head}{}", f.text());
    print!("{text}");
    if readme {
        rinit_tests::write_readme_block("bench-chaos", &text);
    }
    let rc_ok = f.rc.final_ok && f.rc.counted_up == f.rc.services && f.rc.up == f.rc.services;
    let ok = f.pid1_alive && f.back == f.services && f.zombies == 0 && f.lost == 0 && f.duplicated == 0 && f.out_of_order == 0 && rc_ok;
    std::process::exit(if ok { 0 } else { 1 });
}
