//! rinit-log: rotation, selection, timestamps, bad scripts, and the promise
//! that no line is ever lost or written twice (full disk, killed logger).

use rinit_tests::*;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn logger(sb: &Sandbox, args: &[&str]) -> Command {
    let mut c = Command::new(bin("rinit-log"));
    c.args(args).current_dir(&sb.dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs rinit-log on `input`; returns (exit code, stdout, stderr).
fn run_with(sb: &Sandbox, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut c = logger(sb, args).stdin(Stdio::piped()).spawn().expect("spawn rinit-log");
    let mut w = c.stdin.take().unwrap();
    let data = input.to_vec();
    let t = std::thread::spawn(move || {
        let _ = w.write_all(&data);
    });
    let out = c.wait_with_output().expect("wait rinit-log");
    t.join().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The files of a log directory in log order: archives by name (their
/// TAI64N stamps), then `current`; and the names of everything else.
fn log_files(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut archives = Vec::new();
    let mut others = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        if n.starts_with('@') { archives.push(n) } else { others.push(n) }
    }
    archives.sort();
    others.sort();
    (archives, others)
}

fn all_lines(dir: &Path) -> Vec<String> {
    let (archives, _) = log_files(dir);
    let mut s = String::new();
    for a in archives.iter().map(String::as_str).chain(["current"]) {
        s.push_str(&fs::read_to_string(dir.join(a)).unwrap_or_default());
    }
    s.lines().map(str::to_owned).collect()
}

/// Asserts that `lines` are exactly the numbers `first..=last`, in order.
fn assert_numbered(lines: &[String], first: u64, last: u64) {
    assert_eq!(lines.len() as u64, last - first + 1, "line count (first line {:?})", lines.first());
    for (i, l) in lines.iter().enumerate() {
        let n: u64 = l.trim().parse().unwrap_or_else(|_| panic!("line {i} is not a number: {l:?}"));
        assert_eq!(n, first + i as u64, "line {i} out of order");
    }
}

#[test]
fn one_million_numbered_lines_rotate_exactly() {
    let sb = Sandbox::new();
    let script = format!("seq 1 1000000 | {} n20 s65536 ./d", bin("rinit-log").display());
    let st = Command::new("sh").args(["-c", &script]).current_dir(&sb.dir).status().unwrap();
    assert!(st.success());
    let d = sb.path("d");
    let (archives, others) = log_files(&d);
    assert_eq!(others, ["current", "lock", "state"], "nothing else in the log directory");
    assert_eq!(archives.len(), 20, "n20 keeps 20 archives");
    for a in &archives {
        assert!(a.len() == 27 && a.ends_with(".s"), "archive name {a}");
        let len = fs::metadata(d.join(a)).unwrap().len();
        assert!(len <= 65536 && len > 65536 - 8, "archive {a} holds {len} bytes");
    }
    let lines = all_lines(&d);
    let first: u64 = lines[0].parse().unwrap();
    assert!(first > 1, "older archives are removed");
    assert_numbered(&lines, first, 1_000_000);
}

#[test]
fn killed_logger_loses_and_duplicates_nothing() {
    // The test plays the scanner: it holds both ends of the pipe, a writer
    // keeps writing into it, and the logger reading it is killed with
    // SIGKILL mid-stream and started again on the same read end.
    // The writer goes on until the kills are over (a fast machine would
    // otherwise drain a fixed stream before the last kill), at least
    // MIN_LINES and at most MAX_LINES (what the log directory's 1000
    // archives of 100 kB keep, with room).
    const MIN_LINES: u64 = 200_000;
    const MAX_LINES: u64 = 9_000_000;
    let sb = Sandbox::new();
    let (reader, mut writer) = std::io::pipe().unwrap();
    let kills_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = kills_done.clone();
    let w = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut i = 0u64;
        while (i < MIN_LINES || !done.load(std::sync::atomic::Ordering::Relaxed)) && i < MAX_LINES {
            i += 1;
            buf.extend_from_slice(format!("{i:07}\n").as_bytes());
            // Odd-sized writes: lines are cut across writes.
            if buf.len() >= 3001 {
                writer.write_all(&buf[..3001]).unwrap();
                buf.drain(..3001);
            }
        }
        writer.write_all(&buf).unwrap();
        i
        // Dropping the last write end gives the last logger its end of file.
    });
    let start = |sb: &Sandbox| -> Child {
        let mut c = Command::new(bin("rinit-log"));
        c.args(["n1000", "s100000", "./d"]).current_dir(&sb.dir).stdin(reader.try_clone().unwrap()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let d = sb.path("d");
    let logged = |d: &Path| -> u64 {
        let Ok(rd) = fs::read_dir(d) else { return 0 };
        rd.flatten().filter(|e| e.file_name() != "lock").filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()
    };
    // The writer keeps the pipe full, so each logger is busy (between a
    // look at the pipe, a write and a take-out) when it is killed.
    for k in 0..20 {
        let mut c = start(&sb);
        let base = logged(&d);
        wait_until("the logger to write", SOON, || logged(&d) > base);
        std::thread::sleep(Duration::from_micros(300 * (k % 7)));
        c.kill().unwrap();
        c.wait().unwrap();
    }
    assert!(!w.is_finished(), "the stream outlasts the kills");
    kills_done.store(true, std::sync::atomic::Ordering::Relaxed);
    let c = start(&sb);
    let n = w.join().unwrap();
    drop(reader);
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "last logger: {}", String::from_utf8_lossy(&out.stderr));
    assert!(log_files(&d).0.iter().any(|a| a.ends_with(".u")), "killed loggers leave .u archives");
    assert_numbered(&all_lines(&d), 1, n);
}

#[test]
fn full_disk_then_freed_loses_nothing() {
    let mut sb = Sandbox::new();
    // Everything inside one mount namespace: a 256 KiB tmpfs, nearly filled.
    sb.script(
        "scenario",
        r#"set -e
mkdir mnt
mount -t tmpfs -o size=256k tmpfs mnt
head -c 200000 /dev/zero > mnt/filler
( seq 1 30000 | rinit-log n100 s1000000 ./mnt/d 2> err; echo $? > rc ) &
i=0
until grep -q 'No space left' err 2>/dev/null; do sleep 0.05; i=$((i+1)); [ $i -lt 200 ]; done
rm mnt/filler
wait
cat mnt/d/@* mnt/d/current > all 2>/dev/null || cat mnt/d/current > all
echo done > finished"#,
    );
    let mut p = sb.spawn_pid1(args!["/bin/sh", "./scenario"]);
    let st = p.wait_timeout(Duration::from_secs(20)).expect("scenario ends");
    assert!(st.success(), "scenario failed: {}", p.output());
    assert_eq!(sb.read("rc").trim(), "0");
    let err = sb.read("err");
    assert_eq!(err.lines().count(), 1, "one warning line, got: {err}");
    assert!(err.starts_with("rinit-log: warning: unable to write to ./mnt/d/current"), "{err}");
    let lines: Vec<String> = sb.read("all").lines().map(str::to_owned).collect();
    assert_numbered(&lines, 1, 30000);
}

/// TAI64N label to unix seconds (skalibs' 37 s offset).
fn tai_secs(hex: &str) -> (u64, u32) {
    let label = u64::from_str_radix(&hex[..16], 16).unwrap();
    let nano = u32::from_str_radix(&hex[16..24], 16).unwrap();
    (label - (1 << 62) - 37, nano)
}

/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` to unix seconds (UTC).
fn iso_secs(s: &str) -> (u64, u32) {
    let num = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (num(0, 4), num(5, 7), num(8, 10));
    assert_eq!((&s[4..5], &s[7..8], &s[10..11], &s[13..14], &s[16..17], &s[19..20]), ("-", "-", " ", ":", ":", "."));
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + num(11, 13) * 3600 + num(14, 16) * 60 + num(17, 19);
    (secs as u64, num(20, 29) as u32)
}

#[test]
fn timestamps_are_monotonic_and_parseable() {
    let sb = Sandbox::new();
    let input: String = (0..20000).map(|i| format!("line {i}\n")).collect();
    let (rc, _, err) = run_with(&sb, &["n100", "t", "./tai", "T", "./iso", "t", "T", "./both", "t", "1"], input.as_bytes());
    assert_eq!(rc, 0, "{err}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let tai = all_lines(&sb.path("tai"));
    let iso = all_lines(&sb.path("iso"));
    assert_eq!(tai.len(), 20000);
    assert_eq!(iso.len(), 20000);
    let both = all_lines(&sb.path("both"));
    assert_eq!(both.len(), 20000);
    for ((b, t), s) in both.iter().zip(&tai).zip(&iso) {
        assert_eq!(*b, format!("{}{s}", &t[..26]), "t T: TAI64N first, then ISO 8601");
    }
    let mut last = (0, 0);
    for (i, (t, s)) in tai.iter().zip(&iso).enumerate() {
        assert!(t.len() > 26 && t.starts_with('@') && &t[25..26] == " ", "{t:?}");
        assert_eq!(&t[26..], format!("line {i}"));
        assert_eq!(&s[29..31], "  ", "{s:?}");
        assert_eq!(&s[31..], format!("line {i}"));
        let a = tai_secs(&t[1..25]);
        assert_eq!(a, iso_secs(&s[..29]), "both stamps of line {i} say the same instant");
        assert!(a >= last, "line {i}: time went back");
        assert!(a.0 + 60 > now && a.0 <= now + 1, "line {i}: {a:?} is not now ({now})");
        last = a;
    }
}

#[test]
fn every_bad_script_is_one_clear_line() {
    let sb = Sandbox::new();
    sb.write("file", "");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["zz"], 100, "rinit-log: fatal: unrecognized directive: zz"),
        (&["nfoo", "./d"], 100, "rinit-log: fatal: bad number: nfoo"),
        (&["s", "./d"], 100, "rinit-log: fatal: bad number: s"),
        (&["+a{2,1}", "1"], 100, "rinit-log: fatal: bad pattern: bad interval (its maximum is below its minimum): +a{2,1}"),
        (&["--", "-[[:nope:]]", "1"], 100, "rinit-log: fatal: bad pattern: unknown character class"),
        (&["+(ab", "1"], 100, "rinit-log: fatal: bad pattern: unmatched (: +(ab"),
        (&["--", "-\\1", "1"], 100, "rinit-log: fatal: bad pattern: back-references are not supported"),
        (&["t"], 100, "rinit-log: fatal: no action directive in the script"),
        (&["-l", "99999999", "1"], 100, "rinit-log: fatal: line limit too large"),
        (&["./file/d"], 111, "rinit-log: fatal: unable to mkdir ./file/d: Not a directory"),
        (&["/proc/nonexistent/d"], 111, "rinit-log: fatal: unable to mkdir /proc/nonexistent/d: No such file or directory"),
    ];
    for (args, code, msg) in cases {
        let (rc, out, err) = run_with(&sb, args, b"x\n");
        assert_eq!(rc, *code, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(err.starts_with(msg), "{args:?}: {err:?}");
        assert!(out.is_empty());
    }
    let many: Vec<String> = (0..17).map(|i| format!("+a{i}")).chain(["1".into()]).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (rc, _, err) = run_with(&sb, &many, b"");
    assert_eq!(rc, 100);
    assert!(err.contains("too many selection directives"), "{err}");
    let dirs: Vec<String> = (0..9).map(|i| format!("./d{i}")).collect();
    let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    let (rc, _, err) = run_with(&sb, &dirs, b"");
    assert_eq!((rc, err.as_str()), (100, "rinit-log: fatal: too many log directories (the most is 8): ./d8\n"));
    let long = format!("+{}", "a".repeat(257));
    let (rc, _, err) = run_with(&sb, &[&long, "1"], b"");
    assert_eq!(rc, 100);
    assert!(err.starts_with("rinit-log: fatal: bad pattern: pattern too long (capacity MAX_POSITIONS = 256"), "{err}");
}

#[test]
fn second_logger_on_the_same_directory_is_refused() {
    let sb = Sandbox::new();
    let mut first = logger(&sb, &["./d"]).stdin(Stdio::piped()).spawn().unwrap();
    wait_until("the first logger to lock", SOON, || sb.path("d/current").exists());
    let (rc, _, err) = run_with(&sb, &["./d"], b"x\n");
    assert_eq!(rc, 111);
    assert_eq!(err.trim_end(), "rinit-log: fatal: another logger holds the lock on ./d: Resource temporarily unavailable");
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
}

#[test]
fn selects_lines_and_copies_them_to_stdout_stderr_and_status() {
    let sb = Sandbox::new();
    let input = b"alpha one\nbeta two\nalpha three\ngamma\n";
    let (rc, out, err) = run_with(&sb, &["--", "-.*", "+^alpha", "1", "-beta", "2", "-.*", "+^g", "=st", "e"], input);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out, "alpha one\nalpha three\n");
    assert_eq!(
        err,
        "alpha one\nrinit-log: alert: alpha one\nrinit-log: alert: beta two\nalpha three\nrinit-log: alert: alpha three\ngamma\nrinit-log: alert: gamma\n"
    );
    assert_eq!(fs::read_to_string(sb.path("st")).unwrap(), "gamma\n");
}

#[test]
fn long_lines_are_split_and_a_last_partial_line_is_kept() {
    let sb = Sandbox::new();
    let mut input = vec![b'x'; 250];
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&[b'y'; 200]);
    input.extend_from_slice(b"\nend");
    let (rc, out, _) = run_with(&sb, &["-l", "100", "1"], &input);
    assert_eq!(rc, 0);
    let lens: Vec<usize> = out.lines().map(str::len).collect();
    assert_eq!(lens, [100, 100, 50, 100, 100, 3]);
    assert!(out.ends_with("end\n"));
}

#[test]
fn alarm_rotates_and_term_exits_cleanly_after_the_pending_lines() {
    let sb = Sandbox::new();
    let mut c = logger(&sb, &["./d"]).stdin(Stdio::piped()).spawn().unwrap();
    let mut w = c.stdin.take().unwrap();
    w.write_all(b"one\ntwo\n").unwrap();
    let cur = sb.path("d/current");
    wait_until("lines in current", SOON, || fs::read_to_string(&cur).unwrap_or_default() == "one\ntwo\n");
    let pid = c.id().to_string();
    Command::new("kill").args(["-ALRM", &pid]).status().unwrap();
    wait_until("an archive", SOON, || log_files(&sb.path("d")).0.len() == 1);
    w.write_all(b"three\n").unwrap();
    wait_until("the new current", SOON, || fs::read_to_string(&cur).unwrap_or_default() == "three\n");
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let st = c.wait().unwrap();
    assert!(st.success());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::metadata(&cur).unwrap().permissions().mode() & 0o777, 0o744, "current is marked finished");
    assert_eq!(all_lines(&sb.path("d")), ["one", "two", "three"]);
}

#[test]
fn with_t_a_last_line_is_awaited_after_term_then_logged_as_it_is() {
    let sb = Sandbox::new();
    // A logger given "one" and a line without its end, then told to stop.
    let stopped = |t: &str, dir: &str, partial: &[u8]| {
        let mut c = logger(&sb, &["-t", t, dir]).stdin(Stdio::piped()).spawn().unwrap();
        let mut w = c.stdin.take().unwrap();
        w.write_all(b"one\n").and_then(|_| w.write_all(partial)).unwrap();
        let cur = sb.path(dir).join("current");
        wait_until("the first line", SOON, || fs::read_to_string(&cur).unwrap_or_default() == "one\n");
        Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap();
        (c, w)
    };
    // Its end comes within the time: one whole line.
    let (mut c, mut w) = stopped("10000", "./d", b"part");
    w.write_all(b"ial line\n").expect("the logger to be still reading");
    assert!(c.wait().unwrap().success());
    assert_eq!(all_lines(&sb.path("d")), ["one", "partial line"]);

    // It never comes: after the time, the line is logged as it is.
    let (mut c, w) = stopped("300", "./e", b"half a line");
    let mut ended = None;
    wait_until("the logger to give up on the line and exit", SOON, || {
        ended = c.try_wait().unwrap();
        ended.is_some()
    });
    assert!(ended.unwrap().success());
    assert_eq!(all_lines(&sb.path("e")), ["one", "half a line"]);
    drop(w);

    let (code, _, err) = run_with(&sb, &["-t", "x", "./f"], b"");
    assert_eq!(code, 100, "{err}");
    assert!(err.contains("usage:") && err.contains("-t lastlinetimeout"), "{err}");
}

#[test]
fn processor_turns_each_archive_into_its_output() {
    let sb = Sandbox::new();
    let input: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    let (rc, _, err) = run_with(&sb, &["!tr 0-9 a-j; echo processed >&5", "s4096", "./d"], input.as_bytes());
    assert_eq!(rc, 0, "{err}");
    let d = sb.path("d");
    let (archives, others) = log_files(&d);
    assert!(!archives.is_empty());
    assert_eq!(others, ["current", "lock", "state"]);
    assert_eq!(fs::read_to_string(d.join("state")).unwrap(), "processed\n");
    let first = fs::read_to_string(d.join(&archives[0])).unwrap();
    assert!(first.starts_with("b\nc\nd\n"), "{first:?}");
}

/// Host pids of the rinit-log processes whose working directory is `dir`.
/// By the process name, not /proc/PID/exe: under qemu-user that is qemu.
fn loggers_in(dir: &Path) -> Vec<u32> {
    let dir = fs::canonicalize(dir).unwrap();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            comm.trim_end() == "rinit-log" && fs::read_link(format!("/proc/{pid}/cwd")).ok().as_deref() == Some(&dir)
        })
        .collect()
}

#[test]
fn logger_killed_under_the_supervision_tree_loses_nothing() {
    // rinit-scan holds the pipe from the service to its logger; the logger
    // is killed with SIGKILL three times mid-stream and rinit-supervise
    // starts it again on the same pipe.
    const CHUNKS: u64 = 60;
    const PER: u64 = 10_000;
    let mut sb = Sandbox::new();
    sb.service(
        "scan/svc",
        &format!("echo $$ >> ../../svc-starts\ni=0\nwhile [ $i -lt {CHUNKS} ]; do seq $((i*{PER}+1)) $((i*{PER}+{PER})); i=$((i+1)); sleep 0.05; done\nexec sleep 1000"),
    );
    sb.service("scan/svc/log", "echo $$ >> ../../../log-starts\nexec rinit-log n1000 s50000 ./main");
    let _scan = sb.spawn_pid1(args![bin("rinit-scan"), "-t0", "scan"]);
    let logdir = sb.path("scan/svc/log");
    let mut killed = Vec::new();
    for _ in 0..3 {
        let mut pids = Vec::new();
        wait_until("a running logger", Duration::from_secs(5), || {
            pids = loggers_in(&logdir).into_iter().filter(|p| !killed.contains(p)).collect();
            !pids.is_empty() && sb.path("scan/svc/log/main/current").exists()
        });
        let base = all_lines(&logdir.join("main")).len();
        wait_until("the logger to write", SOON, || all_lines(&logdir.join("main")).len() > base + 1000);
        Command::new("kill").args(["-KILL", &pids[0].to_string()]).status().unwrap();
        killed.push(pids[0]);
    }
    let n = CHUNKS * PER;
    let end = std::time::Instant::now() + Duration::from_secs(15);
    while (all_lines(&logdir.join("main")).len() as u64) < n && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = all_lines(&logdir.join("main"));
    if lines.len() as u64 != n {
        let (archives, others) = log_files(&logdir.join("main"));
        panic!(
            "{} lines, last {:?}; files {archives:?} {others:?}; loggers {:?}; killed {killed:?}; service started {:?}; logger started {:?}; scan output: {}",
            lines.len(),
            lines.last(),
            sb.read("svc-starts"),
            sb.read("log-starts"),
            loggers_in(&logdir),
            _scan.output()
        );
    }
    assert_numbered(&lines, 1, n);
}

#[test]
fn total_size_limit_removes_the_oldest_archives() {
    let sb = Sandbox::new();
    let input: String = (1..=2000).map(|i| format!("{i:049}\n")).collect();
    let (rc, _, err) = run_with(&sb, &["n100", "s4096", "S20000", "./d"], input.as_bytes());
    assert_eq!(rc, 0, "{err}");
    let d = sb.path("d");
    let (archives, _) = log_files(&d);
    let total: u64 = archives.iter().map(|a| fs::metadata(d.join(a)).unwrap().len()).sum();
    assert!(total <= 20000 && total > 20000 - 4096, "archives hold {total} bytes");
    let lines = all_lines(&d);
    let first: u64 = lines[0].parse().unwrap();
    assert_numbered(&lines, first, 2000);
}

#[test]
fn readiness_is_notified_once_the_directories_are_open() {
    let sb = Sandbox::new();
    let script = format!("{} -d 3 ./d 3>&1 >/dev/null </dev/null", bin("rinit-log").display());
    let out = Command::new("sh").args(["-c", &script]).current_dir(&sb.dir).output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"\n");
    assert!(sb.path("d/lock").exists());
}

#[test]
fn a_failing_processor_leaves_the_archive_as_u() {
    let sb = Sandbox::new();
    let input: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    let (rc, _, err) = run_with(&sb, &["!exit 3", "n100", "s4096", "./d"], input.as_bytes());
    assert_eq!(rc, 0, "{err}");
    assert!(err.starts_with("rinit-log: warning: processor failed on ./d/previous: archived as .u\n"), "{err}");
    let d = sb.path("d");
    let (archives, others) = log_files(&d);
    assert!(!archives.is_empty() && archives.iter().all(|a| a.ends_with(".u")), "{archives:?}");
    assert_eq!(others, ["current", "lock", "state"]);
    assert_numbered(&all_lines(&d), 1, 3000);
}

/// Runs rinit-log on `input` and kills it if it has not ended within the
/// usual deadline (a logger hung on a FIFO must fail the test, not hang it).
fn run_bounded(sb: &Sandbox, args: &[&str], input: &[u8]) -> (i32, String) {
    let mut c = logger(sb, args).stdin(Stdio::piped()).spawn().expect("spawn rinit-log");
    let _ = c.stdin.take().unwrap().write_all(input);
    let mut code = None;
    wait_until_or_kill(&mut c, &mut code);
    let mut err = String::new();
    use std::io::Read;
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (code.unwrap_or(-1), err)
}

fn wait_until_or_kill(c: &mut Child, code: &mut Option<i32>) {
    let end = std::time::Instant::now() + SOON;
    while std::time::Instant::now() < end {
        if let Ok(Some(st)) = c.try_wait() {
            *code = st.code();
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = c.kill();
    let _ = c.wait();
    panic!("rinit-log still running after {SOON:?}");
}

/// A secret file outside the log directory, mode 0600, and its path.
fn secret(sb: &Sandbox) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let v = sb.write("V", "secret\n");
    fs::set_permissions(&v, fs::Permissions::from_mode(0o600)).unwrap();
    let l = sb.mkdir("L");
    fs::set_permissions(&l, fs::Permissions::from_mode(0o700)).unwrap();
    v
}

fn assert_untouched(v: &Path) {
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::read_to_string(v).unwrap(), "secret\n", "the symlink's target was written");
    assert_eq!(fs::metadata(v).unwrap().permissions().mode() & 0o777, 0o600, "the symlink's target was chmodded");
}

#[test]
fn a_symlink_as_current_or_lock_is_refused_and_its_target_untouched() {
    for name in ["current", "lock", "state"] {
        let sb = Sandbox::new();
        let v = secret(&sb);
        std::os::unix::fs::symlink(&v, sb.path("L").join(name)).unwrap();
        let (rc, err) = run_bounded(&sb, &["./L"], b"hi\n");
        assert_eq!(rc, 111, "{name}: {err}");
        assert_eq!(err, format!("rinit-log: fatal: unable to open ./L/{name}: Not a regular file\n"));
        assert_untouched(&v);
    }
}

#[test]
fn a_fifo_as_current_is_refused_without_blocking() {
    let sb = Sandbox::new();
    sb.mkdir("L");
    let st = Command::new("mkfifo").arg(sb.path("L/current")).status().unwrap();
    assert!(st.success());
    let (rc, err) = run_bounded(&sb, &["./L"], b"hi\n");
    assert_eq!(rc, 111, "{err}");
    assert_eq!(err, "rinit-log: fatal: unable to open ./L/current: Not a regular file\n");
}

#[test]
fn a_symlinked_status_file_is_refused() {
    let sb = Sandbox::new();
    let v = secret(&sb);
    std::os::unix::fs::symlink(&v, sb.path("st")).unwrap();
    let (rc, err) = run_bounded(&sb, &["=./st"], b"hi\n");
    assert_eq!(rc, 111, "{err}");
    assert_eq!(err, "rinit-log: fatal: unable to open ./st: Not a regular file\n");
    assert_untouched(&v);
}

#[test]
fn the_processor_does_not_write_through_a_symlinked_newstate() {
    let sb = Sandbox::new();
    let v = secret(&sb);
    std::os::unix::fs::symlink(&v, sb.path("L/newstate")).unwrap();
    let input: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    let (rc, err) = run_bounded(&sb, &["!cat; echo new >&5", "s4096", "./L"], input.as_bytes());
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains("rinit-log: fatal: unable to open newstate: Not a regular file\n"), "{err}");
    assert_untouched(&v);
    assert_numbered(&all_lines(&sb.path("L")), 1, 3000);
}

#[test]
fn the_lock_is_private_to_the_logger() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let (rc, _, err) = run_with(&sb, &["./d"], b"x\n");
    assert_eq!(rc, 0, "{err}");
    assert_eq!(fs::metadata(sb.path("d/lock")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn takes_s6_logs_option_spellings() {
    let sb = Sandbox::new();
    let input = format!("{}\n", "x".repeat(150));
    for args in [&["-bp", "-l100", "1"][..], &["-b", "-p", "-l", "100", "1"], &["-pbl100", "--", "1"]] {
        let (rc, out, err) = run_with(&sb, args, input.as_bytes());
        assert_eq!(rc, 0, "{args:?}: {err}");
        assert_eq!(out.lines().map(str::len).collect::<Vec<_>>(), [100, 50], "{args:?}");
    }
    let (rc, _, err) = run_with(&sb, &["-x", "1"], b"");
    assert_eq!(rc, 100);
    assert!(err.starts_with("rinit-log: usage: rinit-log "), "{err}");
}

#[test]
fn one_large_write_never_stalls_the_logger() {
    // A writer that must wait for room in the middle of one write(2)
    // wakes the reader only if the pipe was empty when it resumed: a
    // logger that had just looked at a partial line and waited for the
    // next wake-up alone would wait for ever, and the writer with it.
    let data = b"hello world\n".repeat(100_000);
    for _ in 0..6 {
        let sb = Sandbox::new();
        let mut c = logger(&sb, &["s16000000", "./d"]).stdin(Stdio::piped()).spawn().expect("spawn rinit-log");
        let mut w = c.stdin.take().unwrap();
        let d = data.clone();
        // Once the logger has set its pipe up, as a service starting after it would.
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = w.write_all(&d);
        });
        let mut code = None;
        wait_until_or_kill(&mut c, &mut code);
        t.join().unwrap();
        assert_eq!(code, Some(0));
        assert_numbered_count(&all_lines(&sb.path("d")), 100_000);
    }
}

fn assert_numbered_count(lines: &[String], n: usize) {
    assert_eq!(lines.len(), n, "every line logged once");
    assert!(lines.iter().all(|l| l == "hello world"));
}
