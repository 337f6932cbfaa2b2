//! Ten seconds of chaos (tests/chaos/engine.rs): services, supervisors and
//! loggers killed at random under rinit-scan as pid 1, while rinit-rc
//! changes are under way (some of them killed too), and the tree comes back
//! whole and rinit-rc's live state consistent. `RINIT_CHAOS_SEED` replays a
//! run.

#[path = "../chaos/engine.rs"]
mod engine;

#[test]
fn random_kills_leave_pid1_alive_every_service_back_no_log_line_lost_and_the_rc_state_consistent() {
    let seed: u64 = std::env::var("RINIT_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("chaos: seed {seed} (RINIT_CHAOS_SEED={seed} replays this run)");
    let cfg = engine::Config { services: 6, kills: 150, secs: 10, seed };
    let f = engine::Chaos::start(cfg.services).run(&cfg);
    eprint!("{}", f.text());
    assert!(f.pid1_alive, "pid 1 died");
    assert_eq!(f.kills, cfg.kills);
    assert_eq!(f.back, f.services, "not every service came back: {:?}", f.unsettled);
    assert_eq!(f.zombies, 0, "zombies left");
    assert!(f.lines > 0, "no log line written");
    assert_eq!((f.lost, f.duplicated, f.out_of_order), (0, 0, 0), "log lines lost, duplicated, out of order");
    assert!(f.rc.changes > 0 && f.rc.killed > 0, "no rinit-rc change under way, or none killed");
    assert!(f.rc.final_ok, "the last rinit-rc -u change default failed: {:?}", f.rc.inconsistent);
    assert_eq!((f.rc.counted_up, f.rc.up), (f.rc.services, f.rc.services), "rinit-rc's state: {:?}", f.rc.inconsistent);
}
