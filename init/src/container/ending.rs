//! The last signals: to every process left in the container. As pid 1
//! that is `kill(-1)` (the kernel spares pid 1 itself). As a subreaper it
//! is every descendant, found in `/proc` by following each process's
//! parent up to rinit: `kill(-1)` there would reach the caller's processes.
//! When the mounted `/proc` is not of rinit's pid namespace (its `self`
//! is not rinit's pid), the pids it lists mean other processes: then only
//! the processes rinit knows (CMD or its group, the scanner's session, an
//! rc job) are signalled, and orphans end when KILL reaches their parents.

use base::sys::{self, Pid};
use core::ffi::CStr;

/// Longest `/proc/PID/stat` read (a few hundred bytes in practice).
pub const STAT_MAX: usize = 1024;
/// Longest chain of parents followed from a process up to rinit.
pub const ANCESTRY_MAX: usize = 64;

/// Sends `sig` (then CONT, so a stopped process sees it) to every process
/// of the container but rinit; `known` (pids, or -pgid) when `/proc`
/// cannot tell which those are.
pub fn signal_all(pid1: bool, sig: i32, known: &[Pid]) {
    if pid1 {
        // ESRCH: nothing is left, which is the goal.
        let _ = sys::kill(-1, sig);
        let _ = sys::kill(-1, sys::sig::CONT);
        return;
    }
    let me = sys::getpid();
    let mut buf = [0u8; 24];
    if sys::readlink(c"/proc/self", &mut buf).ok().and_then(base::fmt::parse_u64) != Some(me as u64) {
        for &p in known.iter().filter(|&&p| p != 0) {
            // ESRCH: already gone.
            let _ = sys::kill(p, sig);
            let _ = sys::kill(p, sys::sig::CONT);
        }
        return;
    }
    let Ok(proc) = sys::open_dir(c"/proc") else { return };
    // What /proc cannot list, the KILL round and the reaping still end.
    let _ = sys::read_dir(proc.fd(), &mut |name: &CStr, _, _| {
        let Some(pid) = base::fmt::parse_u64(name.to_bytes()) else { return };
        let pid = pid as Pid;
        if pid != me && descends_from(pid, me) {
            // ESRCH: it ended meanwhile.
            let _ = sys::kill(pid, sig);
            let _ = sys::kill(pid, sys::sig::CONT);
        }
    });
    drop(proc);
}

fn descends_from(mut pid: Pid, ancestor: Pid) -> bool {
    for _ in 0..ANCESTRY_MAX {
        match parent(Some(pid)) {
            Some(p) if p == ancestor => return true,
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

/// The parent of `pid` (None: of rinit), from `/proc/PID/stat` (`pid
/// (comm) state ppid ...`, comm may hold anything: read after its last
/// `)`), as the pid namespace of the mounted `/proc` sees it: 0 when the
/// parent is outside it.
pub fn parent(pid: Option<Pid>) -> Option<Pid> {
    let mut path = crate::Line::new();
    match pid {
        Some(p) => path.push(b"/proc/").u64(p as u64).push(b"/stat").byte(0),
        None => path.push(b"/proc/self/stat").byte(0),
    };
    let mut buf = [0u8; STAT_MAX];
    let text = sys::read_file(sys::cstr(path.as_bytes())?, &mut buf).ok()?;
    let after = text.get(text.iter().rposition(|&c| c == b')')? + 1..)?;
    let ppid = after.split(|&c| c == b' ').filter(|w| !w.is_empty()).nth(1)?;
    base::fmt::parse_u64(ppid).map(|p| p as Pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_parent_from_proc_whatever_the_command_name() {
        assert_eq!(parent(None), Some(std::os::unix::process::parent_id() as Pid));
        assert!(descends_from(sys::getpid(), std::os::unix::process::parent_id() as Pid));
    }
}
