//! Switching a live directory to another compiled database so that a
//! crash at any point leaves it on the old database or on the new one,
//! never on one database with the other's state.
//!
//! The switch is a short journal in the live directory, every step one
//! call relative to the directory's fd:
//!
//! 1. `compiled.next`: a symlink to the new database (a switch is under
//!    way and not done);
//! 2. `state.next`: the new database's state (written by `live`, itself
//!    through a temporary file and a rename);
//! 3. `compiled.next` renamed over `compiled`: the commit, one rename;
//! 4. `state.next` renamed over `state`.
//!
//! `recover` (run by whoever takes the live lock) finishes or undoes an
//! interrupted switch: with `compiled.next` still there, nothing was
//! committed, so `state.next` and then `compiled.next` go (the old
//! database stays); without it, a `state.next` left is the committed
//! database's state, renamed over `state`. Readers that take no lock read
//! `state.next` in that case (`live::read_state`).
//!
//! `pending` lists, one name a line, the services that an update will
//! bring up once switched (those of the new database that were up, under
//! their new names). It is written before the update stops anything and
//! removed when it is done, so that the next update, after a crash,
//! brings up what the interrupted one had stopped.

use crate::source::MAX_NAME;
use base::sys::{self, Errno, Fd, Open, errno};
use core::ffi::CStr;

pub const NEXT_COMPILED: &CStr = c"compiled.next";
pub const NEXT_STATE: &CStr = c"state.next";
const COMPILED: &CStr = c"compiled";
const STATE: &CStr = c"state";
const PENDING: &CStr = c"pending";
const PENDING_TMP: &CStr = c"pending.new";

/// Removes `name` from `dir`; absent is fine.
fn remove(dir: Fd, name: &CStr) -> Result<(), Errno> {
    match sys::unlink_in(dir, name) {
        Ok(()) => Ok(()),
        Err(e) if e == errno::ENOENT => Ok(()),
        Err(e) => Err(e),
    }
}

/// Is a committed switch's state still to be put in place (step 4 not
/// done)?
pub fn committed_unsettled(dir: Fd) -> bool {
    !sys::exists_in(dir, NEXT_COMPILED) && sys::exists_in(dir, NEXT_STATE)
}

/// Finishes or undoes an interrupted switch (see above).
pub fn recover(dir: Fd) -> Result<(), Errno> {
    if sys::exists_in(dir, NEXT_COMPILED) {
        // The state first: a crash in between leaves `compiled.next`, which
        // says again "not committed".
        remove(dir, NEXT_STATE)?;
        return remove(dir, NEXT_COMPILED);
    }
    settle(dir)
}

/// Step 1: `compiled.next` pointing at `target` (absolute).
pub fn begin(dir: Fd, target: &CStr) -> Result<(), Errno> {
    recover(dir)?;
    sys::symlink_in(target, dir, NEXT_COMPILED)
}

/// Step 3: the commit.
pub fn commit(dir: Fd) -> Result<(), Errno> {
    sys::rename_in(dir, NEXT_COMPILED, COMPILED)
}

/// Step 4 (idempotent: nothing left to do is done).
pub fn settle(dir: Fd) -> Result<(), Errno> {
    match sys::rename_in(dir, NEXT_STATE, STATE) {
        Err(e) if e == errno::ENOENT => Ok(()),
        r => r,
    }
}

/// Replaces `pending` with `names` (temporary file, then rename).
pub fn write_pending(dir: Fd, names: &mut dyn Iterator<Item = &[u8]>) -> Result<(), Errno> {
    let fd = sys::open_at(dir, PENDING_TMP, Open::WRONLY | Open::CREATE | Open::TRUNC | Open::NOFOLLOW, 0o600)?;
    let mut r = Ok(());
    for n in names {
        r = r.and_then(|_| sys::write_all(fd, n)).and_then(|_| sys::write_all(fd, b"\n"));
    }
    sys::close(fd);
    r.and_then(|_| sys::rename_in(dir, PENDING_TMP, PENDING))
}

/// Calls `each` with every name of `pending` (none when there is none).
/// EPROTO for a line longer than a service name can be.
pub fn read_pending(dir: Fd, each: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    let fd = match sys::open_regular_at(dir, PENDING, Open::RDONLY, 0) {
        Ok(fd) => fd,
        Err(e) if e == errno::ENOENT => return Ok(()),
        Err(e) => return Err(e),
    };
    let r = lines(fd, each);
    sys::close(fd);
    r
}

fn lines(fd: Fd, each: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    let mut chunk = [0u8; 4096];
    let mut name = [0u8; MAX_NAME];
    let mut len = 0usize;
    loop {
        let n = sys::read(fd, &mut chunk)?;
        if n == 0 {
            if len != 0 {
                each(name.get(..len).unwrap_or(&[]));
            }
            return Ok(());
        }
        for &c in chunk.get(..n).unwrap_or(&[]) {
            if c == b'\n' {
                if len != 0 {
                    each(name.get(..len).unwrap_or(&[]));
                }
                len = 0;
            } else {
                *name.get_mut(len).ok_or(errno::EPROTO)? = c;
                len += 1;
            }
        }
    }
}

/// The update is done: no `pending` left.
pub fn clear_pending(dir: Fd) -> Result<(), Errno> {
    remove(dir, PENDING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn dir(name: &str) -> (std::path::PathBuf, Fd) {
        let d = std::env::temp_dir().join(format!("rinit-switch-{}-{name}", std::process::id()));
        // Absent the first time: nothing to remove.
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        let c = std::ffi::CString::new(d.to_str().unwrap()).unwrap();
        let fd = sys::open_dir(&c).unwrap();
        (d, fd)
    }

    #[test]
    fn an_uncommitted_switch_is_undone_and_a_committed_one_settled() {
        let (d, fd) = dir("recover");
        symlink("/old", d.join("compiled")).unwrap();
        fs::write(d.join("state"), "10").unwrap();
        // Killed after writing the next state, before the commit: back to the old.
        begin(fd, c"/new").unwrap();
        fs::write(d.join("state.next"), "011").unwrap();
        recover(fd).unwrap();
        assert_eq!(fs::read_link(d.join("compiled")).unwrap().to_str(), Some("/old"));
        assert_eq!(fs::read(d.join("state")).unwrap(), b"10");
        assert!(!d.join("state.next").exists() && fs::symlink_metadata(d.join("compiled.next")).is_err());
        // Killed right after the commit: on to the new, with its state.
        begin(fd, c"/new").unwrap();
        fs::write(d.join("state.next"), "011").unwrap();
        assert!(!committed_unsettled(fd));
        commit(fd).unwrap();
        assert!(committed_unsettled(fd));
        recover(fd).unwrap();
        assert_eq!(fs::read_link(d.join("compiled")).unwrap().to_str(), Some("/new"));
        assert_eq!(fs::read(d.join("state")).unwrap(), b"011");
        // Nothing under way: nothing done.
        recover(fd).unwrap();
        assert_eq!(fs::read(d.join("state")).unwrap(), b"011");
        sys::close(fd);
    }

    #[test]
    fn pending_names_read_back_and_a_line_too_long_is_refused() {
        let (d, fd) = dir("pending");
        let mut none = Vec::new();
        read_pending(fd, &mut |n| none.push(n.to_vec())).unwrap();
        assert!(none.is_empty());
        let names: Vec<Vec<u8>> = (0..2000).map(|i| format!("service-{i}").into_bytes()).collect();
        write_pending(fd, &mut names.iter().map(|n| n.as_slice())).unwrap();
        let mut back = Vec::new();
        read_pending(fd, &mut |n| back.push(n.to_vec())).unwrap();
        assert_eq!(back, names);
        fs::write(d.join("pending"), vec![b'x'; MAX_NAME + 1]).unwrap();
        assert_eq!(read_pending(fd, &mut |_| {}), Err(errno::EPROTO));
        clear_pending(fd).unwrap();
        clear_pending(fd).unwrap();
        sys::close(fd);
    }
}
