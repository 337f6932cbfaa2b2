//! Stage 3, the shutdown sequence, in two halves:
//! - `prepare` (the shutdown daemon, a service of the tree): `rc.shutdown`
//!   (which stops the services in order), then hand the request to pid 1
//!   through `/run/rinit/action` and ask the scanner to exec its `finish`;
//! - `finish` (pid 1, which the scanner became): TERM to every process, a
//!   grace time that ends as soon as every process is gone, KILL,
//!   `rc.shutdown.final`, unmount everything in reverse order, sync, and
//!   reboot(2) with the asked action, or exit with the container's code.
//! Doing the killing in pid 1 is what lets it know when everything is gone:
//! every orphan is its child, so wait(2) saying "no child" means "no process".

use crate::layout;
use crate::mounts;
use crate::request::{self, Action, Request};
use crate::spawn;
use base::control;
use base::err;
use base::fmt;
use base::path::PathBuf;
use base::sys::{self, errno, Open, OwnedFd, RebootAction};
use base::watchdog::{self, Watchdog};
use core::sync::atomic::{AtomicI32, Ordering};

/// How long the KILL round waits for the last processes to be reaped.
pub const KILL_WAIT_MS: u64 = 2000;
/// Longest run allowed to `rc.shutdown` or `rc.shutdown.final` (ms): a
/// service that will not stop must not keep the machine from stopping.
pub const SCRIPT_TIME_MAX_MS: u64 = 120_000;

/// Runs `<basedir>` + `script` (e.g. `/scripts/rc.shutdown`) if present,
/// for at most `SCRIPT_TIME_MAX_MS`, logging how it ended.
pub fn run_script(basedir: &[u8], script: &[u8]) {
    let Ok(p) = PathBuf::join(basedir, &[script]) else {
        return err::warn(&[b"basedir path too long"]);
    };
    if sys::access_exec(p.as_cstr()).is_err() {
        return err::info(&[b"no ", p.as_bytes(), b": skipped"]);
    }
    err::info(&[b"running ", p.as_bytes()]);
    let mut argv = sys::ArgvBuf::<2>::new();
    argv.push(p.as_cstr());
    let pid = match spawn::start(p.as_cstr(), argv.as_argv(), None, b"") {
        Ok(pid) => pid,
        Err(e) => return err::warn_unable(&[b"spawn ", p.as_bytes()], e),
    };
    let end = sys::now_mono_ns() + SCRIPT_TIME_MAX_MS * 1_000_000;
    let st = loop {
        match sys::wait_pid_nohang(pid) {
            Ok(Some(st)) => break st,
            Ok(None) if sys::now_mono_ns() < end => {
                pet();
                sys::sleep_ms(REAP_EVERY_MS)
            }
            Ok(None) => {
                err::warn(&[p.as_bytes(), b" is still running after the time allowed: killing it, going on"]);
                // ESRCH: it ended meanwhile.
                let _ = sys::kill(pid, sys::sig::KILL);
                return;
            }
            Err(e) => return err::warn_unable(&[b"wait for ", p.as_bytes()], e),
        }
    };
    if st.exited() != Some(0) {
        let mut b = crate::Line::new();
        spawn::describe(&mut b, st);
        err::warn(&[p.as_bytes(), b" ", b.as_bytes()]);
    }
}

/// The daemon's half. Returns when pid 1 has been asked to take over.
pub fn prepare(basedir: &[u8], r: &Request) {
    let mut r = *r;
    if r.grace_ms == request::GRACE_DEFAULT {
        r.grace_ms = crate::conf::grace_ms(basedir);
    }
    let mut b = crate::Line::new();
    b.push(b"shutting down: ").push(r.action.name()).push(b" (grace time ").u64(r.grace_ms).push(b" ms)");
    crate::uptime::push_now(&mut b);
    err::info(&[b.as_bytes()]);
    run_script(basedir, layout::RC_SHUTDOWN);
    if let Err(e) = request::write_action(&r) {
        err::warn_unable(&[b"write ", layout::ACTION.to_bytes()], e);
    }
    err::info(&[b"asking the scanner to hand over to its finish"]);
    if let Err(e) = control::send_scanner(layout::SCANDIR, b"b") {
        err::warn_unable(&[b"write to ", layout::SCANDIR, b"/.s6-svscan/control"], e);
    }
}

/// Reaps every child that has ended; true when none is left at all.
fn reap_all() -> bool {
    loop {
        match sys::wait_any_nohang() {
            Ok(Some(_)) => continue,
            Ok(None) => return false,
            Err(errno::ECHILD) => return true,
            Err(_) => return false,
        }
    }
}

/// How often the grace time looks for processes that are left (ms).
pub const REAP_EVERY_MS: u64 = 5;

/// Waits until every process is gone or `ms` has passed; true if all gone.
fn wait_all_gone(ms: u64) -> bool {
    // The grace time comes from a request or conf/grace: saturate, never wrap.
    let end = sys::now_mono_ns().saturating_add(ms.saturating_mul(1_000_000));
    loop {
        if reap_all() {
            return true;
        }
        if sys::now_mono_ns() >= end {
            return false;
        }
        pet();
        sys::sleep_ms(REAP_EVERY_MS);
    }
}

/// Names each process the grace time left (`left: pid 42 (sleep)`), from
/// /proc. Kernel threads (kthreadd, pid 2, and its children) are not ours
/// to kill. Says nothing when /proc belongs to another pid namespace (a
/// container whose /proc was not mounted for it): its pids mean nothing here.
#[inline(never)]
fn name_leftovers() {
    let mut me = [0u8; 16];
    if sys::readlink(c"/proc/self", &mut me) != Ok(b"1") {
        return;
    }
    let Ok(dir) = sys::open_dir(c"/proc") else { return };
    // Naming the leftovers is a courtesy before KILL: a /proc that cannot
    // be read to the end names fewer of them, and KILL follows all the same.
    let _ = sys::read_dir(dir.fd(), &mut |name, _, _| {
        let pid = name.to_bytes();
        if pid == b"1" || pid == b"2" || !pid.first().is_some_and(u8::is_ascii_digit) {
            return;
        }
        let mut path = crate::Line::new();
        path.push(b"/proc/").push(pid).push(b"/stat\0");
        let mut buf = [0u8; 512];
        let Some(stat) = sys::cstr(path.as_bytes()).and_then(|p| sys::read_file(p, &mut buf).ok()) else { return };
        // `pid (comm) state ppid ...`: comm may hold anything but its last `)`.
        let close = stat.iter().rposition(|&c| c == b')').unwrap_or(0);
        let comm = stat.get(pid.len() + 2..close).unwrap_or(b"?");
        // After `) S `: the parent's pid.
        if !stat.get(close + 4..).is_some_and(|r| r.starts_with(b"2 ")) {
            err::info(&[b"left after the grace time: pid ", pid, b" (", comm, b")"]);
        }
    });
    drop(dir);
}

/// Longest wait for the catch-all logger to pass on what the tree said
/// before pid 1 speaks on the console itself (ms): a logger that is gone
/// or stuck on a full disk must not hold the shutdown.
pub const CATCHALL_DRAIN_MAX_MS: u64 = 2000;

/// Waits until the catch-all logger's FIFO, pid 1's stdout, is empty. The
/// lines of `rc.shutdown` (services stopping) are in it; pid 1's own go
/// straight to the console, and would come first if the logger were behind.
/// rinit-log takes a line out of its pipe only once it has written it
/// everywhere, console included: an empty FIFO means all of it is shown.
fn wait_catchall_drained() {
    if !sys::fstat(sys::STDOUT).is_ok_and(|st| st.kind == sys::FileType::Fifo) {
        return;
    }
    let end = sys::now_mono_ns() + CATCHALL_DRAIN_MAX_MS * 1_000_000;
    while sys::pipe_unread(sys::STDOUT).is_ok_and(|n| n > 0) && sys::now_mono_ns() < end {
        pet();
        sys::sleep_ms(REAP_EVERY_MS);
    }
}

fn console_to_stdout() {
    match sys::open(c"/dev/console", Open::WRONLY | Open::NOCTTY, 0) {
        Ok(fd) => {
            // dup2 onto 1 and 2 from a fresh descriptor cannot fail.
            let _ = sys::dup2(fd.fd(), sys::STDOUT);
            let _ = sys::dup2(fd.fd(), sys::STDERR);
        }
        Err(e) => err::warn_unable(&[b"open /dev/console"], e),
    }
}

fn container_exit_code() -> i32 {
    let mut buf = [0u8; 16];
    match sys::read_file(layout::EXITCODE, &mut buf) {
        Ok(t) => fmt::parse_u64_line(t).map(|v| v.min(255) as i32).unwrap_or(0),
        Err(_) => 0,
    }
}

/// The watchdog stage 3 pets (-1: none).
static WATCHDOG_FD: AtomicI32 = AtomicI32::new(-1);

/// A keepalive for the watchdog, if there is one. Stage 3's waits are
/// short polls: a keepalive each time round costs one ioctl.
fn pet() {
    let fd = WATCHDOG_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let mut unused = 0;
        // A keepalive that fails is a reset to come: nothing to do about it.
        let _ = sys::ioctl_int(sys::Fd(fd), sys::wdioc::KEEPALIVE, &mut unused);
    }
}

/// The basedir's watchdog, as the scanner handed it over (open on
/// `watchdog::HANDOVER_FD`), or opened anew: stage 3 keeps it alive until
/// reboot(2).
fn take_watchdog() -> Option<Watchdog> {
    let conf = crate::conf::get(layout::BASEDIR_LINK.to_bytes(), crate::conf::WATCHDOG)?;
    if !watchdog::SUPPORTED {
        watchdog::lacking(b"conf/watchdog");
        return None;
    }
    let handed = sys::fstat(watchdog::HANDOVER_FD).is_ok_and(|st| st.kind == sys::FileType::CharacterDevice);
    let w = watchdog::parse(conf.as_bytes()).and_then(|s| Watchdog::open(&s, handed.then_some(OwnedFd::from_raw(watchdog::HANDOVER_FD))));
    match w {
        Ok(w) => {
            WATCHDOG_FD.store(w.fd.fd().0, Ordering::Relaxed);
            Some(w)
        }
        Err(e) => {
            err::warn_unable(&[b"use the watchdog ", conf.as_bytes()], e);
            None
        }
    }
}

/// Pid 1's half: never returns.
pub fn finish() -> ! {
    // Stage 3 goes on whatever fails: the machine must stop.
    let _ = sys::chdir(c"/");
    let _ = sys::sig_default(sys::sig::PIPE, false);
    let container = sys::lstat(layout::CONTAINER_FLAG).is_ok();
    if !container {
        // The catch-all logger reads until every writer is gone: pid 1
        // must stop being one, and the console is where the last words go.
        // They go after the tree's: what stage 2 said is still on its way.
        wait_catchall_drained();
        console_to_stdout();
    }
    let wd = take_watchdog();
    // Read now: /run, where the basedir link is, is unmounted before reboot(2).
    let disarm_asked = crate::conf::exists(layout::BASEDIR_LINK.to_bytes(), crate::conf::WATCHDOG_DISARM);
    let r = request::read_action().unwrap_or(Request {
        action: Action::PowerOff,
        grace_ms: crate::conf::DEFAULT_GRACE_MS,
        delay_ms: 0,
    });

    err::info(&[b"sending all processes the TERM signal"]);
    // ESRCH: no process left, which is the goal.
    let _ = sys::kill(-1, sys::sig::TERM);
    let _ = sys::kill(-1, sys::sig::CONT);
    let t0 = sys::now_mono_ns();
    let gone = wait_all_gone(r.grace_ms);
    let mut b = crate::Line::new();
    if gone {
        b.push(b"every process exited after ").u64((sys::now_mono_ns() - t0) / 1_000_000).push(b" ms");
    } else {
        b.push(b"grace time of ").u64(r.grace_ms).push(b" ms elapsed");
    }
    err::info(&[b.as_bytes()]);
    if !gone {
        name_leftovers();
    }
    err::info(&[b"sending all processes the KILL signal"]);
    // ESRCH: no process left, which is the goal.
    let _ = sys::kill(-1, sys::sig::KILL);
    if !wait_all_gone(KILL_WAIT_MS) {
        err::warn(&[b"some processes survived SIGKILL"]);
    }

    run_script(layout::BASEDIR_LINK.to_bytes(), layout::RC_SHUTDOWN_FINAL);
    reap_all();
    let code = if container { container_exit_code() } else { 0 };
    let mut b = crate::Line::new();
    if container {
        b.push(b"exiting with code ").u64(code as u64);
    } else {
        mounts::unmount_all();
        b.push(b"system ").push(r.action.name());
    }
    err::info(&[b"syncing disks"]);
    pet();
    sys::sync();
    crate::uptime::push_now(&mut b);
    err::info(&[b.as_bytes()]);
    if container {
        sys::exit(code);
    }
    let how = match r.action {
        Action::Halt => RebootAction::Halt,
        Action::Reboot => RebootAction::Reboot,
        Action::PowerOff | Action::Cancel => RebootAction::PowerOff,
    };
    if let Some(w) = wd.filter(|_| disarm_asked) {
        disarm(w);
    }
    pet();
    if let Err(e) = sys::reboot(how) {
        err::warn_unable(&[r.action.name()], e);
    }
    // Pid 1 must not exit: that would panic the kernel. No more keepalives:
    // a watchdog resets a machine that could not stop.
    loop {
        sys::sleep_ms(60_000);
        reap_all();
    }
}

/// `rinit-maker -V`: the magic close just before reboot(2), when the
/// device knows it; otherwise the watchdog stays armed through the reboot.
fn disarm(w: Watchdog) {
    if w.disarm() {
        WATCHDOG_FD.store(-1, Ordering::Relaxed);
        err::info(&[b"watchdog disarmed"]);
    } else {
        err::warn(&[b"the watchdog has no magic close: it stays armed"]);
    }
}
