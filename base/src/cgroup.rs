//! cgroup v2, as the supervision tree uses it: the file that delegates a
//! cgroup to a scan directory, the name of each service's cgroup inside
//! it, and the few interface files read or written (`cgroup.procs`,
//! `cgroup.events`, `cgroup.kill`, `cgroup.freeze`). Every interface file
//! is opened relative to the cgroup's directory descriptor, never through
//! a symlink.

use crate::fmt::{self, Buf};
use crate::sys::{self, errno, sig, Errno, Fd, Open, OwnedFd, Pid};
use core::ffi::CStr;

/// In a scan directory: the absolute path of the cgroup v2 directory
/// delegated to the tree. Each service gets a child cgroup of it.
pub const TREE_FILE: &CStr = c".s6-svscan/cgroup";
/// Longest path `TREE_FILE` may hold.
pub const TREE_PATH_MAX: usize = 512;
/// Longest cgroup name (the kernel's NAME_MAX); a service whose mapped
/// name is longer runs without a cgroup, with a warning.
pub const NAME_MAX: usize = 255;
/// The name buffer: a name and its NUL.
pub type Name = Buf<{ NAME_MAX + 1 }>;
/// A stage-1 mount point for cgroup2 when nothing is mounted there.
pub const MOUNT_POINT: &CStr = c"/sys/fs/cgroup";
/// The magic number of a cgroup2 file system (statfs f_type).
pub const CGROUP2_MAGIC: u64 = linux_raw_sys::general::CGROUP2_SUPER_MAGIC as u64;
/// The statfs type of sysfs: /sys/fs/cgroup with nothing mounted on it.
pub const SYSFS_MAGIC: u64 = linux_raw_sys::general::SYSFS_MAGIC as u64;

/// The cgroup name of the service started as `service` by a scanner (its
/// directory name, or `<name>/log` for its logger): every byte other than
/// letters, digits and `-_@:+,` becomes `%xx`, and the components are
/// joined with `.`, so `web/log` is `web.log`, a service called `web.log`
/// is `web%2elog`, and no name can be one of the interface files (they
/// all hold a dot) or `.`/`..`. Into any buffer (`Name` fits every name);
/// ENAMETOOLONG past NAME_MAX.
pub fn name<const N: usize>(service: &[u8], out: &mut Buf<N>) -> Result<(), Errno> {
    out.clear();
    for part in service.split(|&c| c == b'/').filter(|p| !p.is_empty() && *p != b".") {
        if !out.is_empty() {
            out.byte(b'.');
        }
        for &c in part {
            if c.is_ascii_alphanumeric() || b"-_@:+,".contains(&c) {
                out.byte(c);
            } else {
                out.byte(b'%').hex(c as u64, 2);
            }
        }
    }
    if out.is_empty() {
        return Err(errno::EINVAL);
    }
    out.byte(0);
    if out.overflowed || out.len() > NAME_MAX + 1 { Err(errno::ENAMETOOLONG) } else { Ok(()) }
}

/// The delegated cgroup named by `TREE_FILE` in the current directory,
/// opened: Ok(None) when the file is absent (no cgroups for this tree).
/// EINVAL when it does not hold an absolute path, ENOTDIR (or the open
/// error) when that is not a cgroup2 directory.
pub fn open_tree() -> Result<Option<OwnedFd>, Errno> {
    let mut buf = [0u8; TREE_PATH_MAX + 1];
    let text = match sys::read_file(TREE_FILE, &mut buf) {
        Ok(t) => t,
        Err(errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let n = fmt::trim(text).len();
    if n == 0 || text.first() != Some(&b'/') || n >= TREE_PATH_MAX {
        return Err(errno::EINVAL);
    }
    if let Some(z) = buf.get_mut(n) {
        *z = 0;
    }
    let path = sys::cstr(buf.get(..=n).unwrap_or(&[])).ok_or(errno::EINVAL)?;
    let fd = sys::open_dir(path)?;
    if !is_cgroup2(fd.fd()) {
        return Err(errno::ENOTDIR);
    }
    Ok(Some(fd))
}

/// Is the directory `fd` on a cgroup2 file system?
pub fn is_cgroup2(fd: Fd) -> bool {
    sys::fstatfs_type(fd).is_ok_and(|t| t == CGROUP2_MAGIC)
}

/// Writes `data` into the interface file `file` of the cgroup `dir`, in
/// one write (the kernel takes one value a write).
pub fn write(dir: Fd, file: &CStr, data: &[u8]) -> Result<(), Errno> {
    let fd = sys::open_at(dir, file, Open::WRONLY | Open::NOFOLLOW, 0)?;
    sys::write(fd.fd(), data).map(|_| ())
}

/// Does the cgroup `dir` (or one below it) hold a process? From
/// `cgroup.events`' `populated` line.
pub fn populated(dir: Fd) -> Result<bool, Errno> {
    let mut buf = [0u8; 64];
    let fd = sys::open_at(dir, c"cgroup.events", Open::RDONLY | Open::NOFOLLOW, 0)?;
    let r = sys::read(fd.fd(), &mut buf);
    // The file starts with `populated 0` or `populated 1`.
    Ok(r? < 11 || buf.get(10) != Some(&b'0'))
}

/// The number in the interface file `file` of the cgroup `dir`
/// (`memory.current`, `pids.current`); EINVAL when it holds none.
pub fn read_u64(dir: Fd, file: &CStr) -> Result<u64, Errno> {
    let mut buf = [0u8; 32];
    let fd = sys::open_at(dir, file, Open::RDONLY | Open::NOFOLLOW, 0)?;
    let r = sys::read(fd.fd(), &mut buf);
    fmt::parse_u64_line(buf.get(..r?).unwrap_or(&[])).ok_or(errno::EINVAL)
}

/// Calls `f` with each pid of `cgroup.procs` of `dir` (read a few bytes at
/// a time: the list has no size limit); returns how many there were.
pub fn for_each_pid(dir: Fd, f: &mut dyn FnMut(Pid)) -> Result<usize, Errno> {
    let fd = sys::open_at(dir, c"cgroup.procs", Open::RDONLY | Open::NOFOLLOW, 0)?;
    let mut buf = [0u8; 64];
    let (mut pid, mut count) = (0u64, 0);
    
    loop {
        let n = match sys::read(fd.fd(), &mut buf) {
            Ok(0) => break Ok(count),
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        for &c in buf.iter().take(n) {
            if c.is_ascii_digit() {
                pid = pid.saturating_mul(10).saturating_add((c - b'0') as u64);
            } else if pid != 0 {
                f(pid.min(i32::MAX as u64) as Pid);
                count += 1;
                pid = 0;
            }
        }
    }
}

/// Sends `signo` to every process of the cgroup `dir`.
pub fn signal_all(dir: Fd, signo: i32) -> Result<usize, Errno> {
    for_each_pid(dir, &mut |p| {
        let _ = sys::kill(p, signo); // ESRCH: it has gone already
    })
}

/// Kills every process of the cgroup `dir`: `cgroup.kill`, or on kernels
/// without it (before 5.14) freeze, KILL each process, thaw (a frozen
/// process cannot fork a new one between the listing and the kill).
pub fn kill_all(dir: Fd) -> Result<(), Errno> {
    match write(dir, c"cgroup.kill", b"1") {
        Err(errno::ENOENT) => {}
        r => return r,
    }
    let frozen = write(dir, c"cgroup.freeze", b"1").is_ok();
    let r = signal_all(dir, sig::KILL).map(|_| ());
    if frozen {
        // It froze a moment ago: thawing it fails only if it has gone.
        let _ = write(dir, c"cgroup.freeze", b"0");
    }
    r
}

/// How long `wait_empty` waits for killed processes to be gone.
pub const EMPTY_WAIT_MS: u64 = 2000;

/// Waits until the cgroup `dir` holds no process, at most `EMPTY_WAIT_MS`
/// (processes killed with KILL are usually gone within a millisecond; one
/// stuck in the kernel may take longer). False if still populated.
pub fn wait_empty(dir: Fd) -> bool {
    let end = sys::now_mono_ns() + EMPTY_WAIT_MS * 1_000_000;
    loop {
        match populated(dir) {
            Ok(true) => {}
            _ => return true,
        }
        if sys::now_mono_ns() >= end {
            return false;
        }
        sys::sleep_ms(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(s: &[u8]) -> Result<std::vec::Vec<u8>, Errno> {
        let mut n = Name::new();
        name(s, &mut n).map(|_| n.as_bytes().to_vec())
    }

    #[test]
    fn names_are_mapped_and_loggers_are_suffixed() {
        assert_eq!(mapped(b"web").unwrap(), b"web\0");
        assert_eq!(mapped(b"web/log").unwrap(), b"web.log\0");
        assert_eq!(mapped(b"web.log").unwrap(), b"web%2elog\0");
        assert_eq!(mapped(b"cgroup.procs").unwrap(), b"cgroup%2eprocs\0");
        assert_eq!(mapped(b"./a b/log").unwrap(), b"a%20b.log\0");
        assert_eq!(mapped(b"."), Err(errno::EINVAL));
        assert_eq!(mapped(&[b'.'; 100]), Err(errno::ENAMETOOLONG));
    }
}
