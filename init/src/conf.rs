//! Stage 1's and stage 3's settings, as `rinit-maker` records them in
//! `<basedir>/conf/`: one small file per setting, its value on the first
//! line (absent file = default). Written by `maker`, read here only.

use base::fmt;
use base::path::PathBuf;
use base::sys;

/// Longest value of one setting.
pub const VALUE_MAX: usize = 256;

/// Octal umask for stage 1 and everything it starts (default 022).
pub const UMASK: &[u8] = b"umask";
/// Where to mount a devtmpfs at boot (absent: the kernel did it or nobody needs it).
pub const DEVTMPFS: &[u8] = b"devtmpfs";
/// The runlevel (bundle) handed to rc.init as its first argument (default `default`).
pub const RUNLEVEL: &[u8] = b"runlevel";
/// A directory where stage 1 dumps the kernel's environment variables, one file each.
pub const ENVSTORE: &[u8] = b"envstore";
/// Present: always run in container mode.
pub const CONTAINER: &[u8] = b"container";
/// Default grace time in milliseconds between TERM and KILL at shutdown (default 2000).
pub const GRACE: &[u8] = b"grace";
/// The hardware watchdog pid 1 pets: `device,interval_ms,timeout_ms`
/// (absent: none). Handed to the scanner as `-W`, read again by stage 3.
pub const WATCHDOG: &[u8] = b"watchdog";
/// Present: stage 3 disarms the watchdog (magic close) just before
/// reboot(2), if the device allows it. Absent: it stays armed.
pub const WATCHDOG_DISARM: &[u8] = b"watchdog-disarm";
/// Present: no cgroup per service (stage 1 neither mounts cgroup2 nor
/// delegates a cgroup to the scan directory).
pub const NO_CGROUPS: &[u8] = b"no-cgroups";

pub const DEFAULT_UMASK: u32 = 0o022;
pub const DEFAULT_RUNLEVEL: &[u8] = b"default";
pub const DEFAULT_GRACE_MS: u64 = 2000;

/// A setting's value, trimmed; None when the file is absent, empty or unreadable.
pub struct Value {
    buf: [u8; VALUE_MAX + 1],
    start: usize,
    end: usize,
}

impl Value {
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }
}

pub fn path(basedir: &[u8], name: &[u8]) -> Result<PathBuf, sys::Errno> {
    PathBuf::join(basedir, &[b"/conf/", name])
}

pub fn get(basedir: &[u8], name: &[u8]) -> Option<Value> {
    read(&path(basedir, name).ok()?)
}

/// The first line of file `p`, trimmed (how `conf/` and, for stage 1's
/// PATH, `env/` files are read).
pub fn read(p: &PathBuf) -> Option<Value> {
    let mut v = Value { buf: [0; VALUE_MAX + 1], start: 0, end: 0 };
    // One read: these are small regular files, and a read that fills the
    // buffer means the value is too long.
    let fd = sys::open_read(p.as_cstr()).ok()?;
    let n = sys::read(fd.fd(), &mut v.buf);
    drop(fd);
    let n = n.ok()?;
    if n > VALUE_MAX {
        base::err::warn(&[b"ignoring ", p.as_bytes(), b": longer than the capacity"]);
        return None;
    }
    let line = v.buf.get(..n)?.split(|&c| c == b'\n').next()?;
    let t = fmt::trim(line);
    if t.is_empty() {
        return None;
    }
    let start = t.as_ptr() as usize - v.buf.as_ptr() as usize;
    let end = start + t.len();
    v.start = start;
    v.end = end;
    Some(v)
}

pub fn exists(basedir: &[u8], name: &[u8]) -> bool {
    match path(basedir, name) {
        Ok(p) => sys::lstat(p.as_cstr()).is_ok(),
        Err(_) => false,
    }
}

/// An octal number such as a umask.
pub fn parse_octal(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v * 8 + (c - b'0') as u32;
    }
    Some(v)
}

pub fn umask(basedir: &[u8]) -> u32 {
    get(basedir, UMASK).and_then(|v| parse_octal(v.as_bytes())).unwrap_or(DEFAULT_UMASK)
}

pub fn grace_ms(basedir: &[u8]) -> u64 {
    get(basedir, GRACE).and_then(|v| fmt::parse_u64(v.as_bytes())).unwrap_or(DEFAULT_GRACE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_octal() {
        assert_eq!(parse_octal(b"022"), Some(0o22));
        assert_eq!(parse_octal(b"8"), None);
    }
}
