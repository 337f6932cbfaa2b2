//! The file systems pid 1 is responsible for: the kernel's (/proc, /sys,
//! devtmpfs) and the /run tmpfs at boot; all of them, in reverse order, at
//! the very end.

use base::err;
use base::path::PathBuf;
use base::sys::{self, errno, Errno};
use core::ffi::CStr;

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_REMOUNT: u64 = 32;

/// Most bytes of /proc/mounts read at shutdown (about 300 mounts).
pub const MOUNTS_BYTES_MAX: usize = 32768;

fn present(path: &CStr) -> bool {
    sys::lstat(path).is_ok()
}

fn mount_one(src: &CStr, at: &CStr, fstype: &CStr, flags: u64, data: Option<&CStr>) -> Result<(), Errno> {
    match sys::mkdir(at, 0o755) {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    sys::mount(src, at, fstype, flags, data)
}

/// Mounts /proc and /sys when they are not there yet, and a devtmpfs on
/// `dev` when asked. Each mount is one line; a failure is a warning: boot
/// goes on.
pub fn mount_kernel_fs(dev: Option<&[u8]>) {
    let flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    for (probe, fs, at) in [(c"/proc/self", c"proc", c"/proc"), (c"/sys/kernel", c"sysfs", c"/sys")] {
        if !present(probe) {
            report(at, mount_one(fs, at, fs, flags, None));
        }
    }
    let Some(d) = dev else { return };
    let Ok(mut p) = PathBuf::join(d, &[b"/null"]) else { return err::warn(&[b"devtmpfs path too long"]) };
    if !present(p.as_cstr()) {
        p.truncate(d.len());
        report(p.as_cstr(), mount_one(c"devtmpfs", p.as_cstr(), c"devtmpfs", MS_NOSUID, Some(c"mode=0755")));
    }
}

/// `mounted /proc`, or why not.
pub fn report(at: &CStr, r: Result<(), Errno>) {
    match r {
        Ok(()) => err::info(&[b"mounted ", at.to_bytes()]),
        Err(e) => err::warn_unable(&[b"mount ", at.to_bytes()], e),
    }
}

/// A tmpfs on `at` (mode 0755).
pub fn mount_tmpfs(at: &CStr) -> Result<(), Errno> {
    mount_one(c"tmpfs", at, c"tmpfs", MS_NOSUID | MS_NODEV, Some(c"mode=0755"))
}

/// Unmounts everything /proc/mounts lists, last mounted first; what cannot
/// be unmounted is remounted read-only. Every step is one log line.
pub fn unmount_all() {
    let mut buf = [0u8; MOUNTS_BYTES_MAX];
    let text = match sys::read_file(c"/proc/mounts", &mut buf) {
        Ok(t) => t,
        Err(sys::errno::EOVERFLOW) => return err::warn(&[b"/proc/mounts exceeds the capacity: nothing unmounted"]),
        Err(e) => return err::warn_unable(&[b"read /proc/mounts"], e),
    };
    for line in text.rsplit(|&c| c == b'\n') {
        let Some(raw) = line.split(|&c| c == b' ').nth(1) else { continue };
        let mut at = PathBuf::new();
        if unescape(raw, &mut at).is_err() {
            err::warn(&[b"mount point too long: ", raw]);
            continue;
        }
        unmount_one(&at);
    }
}

fn unmount_one(at: &PathBuf) {
    let name = at.as_bytes();
    if sys::umount(at.as_cstr(), false).is_ok() {
        return err::info(&[b"unmounted ", name]);
    }
    match sys::mount(c"", at.as_cstr(), c"", MS_REMOUNT | MS_RDONLY, None) {
        Ok(()) => err::info(&[b"remounted ", name, b" read-only"]),
        Err(e) => err::warn_unable(&[b"unmount or remount read-only ", name], e),
    }
}

/// /proc/mounts writes space, tab, newline and backslash as `\ooo`.
fn unescape(raw: &[u8], out: &mut PathBuf) -> Result<(), Errno> {
    let mut rest = raw;
    while let Some((&c, tail)) = rest.split_first() {
        let octal = match (c, tail.get(..3)) {
            (b'\\', Some(&[a, b, d])) if [a, b, d].iter().all(|x| (b'0'..=b'7').contains(x)) => {
                Some((a - b'0') * 64 + (b - b'0') * 8 + (d - b'0'))
            }
            _ => None,
        };
        match octal {
            Some(v) => {
                out.push(&[v])?;
                rest = tail.get(3..).unwrap_or(&[]);
            }
            None => {
                out.push(&[c])?;
                rest = tail;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn unescapes_octal() {
        let mut p = PathBuf::new();
        unescape(b"/a\\040b", &mut p).unwrap();
        assert_eq!(p.as_bytes(), b"/a b");
    }
}
