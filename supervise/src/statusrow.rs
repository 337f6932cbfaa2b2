//! What rinit-status knows of one service: its row. A row is filled from
//! s6's files only (the supervisor's `supervise/control` FIFO, the status
//! record, the death tally, `notification-fd`), so a tree run by Debian's
//! s6-supervise reads the same as one run by rinit-supervise; then, with a
//! live rinit-rc state, from the database (type, counted up or not: rinit-rc's
//! `statusview`, for `rinit-rc-db status`).
//!
//! Rows live in one fixed table, their names in one fixed arena: a scan
//! directory larger than either is reported, never cut silently.

use crate::deathtally::{self, Summary};
use base::fmt::nth_word;
use base::status::{self, Status};
use base::sys::{self, errno, Errno};
use base::{cgroup, control, servicedir};

/// Most rows one table holds (services, loggers and rinit-rc's oneshots
/// and bundles together).
pub const MAX_ROWS: usize = 4096;
/// Bytes for every row's name together.
pub const NAMES_CAP: usize = 256 * 1024;

/// Where a service is, in rinit-status' words.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// Not a supervised thing: a oneshot or a bundle of rinit-rc. (First:
    /// an empty table is all zero, in .bss, not in the file.)
    NotLongrun,
    Up,
    Down,
    /// `run` died and `finish` runs (the record keeps the dead pid).
    Finishing,
    /// Up, with `notification-fd`, and no readiness yet.
    StartingNotReady,
    /// Nobody reads `supervise/control`: no supervisor, or a dead one.
    Unsupervised,
    /// The directory could not be read; `Row::error` says why.
    Bad,
}

impl State {
    pub fn word(self) -> &'static [u8] {
        nth_word(b"- up down finishing starting-not-ready unsupervised bad", self as usize)
    }

    /// Since when is it ready, if it is: the readiness stamp of a service
    /// that notifies, the up stamp of one that does not.
    pub fn ready_since(r: &Row) -> Option<base::tai64n::Tai64n> {
        match r.state {
            State::Up if r.notifies => Some(r.st.readystamp),
            State::Up => Some(r.st.stamp),
            _ => None,
        }
    }

    /// Do the status record's fields mean something for this row?
    pub fn supervised(self) -> bool {
        matches!(self, State::Up | State::Down | State::Finishing | State::StartingNotReady)
    }
}


/// rinit-rc's view of a service (`kind` None: no live state, or a
/// service rinit-rc does not know).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rc {
    /// `longrun`, `oneshot` or `bundle`.
    pub kind: Option<&'static [u8]>,
    /// Does the live state count it up?
    pub up: bool,
}

#[derive(Clone, Copy)]
pub struct Row {
    /// `NAME`, or `NAME/log` for a logger: where in the arena (`Rows::name`).
    name: (u32, u32),
    pub state: State,
    pub st: Status,
    pub tally: Summary,
    /// Does `run` notify readiness (`notification-fd`)? Without it, up is ready.
    pub notifies: bool,
    /// What failed and how, for a `Bad` row.
    pub error: Option<(&'static [u8], Errno)>,
    pub rc: Rc,
    /// The service's cgroup's `memory.current` and `pids.current`, when
    /// the tree has a cgroup per service and the controller is enabled.
    pub memory: Option<u64>,
    pub pids: Option<u64>,
}

const EMPTY: Row = Row {
    name: (0, 0),
    state: State::NotLongrun,
    st: Status {
        stamp: base::tai64n::Tai64n { label: 0, nano: 0 },
        readystamp: base::tai64n::Tai64n { label: 0, nano: 0 },
        pid: 0,
        wstat: 0,
        paused: false,
        finishing: false,
        want_up: false,
        ready: false,
    },
    tally: Summary { deaths: 0, last: None },
    notifies: false,
    error: None,
    rc: Rc { kind: None, up: false },
    memory: None,
    pids: None,
};

/// The table: rows in the order they were added until `sort`.
pub struct Rows {
    rows: [Row; MAX_ROWS],
    len: usize,
    arena: [u8; NAMES_CAP],
    used: usize,
    /// Rows (or name bytes) that did not fit.
    pub dropped: usize,
}

impl Default for Rows {
    fn default() -> Self {
        Self::new()
    }
}

impl Rows {
    pub const fn new() -> Rows {
        Rows { rows: [EMPTY; MAX_ROWS], len: 0, arena: [0; NAMES_CAP], used: 0, dropped: 0 }
    }

    pub fn as_slice(&self) -> &[Row] {
        self.rows.get(..self.len).unwrap_or(&[])
    }

    /// Adds a row named `name` (copied into the arena); None, counted in
    /// `dropped`, when either is full.
    pub fn add(&mut self, name: &[u8]) -> Option<&mut Row> {
        let (start, len) = (self.used, self.len);
        let end = start + name.len();
        let (Some(dst), Some(row)) = (self.arena.get_mut(start..end), self.rows.get_mut(len)) else {
            self.dropped += 1;
            return None;
        };
        dst.copy_from_slice(name);
        self.used = end;
        self.len += 1;
        // A row past `len` is still as `new` made it: rows are only added.
        row.name = (start as u32, end as u32);
        Some(row)
    }

    /// The name of `row`.
    // Out of line: its bounds check is longer than a call.
    #[inline(never)]
    pub fn name(&self, row: &Row) -> &[u8] {
        self.arena.get(row.name.0 as usize..row.name.1 as usize).unwrap_or(&[])
    }

    /// The row named `name`, if any.
    pub fn find(&mut self, name: &[u8]) -> Option<&mut Row> {
        let (n, arena) = (self.len, &self.arena);
        let named = |r: &Row| arena.get(r.name.0 as usize..r.name.1 as usize) == Some(name);
        self.rows.get_mut(..n)?.iter_mut().find(|r| named(r))
    }

    /// By name, each logger right under its service (`a/log` before `a-b`).
    #[inline(never)]
    pub fn sort(&mut self) {
        // Insertion sort: no allocation, and a few thousand rows at most.
        for i in 1..self.len {
            let mut j = i;
            while j > 0 && before(self.name_at(j), self.name_at(j - 1)) {
                if let Some([a, b]) = self.rows.get_mut(j - 1..=j) {
                    core::mem::swap(a, b);
                }
                j -= 1;
            }
        }
    }

    fn name_at(&self, i: usize) -> &[u8] {
        self.rows.get(i).map_or(&[], |r| self.name(r))
    }
}

/// `a` sorts before `b`, `/` counting as the smallest byte.
fn before(a: &[u8], b: &[u8]) -> bool {
    let key = |c: u8| if c == b'/' { 0 } else { c };
    for i in 0..a.len().min(b.len()) {
        let (x, y) = (key(a.get(i).copied().unwrap_or(0)), key(b.get(i).copied().unwrap_or(0)));
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

/// The scan directory rinit-status and `rinit-rc-db status` show when
/// none is given.
pub const DEFAULT_SCANDIR: &core::ffi::CStr = c"/run/service";

/// Makes the scan directory `scan` the working directory and adds a row
/// for each service directory in it (dot-directories left out) and for
/// its logger (`NAME/log`), with the cgroup's figures when the tree has
/// a cgroup per service; says whether it has. A scan directory that
/// cannot be read is fatal (exit 111); a service directory is a bad row.
pub fn read_scandir(rows: &mut Rows, scan: &core::ffi::CStr) -> bool {
    if let Err(e) = sys::chdir(scan) {
        base::err::fatal_unable(base::err::EXIT_SYS, &[b"open the scan directory ", scan.to_bytes()], e);
    }
    // A cgroup per service: a file that names none is no error here.
    let tree_fd = cgroup::open_tree().ok().flatten();
    let tree = tree_fd.as_ref().map(sys::OwnedFd::fd);
    let r = sys::open_dir(c".").and_then(|d| {
        sys::read_dir(d.fd(), &mut |name, kind, _| {
            let n = name.to_bytes();
            if n.first() == Some(&b'.') || !crate::scandir::is_dir(name, kind) {
                return;
            }
            add_service(rows, name, tree);
            let mut log = crate::statustext::Line::new();
            log.push(n).push(b"/log\0");
            if let Some(log) = sys::cstr(log.as_bytes())
                && sys::is_dir(log)
            {
                add_service(rows, log, tree);
            }
        })
    });
    if let Err(e) = r {
        base::err::fatal_unable(base::err::EXIT_SYS, &[b"read the scan directory ", scan.to_bytes()], e);
    }
    tree.is_some()
}

/// A row for the service directory `dir` (`NAME` or `NAME/log`), with
/// its cgroup's figures when the tree has a cgroup per service.
#[inline(never)]
fn add_service(rows: &mut Rows, dir: &core::ffi::CStr, tree: Option<sys::Fd>) {
    if let Some(row) = rows.add(dir.to_bytes()) {
        read_service(row, dir);
        if let Some(t) = tree {
            read_cgroup(row, t, dir.to_bytes());
        }
    }
}

/// Fills `row` from the service directory `dir`, open as a descriptor
/// (relative to the scan directory, the working directory): what is read
/// inside it cannot be redirected by a link.
pub fn read_service(row: &mut Row, dir: &core::ffi::CStr) {
    let fd = match sys::open_dir(dir) {
        Ok(fd) => fd,
        Err(e) => return bad(row, b"unable to open the directory", e),
    };
    read_in(row, fd.fd());
}

fn read_in(row: &mut Row, dir: sys::Fd) {
    match control::is_supervised_in(dir) {
        Ok(true) => {}
        Ok(false) => {
            row.state = State::Unsupervised;
            return;
        }
        Err(e) => return bad(row, b"unable to open supervise/control", e),
    }
    let st = match status::read_in(dir) {
        Ok(st) => st,
        Err(e) => return bad(row, b"unable to read supervise/status", e),
    };
    row.tally = match deathtally::summary_in(dir) {
        Ok(t) => t,
        Err(e) => return bad(row, b"unable to read supervise/death_tally", e),
    };
    // A service that notifies readiness and has not yet is only starting.
    let notifies = servicedir::notifies_in(dir);
    row.st = st;
    row.notifies = notifies;
    row.state = match (st.pid, st.finishing) {
        (0, _) => State::Down,
        (_, true) => State::Finishing,
        _ if notifies && !st.ready => State::StartingNotReady,
        _ => State::Up,
    };
}

/// With a cgroup per service (`tree`, the delegated cgroup): the memory and
/// the processes of the service `name` (`NAME` or `NAME/log`), as its
/// cgroup counts them. A cgroup or a file that is not there is nothing.
pub fn read_cgroup(row: &mut Row, tree: sys::Fd, name: &[u8]) {
    // In the line buffer, whose code the table has already (not cgroup::Name).
    let mut n = crate::statustext::Line::new();
    let Some(dir) = cgroup::name(name, &mut n)
        .ok()
        .and_then(|_| sys::cstr(n.as_bytes()))
        .and_then(|c| sys::open_at(tree, c, sys::Open::RDONLY | sys::Open::DIRECTORY | sys::Open::NOFOLLOW, 0).ok())
    else {
        return;
    };
    row.memory = cgroup::read_u64(dir.fd(), c"memory.current").ok();
    row.pids = cgroup::read_u64(dir.fd(), c"pids.current").ok();
    drop(dir);
}

// Out of line: four callers share one copy.
#[inline(never)]
fn bad(row: &mut Row, what: &'static [u8], e: Errno) {
    row.state = State::Bad;
    row.error = Some((what, if e == errno::EOVERFLOW { errno::EPROTO } else { e }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loggers_sort_right_under_their_service() {
        let mut r = Box::new(Rows::new());
        for n in [&b"b"[..], b"a-b", b"a/log", b"a", b"ab"] {
            r.add(n).unwrap();
        }
        r.sort();
        let names: Vec<&[u8]> = r.as_slice().iter().map(|x| r.name(x)).collect();
        assert_eq!(names, [&b"a"[..], b"a/log", b"a-b", b"ab", b"b"]);
    }
}
