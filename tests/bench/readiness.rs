//! bench-readiness: how fast a supervisor turns a service's readiness into
//! s6's `U` event: `READY=1` sent on rinit's sd_notify socket, beside a
//! newline written on `notification-fd` (rinit-supervise, and Debian's
//! s6-supervise when present), measured in the same run.
//!
//!     cargo build --release && cargo run --release -p rinit-tests --bin bench-readiness
//!
//! Every service's `run` is a small C program (built here with gcc) that
//! waits for SIGUSR1, reads CLOCK_MONOTONIC, sends its readiness and writes
//! that time to `sent`. The bench listens on the service's `event/`
//! fifodir (a blocking read, s6's ftrig protocol) and reads the same clock
//! when `U` arrives. One service per sample, each supervisor on its own.
//!
//! Options: `--trials K` (samples per source, default 25), `--readme`
//! (write the table into README.md between its bench-readiness markers),
//! `-v` (every sample).

use rinit_tests::{bin_dir, median, status};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY_C: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, 0);
    int sock = argc > 1 && !strcmp(argv[1], "sock"), fd;
    if (sock) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *p = getenv("NOTIFY_SOCKET");
        if (!p) return 111;
        strncpy(sa.sun_path, p, sizeof sa.sun_path - 1);
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return 111;
    } else {
        fd = argc > 2 ? atoi(argv[2]) : 3;
    }
    /* The bench signals only once this file exists: SIGUSR1 is blocked. */
    fclose(fopen("waiting", "w"));
    int sig;
    sigwait(&s, &sig);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (sock) send(fd, "READY=1", 7, 0); else write(fd, "\n", 1);
    FILE *f = fopen("sent.new", "w");
    fprintf(f, "%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
    fclose(f);
    rename("sent.new", "sent");
    for (;;) pause();
}
"#;

const DEADLINE: Duration = Duration::from_secs(10);

/// One way of signalling readiness, under one supervisor.
struct Source {
    name: &'static str,
    supervisor: PathBuf,
    /// Extra files of the service directory, and `run`'s arguments.
    files: &'static [(&'static str, &'static str)],
    mode: &'static str,
}

fn main() {
    let mut trials = 25;
    let mut readme = false;
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trials" => trials = args.next().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or_else(|| usage()),
            "--readme" => readme = true,
            "-v" => verbose = true,
            _ => usage(),
        }
    }
    let base = ["/dev/shm", "/run/shm"].iter().map(PathBuf::from).find(|d| d.is_dir()).unwrap_or_else(std::env::temp_dir);
    let work = base.join(format!("rinit-bench-readiness-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).expect("create work dir");
    let ready = cc(&work, "ready", READY_C);

    let rinit = bin_dir().join("rinit-supervise");
    let s6 = PathBuf::from("/usr/bin/s6-supervise");
    let sources = [
        Source { name: "rinit: READY=1 on notify-socket → U", supervisor: rinit.clone(), files: &[("notify-socket", "")], mode: "sock" },
        Source { name: "rinit: newline on notification-fd → U", supervisor: rinit.clone(), files: &[("notification-fd", "3\n")], mode: "fd" },
        Source { name: "s6: newline on notification-fd → U", supervisor: s6.clone(), files: &[("notification-fd", "3\n")], mode: "fd" },
    ];
    let mut rows = Vec::new();
    let mut failed = false;
    for (k, src) in sources.iter().enumerate() {
        if !src.supervisor.is_file() {
            eprintln!("bench: {} is missing", src.supervisor.display());
            rows.push((src.name, None));
            failed |= k < 2;
            continue;
        }
        let mut samples = Vec::new();
        for t in 0..trials {
            let dir = work.join(format!("{k}-{t}"));
            match sample(src, &dir, &ready) {
                Ok(s) => samples.push(s),
                Err(e) => {
                    eprintln!("bench: {}: {e}", src.name);
                    failed = true;
                }
            }
        }
        if verbose {
            eprintln!("bench: {}: µs {:?}", src.name, samples.iter().map(|s| (s * 1e6) as u64).collect::<Vec<_>>());
        }
        rows.push((src.name, median(&samples)));
    }
    let _ = fs::remove_dir_all(&work);

    let s6v = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "s6"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut out = format!(
        "readiness to U: median of {trials} samples per source, one service each, on a tmpfs; Debian's s6 {s6v}\n\n"
    );
    let w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    out += &format!("| {:w$} | {:>10} |\n|{}|{}|\n", "readiness → U event seen", "median", "-".repeat(w + 2), "-".repeat(12));
    for (name, v) in &rows {
        let v = v.map(|s| format!("{:.0} µs", s * 1e6)).unwrap_or_else(|| "missing".into());
        out += &format!("| {}{} | {v:>10} |\n", name, " ".repeat(w.saturating_sub(name.chars().count())));
    }
    print!("{out}");
    if readme && !failed {
        write_readme(&out);
    }
    std::process::exit(if failed { 1 } else { 0 });
}

fn usage() -> ! {
    eprintln!("usage: bench-readiness [--trials K] [--readme] [-v]");
    std::process::exit(100)
}

/// Starts a supervisor on a fresh service, waits until it is up and not
/// ready, listens on `event/`, signals `run`, and returns the seconds from
/// its send to `U` read by the listener.
fn sample(src: &Source, dir: &Path, ready: &Path) -> Result<f64, String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for (f, c) in src.files {
        fs::write(dir.join(f), c).map_err(|e| e.to_string())?;
    }
    let run = dir.join("run");
    fs::write(&run, format!("#!/bin/sh\nexec {} {} 3\n", ready.display(), src.mode)).map_err(|e| e.to_string())?;
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let mut sup = Supervisor(
        Command::new(&src.supervisor).arg(dir).stdin(Stdio::null()).stdout(Stdio::null()).spawn().map_err(|e| e.to_string())?,
        dir.to_path_buf(),
    );
    let end = Instant::now() + DEADLINE;
    let pid = loop {
        match status(dir) {
            Some(s) if s.pid != 0 && !s.ready => break s.pid,
            _ if Instant::now() > end => return Err("the service did not come up".into()),
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    // Let run block SIGUSR1 and reach its sigwait.
    wait_for(end, || dir.join("waiting").exists())?;
    let fifo = dir.join("event/ftrig1:@400000006b075ab30d099b02:bench1");
    let ok = Command::new("mkfifo").arg("-m").arg("0622").arg(&fifo).status().map_err(|e| e.to_string())?;
    if !ok.success() {
        return Err("mkfifo failed".into());
    }
    // Read and write: the open does not wait for a writer; reads wait in poll.
    use rustix::fs::{Mode, OFlags};
    let f = rustix::fs::open(fifo.as_os_str().as_encoded_bytes(), OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).map_err(|e| e.to_string())?;
    let pid = rustix::process::Pid::from_raw(pid as i32).ok_or("bad pid")?;
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let seen = loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no U event".into());
        }
        let ts = rustix::time::Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 };
        let mut pfd = [rustix::event::PollFd::new(&f, rustix::event::PollFlags::IN)];
        rustix::event::poll(&mut pfd, Some(&ts)).map_err(|e| e.to_string())?;
        let n = match rustix::io::read(&f, &mut buf) {
            Ok(n) => n,
            Err(rustix::io::Errno::AGAIN) => 0,
            Err(e) => return Err(e.to_string()),
        };
        if buf[..n].contains(&b'U') {
            break mono_ns();
        }
    };
    let mut sent = String::new();
    wait_for(end, || {
        sent = fs::read_to_string(dir.join("sent")).unwrap_or_default();
        !sent.is_empty()
    })?;
    let sent: u64 = sent.trim().parse().map_err(|_| "bad sent file")?;
    sup.stop();
    Ok(seen.saturating_sub(sent) as f64 / 1e9)
}

/// A supervisor that is told to stop its service and exit when dropped.
struct Supervisor(Child, PathBuf);

impl Supervisor {
    fn stop(&mut self) {
        if let Ok(mut c) = fs::OpenOptions::new().write(true).custom_flags(0o4000).open(self.1.join("supervise/control")) {
            let _ = c.write_all(b"dx");
        }
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

fn wait_for(end: Instant, mut f: impl FnMut() -> bool) -> Result<(), String> {
    while !f() {
        if Instant::now() > end {
            return Err("timed out".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

fn mono_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn cc(dir: &Path, name: &str, src: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    let out = dir.join(name);
    fs::write(&c, src).expect("write C source");
    let st = Command::new("gcc").args(["-O2", "-static", "-o"]).arg(&out).arg(&c).status().expect("gcc (scripts/deps installs it)");
    assert!(st.success(), "gcc failed on {name}.c");
    out
}

/// Replaces what lies between the README's bench-readiness markers.
fn write_readme(table: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let Ok(text) = fs::read_to_string(&path) else { return };
    let (begin, end) = ("<!-- bench-readiness begin -->\n", "<!-- bench-readiness end -->");
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        eprintln!("bench: README.md has no bench-readiness markers");
        return;
    };
    let when = Command::new("date").args(["-u", "+%Y-%m-%d at %H:%M UTC"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
    let body = format!("As measured on {when} (a 2-core VM shared with other work):\n\n```\n{table}```\n");
    let new = format!("{}{begin}{body}{}", &text[..a], &text[b..]);
    if let Err(e) = fs::write(&path, new) {
        eprintln!("bench: unable to write README.md: {e}");
    }
}
