//! Fixed-capacity, NUL-terminated path buffers: how the programs build
//! `svc/supervise/status` and friends without a heap.

use crate::sys::{errno, Errno};
use core::ffi::CStr;

/// Longest path the programs build, terminating NUL excluded (Linux's PATH_MAX - 1).
pub const PATH_MAX: usize = 4095;

/// A path of at most `PATH_MAX` bytes, always NUL-terminated.
pub struct PathBuf {
    buf: [u8; PATH_MAX + 1],
    len: usize,
}

impl Default for PathBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PathBuf {
    pub const fn new() -> PathBuf {
        PathBuf { buf: [0; PATH_MAX + 1], len: 0 }
    }

    /// `a` followed by each of `parts`, e.g. `join(dir, &[b"/supervise/status"])`.
    pub fn join(a: &[u8], parts: &[&[u8]]) -> Result<PathBuf, Errno> {
        let mut p = PathBuf::new();
        p.push(a)?;
        for s in parts {
            p.push(s)?;
        }
        Ok(p)
    }

    /// Appends bytes; ENAMETOOLONG past PATH_MAX, EINVAL for an inner NUL.
    // A plain loop, not `contains`: that brings core's ~150-byte memchr
    // into every binary.
    #[allow(clippy::manual_contains)]
    pub fn push(&mut self, s: &[u8]) -> Result<&mut Self, Errno> {
        if s.iter().any(|&c| c == 0) {
            return Err(errno::EINVAL);
        }
        // The bytes and the NUL after them, if they fit.
        let end = self.len.saturating_add(s.len());
        let Some((nul, dst)) = self.buf.get_mut(self.len..=end).and_then(|d| d.split_last_mut()) else {
            return Err(errno::ENAMETOOLONG);
        };
        dst.copy_from_slice(s);
        *nul = 0;
        self.len = end;
        Ok(self)
    }

    pub fn truncate(&mut self, len: usize) {
        if let Some(nul) = self.buf.get_mut(len).filter(|_| len < self.len) {
            *nul = 0;
            self.len = len;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    pub fn as_cstr(&self) -> &CStr {
        // The buffer is NUL-terminated at len and holds no inner NUL (push
        // refuses them), so this never fails; the fallback keeps it panic-free.
        crate::sys::cstr(self.buf.get(..self.len + 1).unwrap_or(&[])).unwrap_or(c"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn joins_and_terminates() {
        let p = PathBuf::join(b"svc", &[b"/supervise", b"/status"]).unwrap();
        assert_eq!(p.as_cstr().to_bytes(), b"svc/supervise/status");
    }
    #[test]
    fn refuses_too_long() {
        let long = [b'a'; PATH_MAX + 1];
        assert_eq!(PathBuf::join(&long, &[]).err(), Some(errno::ENAMETOOLONG));
    }
    #[test]
    fn holds_exactly_path_max_and_truncates() {
        let mut p = PathBuf::join(&[b'a'; PATH_MAX - 1], &[]).unwrap();
        assert_eq!(p.push(b"bc").err(), Some(errno::ENAMETOOLONG));
        p.push(b"b").unwrap();
        assert_eq!(p.len(), PATH_MAX);
        assert_eq!(p.as_cstr().to_bytes().len(), PATH_MAX);
        p.truncate(1);
        assert_eq!(p.as_cstr().to_bytes(), b"a");
        assert_eq!(p.push(b"x\0y").err(), Some(errno::EINVAL));
    }
}
