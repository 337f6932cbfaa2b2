//! The environment of the supervision tree (`rinit-stage2 -e` hands it to
//! the scanner, and the runner to rc.init and the main program): built in a fixed
//! buffer from the inherited one (container mode) and `<basedir>/env/`, an
//! envdir as s6-envdir reads it (file name = variable, first line = value
//! without trailing blanks, a NUL in it a newline, empty file = unset).

use base::path::PathBuf;
use base::sys::{self, ArgvBuf, Errno, FileType};
use core::ffi::CStr;

/// Most variables in the environment stage 1 builds. A container
/// runtime hands over all of its own (Kubernetes adds several per service
/// of the namespace), and an entrypoint must pass them on, as tini does.
pub const ENV_MAX: usize = 1024;
/// Most bytes of `NAME=value\0` strings in it (offsets are 16-bit). Pid 1
/// holds both on its stack only until it execs the scanner; the runner
/// keeps them in .bss, where untouched pages cost nothing.
pub const ENV_BYTES_MAX: usize = 65535;
/// Longest value read from one envdir file.
pub const VALUE_MAX: usize = 1024;

pub struct Env {
    buf: [u8; ENV_BYTES_MAX],
    len: usize,
    /// Start offsets of the live `NAME=value\0` strings.
    starts: [u16; ENV_MAX],
    n: usize,
}

/// Why a variable could not be added: the capacity that was exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub const fn new() -> Env {
        Env { buf: [0; ENV_BYTES_MAX], len: 0, starts: [0; ENV_MAX], n: 0 }
    }

    fn entry(&self, i: usize) -> &[u8] {
        let s = self.starts.get(i).copied().unwrap_or(0) as usize;
        let rest = self.buf.get(s..self.len).unwrap_or(&[]);
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        rest.get(..end).unwrap_or(&[])
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        (0..self.n).find(|&i| {
            let e = self.entry(i);
            e.len() > name.len() && e.starts_with(name) && e.get(name.len()) == Some(&b'=')
        })
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        let i = self.find(name)?;
        self.entry(i).get(name.len() + 1..)
    }

    /// Removes `name`.
    pub fn unset(&mut self, name: &[u8]) {
        if let Some(i) = self.find(name) {
            self.starts.copy_within(i + 1..self.n, i);
            self.n -= 1;
        }
    }

    /// Sets `name` to `value` (replacing an earlier value).
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), Full> {
        self.unset(name);
        let need = name.len() + 1 + value.len() + 1;
        if self.n >= ENV_MAX || self.len + need > ENV_BYTES_MAX || name.contains(&0) || value.contains(&0) {
            return Err(Full);
        }
        let s = self.len;
        let dst = self.buf.get_mut(s..s + need).ok_or(Full)?;
        let (a, rest) = dst.split_at_mut(name.len());
        a.copy_from_slice(name);
        let (eq, rest) = rest.split_at_mut(1);
        eq[0] = b'=';
        let (v, nul) = rest.split_at_mut(value.len());
        v.copy_from_slice(value);
        nul[0] = 0;
        self.len += need;
        self.starts[self.n] = s as u16;
        self.n += 1;
        Ok(())
    }

    /// Adds a `NAME=value` string as found in an environment.
    pub fn set_pair(&mut self, pair: &[u8]) -> Result<(), Full> {
        match pair.iter().position(|&c| c == b'=') {
            Some(i) if i > 0 => self.set(&pair[..i], &pair[i + 1..]),
            _ => Ok(()),
        }
    }

    /// Copies this process's environment.
    pub fn inherit(&mut self) -> Result<(), Full> {
        let mut r = Ok(());
        sys::environ().for_each(&mut |s: &CStr| {
            if r.is_ok() {
                r = self.set_pair(s.to_bytes());
            }
        });
        r
    }

    /// Applies an envdir. Err names the variable that did not fit, or the
    /// system error on the directory.
    pub fn load_dir(&mut self, dir: &[u8]) -> Result<(), LoadError> {
        let d = PathBuf::join(dir, &[]).map_err(LoadError::Sys)?;
        let fd = sys::open_dir(d.as_cstr()).map_err(LoadError::Sys)?;
        let mut r = Ok(());
        let res = sys::read_dir(fd.fd(), &mut |name: &CStr, kind: FileType, _| {
            let n = name.to_bytes();
            if r.is_err() || n.starts_with(b".") || n.contains(&b'=') || kind == FileType::Directory {
                return;
            }
            let mut val = [0u8; VALUE_MAX];
            let p = match PathBuf::join(dir, &[b"/", n]) {
                Ok(p) => p,
                Err(e) => return r = Err(LoadError::Sys(e)),
            };
            match sys::read_file(p.as_cstr(), &mut val).map(|v| v.len()) {
                Ok(0) => self.unset(n),
                Ok(len) => {
                    let v = val.get_mut(..len).unwrap_or(&mut []);
                    let mut end = v.iter().position(|&c| c == b'\n').unwrap_or(len);
                    while end > 0 && matches!(v.get(end - 1), Some(b' ' | b'\t')) {
                        end -= 1;
                    }
                    let line = v.get_mut(..end).unwrap_or(&mut []);
                    // As envdir has it: a NUL in the file stands for a newline.
                    for c in line.iter_mut().filter(|c| **c == 0) {
                        *c = b'\n';
                    }
                    if self.set(n, line).is_err() {
                        r = Err(LoadError::Full);
                    }
                }
                Err(e) => r = Err(LoadError::Sys(e)),
            }
        });
        drop(fd);
        res.map_err(LoadError::Sys)?;
        r
    }

    /// The NULL-terminated array exec wants.
    pub fn argv(&self) -> ArgvBuf<'_, { ENV_MAX + 1 }> {
        let mut a = ArgvBuf::new();
        self.fill(&mut a);
        a
    }

    /// Fills `a` (empty) as `argv` does, for an array that lives elsewhere
    /// than the stack (see rinit-stage2).
    pub fn fill<'a>(&'a self, a: &mut ArgvBuf<'a, { ENV_MAX + 1 }>) {
        for i in 0..self.n {
            let s = self.starts[i] as usize;
            let e = self.entry(i).len();
            if let Some(Ok(c)) = self.buf.get(s..s + e + 1).map(CStr::from_bytes_with_nul) {
                a.push(c);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    Sys(Errno),
    Full,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sets_replaces_and_unsets() {
        let mut e = Env::new();
        e.set(b"A", b"1").unwrap();
        e.set(b"B", b"2").unwrap();
        e.set(b"A", b"3").unwrap();
        assert_eq!(e.get(b"A"), Some(&b"3"[..]));
        e.unset(b"B");
        assert_eq!(e.get(b"B"), None);
        assert_eq!(e.argv().len(), 1);
    }
}

/// PATH when neither the basedir nor the environment gives one.
pub const DEFAULT_PATH: &[u8] = b"/usr/bin:/usr/sbin:/bin:/sbin";

/// The supervision tree's environment: the container's own (a kernel's is
/// not passed on), a default PATH, then `<basedir>/env/` on top.
pub fn tree_env(env: &mut Env, basedir: &[u8], container: bool) {
    if container && env.inherit().is_err() {
        base::err::warn(&[b"the inherited environment exceeds the capacity: the rest is dropped"]);
    }
    if env.get(b"PATH").is_none() {
        // Only a full environment refuses it, and that was reported above.
        let _ = env.set(b"PATH", DEFAULT_PATH);
    }
    let Ok(dir) = PathBuf::join(basedir, &[b"/env"]) else { return };
    match env.load_dir(dir.as_bytes()) {
        Ok(()) | Err(LoadError::Sys(sys::errno::ENOENT)) => {}
        Err(LoadError::Sys(e)) => base::err::warn_unable(&[b"read ", dir.as_bytes()], e),
        Err(LoadError::Full) => {
            base::err::warn(&[b"the environment exceeds the capacity: some of ", dir.as_bytes(), b" is dropped"])
        }
    }
}
