//! The scanner's service table: one slot per supervisor it runs (a
//! service's, then its logger's in the very next slot), the names of the
//! service directories, and the pipe the scanner holds open between a
//! service and its logger for as long as the pair exists, so that neither
//! side's restart loses a line. `scan` reads the scan directory and adds
//! what is new; `start_due` (re)starts supervisors, no faster than once a
//! second each; `prune` and `terminate` tell supervisors to go.
//!
//! A service is its directory, not its name: as s6-svscan, the scanner
//! keeps each directory's identity (its inode number), and a directory put
//! in place of another under the same name (a `mv` of a new version, an
//! update that replaced it) gets new supervisors while the old ones, which
//! still run in the directory moved away, are told to go as if it had
//! vanished. Without this a supervisor left in a moved-away directory would
//! stand for the new one for ever.
//!
//! Everything is fixed-size and lives in .bss: untouched slots cost no memory.

use crate::scanctl;
use base::err;
use base::fmt::Buf;
use base::sys::{self, errno, sig, Errno, Fd, FileType, OwnedFd, Pid};
use core::ffi::CStr;

/// Supervisors (loggers included) one scanner runs unless `-C` says otherwise,
/// as s6-svscan; one more is refused with a warning naming the service.
pub const MAX_SERVICES: usize = 1000;
/// The most `-C` may ask for: the size of the static slot table.
pub const SERVICES_CAP: usize = 4096;
/// Longest service directory name (s6-svscan's default); longer ones are skipped with a warning.
pub const NAME_MAX: usize = 251;
/// Bytes for all service names together (each takes its length + 1).
pub const NAMES_CAP: usize = 65535;
/// A supervisor is (re)started no sooner than this after its previous start.
pub const RESTART_MS: u32 = 1000;

/// The one small buffer type of the scanner (one instance of the code):
/// `<name>/log` and its NUL, a script path, a number.
pub type Small = Buf<{ NAME_MAX + 5 }>;

/// The program the scanner runs for each service directory, looked up in $PATH.
pub const SUPERVISOR: &CStr = c"rinit-supervise";

/// This slot supervises `<name>/log`, the logger of the slot before it.
const LOG: u8 = 1;
/// The directory was found by the last scan.
const SEEN: u8 = 2;
/// Told to go: never restarted, freed once its supervisors are reaped.
const DYING: u8 = 4;

/// One supervisor. `fd` is the scanner's end of the logging pipe (the write
/// end in a service's slot, the read end in its logger's), 0 when none: fds
/// 0-2 are always open, so a pipe is never 0.
#[derive(Clone, Copy)]
struct Slot {
    /// The service directory's inode number when the pair was added (its
    /// low half: enough to tell a replacement, and the slot stays small).
    ino: u32,
    pid: Pid,
    fd: i32,
    /// Monotonic milliseconds (wrapping) of the last start attempt.
    started: u32,
    /// Offset of the NUL-terminated name in `names`.
    name: u16,
    len: u8,
    flags: u8,
}

const EMPTY: Slot = Slot { ino: 0, pid: 0, fd: 0, started: 0, name: 0, len: 0, flags: 0 };

/// Why a directory was not taken.
enum Refusal {
    TooMany,
    NamesFull,
}

pub struct Table {
    slots: [Slot; SERVICES_CAP],
    used: usize,
    names: [u8; NAMES_CAP],
    names_used: usize,
    /// Most supervisors to run (`-C`), at most SERVICES_CAP; 0 until set
    /// (the table stays all zeroes, in .bss, not in the file).
    pub max: usize,
}

impl Table {
    pub const fn new() -> Table {
        Table { slots: [EMPTY; SERVICES_CAP], used: 0, names: [0; NAMES_CAP], names_used: 0, max: 0 }
    }

    fn slot(&self, i: usize) -> Slot {
        self.slots.get(i).copied().unwrap_or(EMPTY)
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Slot> {
        if i < self.used { self.slots.get_mut(i) } else { None }
    }

    fn live_mut(&mut self) -> &mut [Slot] {
        let n = self.used;
        self.slots.get_mut(..n).unwrap_or(&mut [])
    }

    /// The directory name of slot `s`, without its NUL.
    fn name(&self, s: Slot) -> &[u8] {
        let a = s.name as usize;
        self.names.get(a..a + s.len as usize).unwrap_or(&[])
    }

    /// How many slots the pair starting at `i` takes: 2 with a logger.
    fn pair_len(&self, i: usize) -> usize {
        if i + 1 < self.used && self.slot(i + 1).flags & LOG != 0 { 2 } else { 1 }
    }

    /// Supervisors still running.
    pub fn running(&self) -> usize {
        self.slots.iter().take(self.used).filter(|s| s.pid != 0).count()
    }

    /// The pair of the directory called `name` that is not told to go.
    fn find(&self, name: &[u8]) -> Option<usize> {
        (0..self.used).find(|&i| {
            let s = self.slot(i);
            s.flags & (LOG | DYING) == 0 && self.name(s) == name
        })
    }

    /// Reads the scan directory: every subdirectory (or link to one) whose
    /// name does not start with `.` gets a pair of slots if it has none.
    /// New slots start at the next `start_due`.
    pub fn scan(&mut self, now: u32) {
        for s in self.live_mut() {
            s.flags &= !SEEN;
        }
        let dir = match sys::open_dir(c".") {
            Ok(d) => d,
            Err(e) => return err::warn_unable(&[b"scan the scan directory"], e),
        };
        let r = sys::read_dir(dir.fd(), &mut |name, kind, ino| self.consider(name, kind, ino as u32, now));
        drop(dir);
        if let Err(e) = r {
            err::warn_unable(&[b"read the scan directory"], e);
        }
    }

    fn consider(&mut self, name: &CStr, kind: FileType, ino: u32, now: u32) {
        let n = name.to_bytes();
        if n.first() == Some(&b'.') || !is_dir(name, kind) {
            return;
        }
        if n.len() > NAME_MAX {
            let mut max = Small::new();
            max.u64(NAME_MAX as u64).byte(b')');
            return err::warn(&[b"unable to supervise ", n, b": name too long (max ", max.as_bytes()]);
        }
        let mut log = Small::new();
        log.push(n).push(b"/log");
        let has_log = stat_kind(&mut log) == Ok(FileType::Directory);
        // Another directory under a known name: the old pair, not seen,
        // is pruned; this one is new.
        let r = match self.find(n).filter(|&i| self.slot(i).ino == ino) {
            Some(i) => {
                if let Some(s) = self.slot_mut(i) {
                    s.flags |= SEEN;
                }
                if let Some(l) = self.slot_mut(i + 1).filter(|l| l.flags & LOG != 0) {
                    l.flags |= SEEN;
                    Ok(())
                } else if has_log && self.slot(i).flags & DYING == 0 {
                    self.add_logger(i, now)
                } else {
                    Ok(())
                }
            }
            None => self.add(n, ino, has_log, now),
        };
        if let Err(r) = r {
            let (why, cap): (&[u8], _) = match r {
                Refusal::TooMany => (b": too many services (max ", self.max),
                Refusal::NamesFull => (b": no room left for service names (max bytes ", NAMES_CAP),
            };
            let mut max = Small::new();
            max.u64(cap as u64).byte(b')');
            err::warn(&[b"unable to supervise ", n, why, max.as_bytes()]);
        }
    }

    /// A `log/` that appeared in the supervised service of slot `i`: its
    /// logger takes the next slot and starts at once, with the pipe. The
    /// service's supervisor gets SIGHUP (exit once the service is down, as
    /// the letter `x`), so that the supervisor started after it sends the
    /// service's output through the pipe: a running process's output cannot
    /// be moved, and the service is not restarted behind anyone's back.
    fn add_logger(&mut self, i: usize, now: u32) -> Result<(), Refusal> {
        let s = self.slot(i);
        let Some(tail) = self.slots.get_mut(i + 1..self.used + 1).filter(|_| self.used < self.max) else {
            return Err(Refusal::TooMany);
        };
        // The slots after the service move one down: the logger is the very next one.
        tail.rotate_right(1);
        if let Some(l) = tail.first_mut() {
            *l = Slot { pid: 0, fd: 0, started: now.wrapping_sub(RESTART_MS), flags: SEEN | LOG, ..s };
        }
        self.used += 1;
        if s.pid != 0 {
            // A supervisor gone already is restarted with the pipe anyway.
            let _ = sys::kill(s.pid, sig::HUP);
        }
        Ok(())
    }

    fn add(&mut self, name: &[u8], ino: u32, has_log: bool, now: u32) -> Result<(), Refusal> {
        let need = if has_log { 2 } else { 1 };
        if self.used + need > self.max.min(SERVICES_CAP) {
            return Err(Refusal::TooMany);
        }
        let off = self.names_used;
        let end = off + name.len();
        let Some(dst) = self.names.get_mut(off..end + 1) else { return Err(Refusal::NamesFull) };
        let (text, nul) = dst.split_at_mut(name.len());
        text.copy_from_slice(name);
        nul.fill(0);
        self.names_used = end + 1;
        // Due at once: "started" a full throttle period ago.
        let s = Slot { ino, pid: 0, fd: 0, started: now.wrapping_sub(RESTART_MS), name: off as u16, len: name.len() as u8, flags: SEEN };
        for k in 0..need {
            let flags = if k == 1 { SEEN | LOG } else { SEEN };
            if let Some(d) = self.slots.get_mut(self.used) {
                *d = Slot { flags, ..s };
            }
            self.used += 1;
        }
        Ok(())
    }

    /// Starts every supervisor that is down and whose throttle has passed;
    /// returns the milliseconds until the next one is due, if any.
    pub fn start_due(&mut self, now: u32) -> Option<u32> {
        let mut next: Option<u32> = None;
        let mut i = 0;
        while i < self.used {
            let s = self.slot(i);
            if s.pid == 0 && s.flags & DYING == 0 {
                let since = now.wrapping_sub(s.started);
                let wait = if since < RESTART_MS {
                    Some(RESTART_MS - since)
                } else if self.start(i, now) {
                    continue; // the pair was dropped: slot i is the next one now
                } else if self.slot(i).pid == 0 && self.slot(i).flags & DYING == 0 {
                    Some(RESTART_MS) // the start failed: try again later
                } else {
                    None
                };
                if let Some(w) = wait {
                    next = Some(next.map_or(w, |n| n.min(w)));
                }
            }
            i += 1;
        }
        next
    }

    /// Starts the supervisor of slot `i`. Returns true if, instead, the
    /// directory had vanished and the pair was dropped.
    fn start(&mut self, i: usize, now: u32) -> bool {
        let s = self.slot(i);
        let svc = if s.flags & LOG != 0 { i.saturating_sub(1) } else { i };
        let mut path = Small::new();
        path.push(self.name(s));
        if !still_a_dir(&mut path) {
            // Gone, not pruned: nothing to restart.
            if (svc..svc + self.pair_len(svc)).all(|j| self.slot(j).pid == 0) {
                self.remove_pair(svc);
                return true;
            }
            if let Some(s) = self.slot_mut(i) {
                s.flags |= DYING;
            }
            return false;
        }
        if let Some(s) = self.slot_mut(i) {
            s.started = now;
        }
        let has_log = self.pair_len(svc) == 2;
        if has_log && self.slot(svc).fd == 0 {
            match sys::pipe() {
                Ok((r, w)) => {
                    // The pair's pipe is held in the slot table, by number
                    // (0: none), for the scanner's life or the pair's: each
                    // supervisor gets its end dup'ed at its start, and
                    // `remove_pair` or a service's end closes them.
                    if let Some(a) = self.slot_mut(svc) {
                        a.fd = w.into_raw().0;
                    }
                    if let Some(b) = self.slot_mut(svc + 1) {
                        b.fd = r.into_raw().0;
                    }
                }
                Err(e) => {
                    err::warn_unable(&[b"create the logging pipe for ", path.as_bytes()], e);
                    return false;
                }
            }
        }
        let redirect = if s.flags & LOG != 0 {
            Some((Fd(self.slot(i).fd), sys::STDIN))
        } else if has_log {
            Some((Fd(self.slot(i).fd), sys::STDOUT))
        } else {
            None
        };
        if s.flags & LOG != 0 {
            path.push(b"/log");
        }
        path.byte(0);
        let Ok(arg) = CStr::from_bytes_until_nul(path.as_bytes()) else { return false };
        match scanctl::spawn(SUPERVISOR, Some(arg), redirect) {
            Ok(pid) => {
                if let Some(s) = self.slot_mut(i) {
                    s.pid = pid;
                }
            }
            Err(e) => err::warn_unable(&[b"spawn a supervisor for ", arg.to_bytes()], e),
        }
        false
    }

    /// Records the death of `pid` if it is one of ours: it will be started
    /// again by `start_due`, or its pair dropped if it was told to go.
    pub fn reaped(&mut self, pid: Pid) {
        let Some(i) = (0..self.used).find(|&i| self.slot(i).pid == pid) else { return };
        if let Some(s) = self.slot_mut(i) {
            s.pid = 0;
        }
        let s = self.slot(i);
        let svc = if s.flags & LOG != 0 { i.saturating_sub(1) } else { i };
        if s.flags & DYING != 0 && (svc..svc + self.pair_len(svc)).all(|j| self.slot(j).pid == 0) {
            self.remove_pair(svc);
        }
    }

    /// Tells the supervisors of directories the last scan did not find to
    /// go: SIGTERM (bring the service down, then exit) to a service's,
    /// SIGHUP (exit once the logger has drained the pipe) to a logger's, or
    /// SIGTERM to both when `term_loggers`.
    pub fn prune(&mut self, term_loggers: bool) {
        let mut i = 0;
        while i < self.used {
            let k = self.pair_len(i);
            let s = self.slot(i);
            if s.flags & (SEEN | DYING) == 0 {
                self.stop_pair(i, term_loggers);
                if (i..i + k).all(|j| self.slot(j).pid == 0) {
                    self.remove_pair(i);
                    continue;
                }
            }
            i += k;
        }
    }

    /// Tells every supervisor to go (see `prune`); the scanner ends once
    /// `running` is 0.
    pub fn terminate(&mut self, term_loggers: bool) {
        let mut i = 0;
        while i < self.used {
            self.stop_pair(i, term_loggers);
            i += self.pair_len(i);
        }
    }

    fn stop_pair(&mut self, i: usize, term_loggers: bool) {
        let k = self.pair_len(i);
        for j in i..i + k {
            let Some(s) = self.slot_mut(j) else { continue };
            if s.flags & DYING != 0 {
                continue;
            }
            s.flags |= DYING;
            let sig = if s.flags & LOG != 0 && !term_loggers { sig::HUP } else { sig::TERM };
            if s.pid != 0 {
                // ESRCH: the supervisor died and is reaped next.
                let _ = sys::kill(s.pid, sig);
            }
            // The logger sees end of file once the service has gone, as
            // the scanner no longer holds the write end.
            if s.flags & LOG == 0 && s.fd != 0 {
                drop(OwnedFd::from_raw(Fd(s.fd)));
                s.fd = 0;
            }
        }
    }

    /// Forgets the pair at `i`: closes its pipe, frees its name and slots.
    fn remove_pair(&mut self, i: usize) {
        let k = self.pair_len(i);
        let s = self.slot(i);
        for j in i..i + k {
            let fd = self.slot(j).fd;
            if fd != 0 {
                drop(OwnedFd::from_raw(Fd(fd)));
            }
        }
        if let Some(tail) = self.slots.get_mut(i..self.used).filter(|t| t.len() >= k) {
            tail.copy_within(k.., 0);
            self.used -= k;
        }
        let (off, gone) = (s.name as usize, s.len as usize + 1);
        if let Some(tail) = self.names.get_mut(off..self.names_used).filter(|t| t.len() >= gone) {
            tail.copy_within(gone.., 0);
            self.names_used -= gone;
        }
        for t in self.live_mut() {
            if t.name as usize > off {
                t.name -= gone as u16;
            }
        }
    }
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

/// Is this directory entry a directory, or a link to one?
pub fn is_dir(name: &CStr, kind: FileType) -> bool {
    match kind {
        FileType::Directory => true,
        FileType::Symlink | FileType::Unknown => sys::is_dir(name),
        _ => false,
    }
}

/// The type of the file named in `path` (NUL-terminated here, in a small
/// buffer: the scanner's stack stays a page or two deep).
pub fn stat_kind<const N: usize>(path: &mut Buf<N>) -> Result<FileType, Errno> {
    let len = path.len();
    path.byte(0);
    let r = match CStr::from_bytes_until_nul(path.as_bytes()) {
        Ok(c) if !path.overflowed => sys::stat(c).map(|st| st.kind),
        _ => Err(errno::ENAMETOOLONG),
    };
    path.truncate(len);
    r
}

/// Should a supervisor be started for `path`? Not when it has vanished;
/// on other trouble, yes: the supervisor will say what is wrong.
fn still_a_dir<const N: usize>(path: &mut Buf<N>) -> bool {
    match stat_kind(path) {
        Ok(kind) => kind == FileType::Directory,
        Err(e) => e != errno::ENOENT && e != errno::ENOTDIR,
    }
}
