//! The service's own cgroup, when the scan directory delegates a cgroup v2
//! directory to the tree (`.s6-svscan/cgroup`): created before `run`
//! starts, joined by `run` and `finish` before their exec, the limits of
//! the service directory's `cgroup/` written into it, its every process
//! signalled or killed when the service stops, removed when the
//! supervisor leaves for good. Without a delegated cgroup every function
//! here does nothing, and the supervisor works on process groups alone.
//!
//! The descriptors live in statics: one service per supervisor, and the
//! state machine only calls in at its transitions.

use base::cgroup::{self, Name};
use base::err;
use base::fmt::Buf;
use base::sys::{self, errno, Errno, Fd, FileType, Open, OwnedFd};
use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, Ordering};

/// The delegated cgroup of the tree, and the service's cgroup in it: the
/// descriptor's complement, 0 (-1's) for none. Zeroed statics, not
/// initialised data: a supervisor's statics then share its stack's page
/// (`base::region!`).
static TREE: AtomicI32 = AtomicI32::new(0);
static OWN: AtomicI32 = AtomicI32::new(0);

fn load(s: &AtomicI32) -> Option<Fd> {
    let fd = !s.load(Ordering::Relaxed);
    (fd >= 0).then_some(Fd(fd))
}

fn keep(s: &AtomicI32, fd: Option<Fd>) {
    s.store(!fd.map_or(-1, |f| f.0), Ordering::Relaxed)
}

/// The service directory's subdirectory of limits.
pub const LIMITS_DIR: &CStr = c"cgroup";
/// Longest limit file; a longer one is not written, with a warning.
pub const LIMIT_MAX: usize = 256;

fn own() -> Option<Fd> {
    load(&OWN)
}

/// Before the supervisor leaves the scan directory (its starting
/// directory): opens the tree's cgroup if the scanner has one. A file
/// that names no usable cgroup v2 directory is a warning, and the service
/// runs without a cgroup.
pub fn find_tree() {
    match cgroup::open_tree() {
        // Held for the supervisor's life, in a static: no longer closed by a value.
        Ok(Some(fd)) => keep(&TREE, Some(fd.into_raw())),
        Ok(None) => {}
        Err(e) => {
            let why: &[u8] = if e == errno::ENOTDIR { b"no cgroup v2 directory" } else { err::strerror(e) };
            err::warn(&[cgroup::TREE_FILE.to_bytes(), b" names ", why, b": running without a cgroup"])
        }
    }
}

/// Once the supervisor owns the service directory: makes the service's
/// cgroup `<tree>/<name>` and ends whatever an earlier supervisor's
/// service left in it (a supervisor killed with KILL leaves its `run`).
pub fn enter(service: &CStr) {
    let Some(tree) = load(&TREE) else { return };
    let mut name = Name::new();
    let r = cgroup::name(service.to_bytes(), &mut name).and_then(|_| {
        let n = sys::cstr(name.as_bytes()).ok_or(errno::EINVAL)?;
        match sys::mkdir_in(tree, n, 0o755) {
            Ok(()) | Err(errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
        sys::open_at(tree, n, Open::RDONLY | Open::DIRECTORY | Open::NOFOLLOW, 0)
    });
    let shown = name.as_bytes().strip_suffix(b"\0").unwrap_or(b"");
    let fd = match r {
        Ok(fd) => fd,
        Err(e) => return err::warn_unable(&[b"create the cgroup ", shown, b": running without one"], e),
    };
    let fd = fd.into_raw();
    // Held for the supervisor's life, in a static, as TREE.
    keep(&OWN, Some(fd));
    // Populated, not "has pids": processes of another pid namespace are
    // not listed, but still belong to the service.
    if cgroup::populated(fd) == Ok(true) {
        let count = cgroup::for_each_pid(fd, &mut |_| {}).unwrap_or(0);
        let mut n = Buf::<24>::new();
        n.u64(count as u64);
        err::warn(&[b"cgroup ", shown, b" holds ", n.as_bytes(), b" processes of an earlier run: killing them"]);
        end();
    }
}

/// In the child, before exec: join the service's cgroup.
pub fn join() -> Result<(), Errno> {
    match own() {
        Some(fd) => cgroup::write(fd, c"cgroup.procs", b"0"),
        None => Ok(()),
    }
}

/// Sends `signo` to every process of the service; false when the service
/// has no cgroup (the caller signals `run` alone).
pub fn signal(signo: i32) -> bool {
    own().map(|fd| cgroup::signal_all(fd, signo)).is_some()
}

/// Kills every process of the service, at once.
pub fn kill() {
    if let Some(fd) = own() {
        // A failure leaves the processes to the next step: `end` waits for
        // the cgroup to empty and warns.
        let _ = cgroup::kill_all(fd);
    }
}

/// What `run` or `finish` left behind is killed, and the service counts as
/// down only once its cgroup is empty (a moment: processes killed with
/// KILL go at once, unless stuck in the kernel; then a warning).
pub fn end() {
    let Some(fd) = own() else { return };
    if cgroup::populated(fd) != Ok(true) {
        return;
    }
    let r = cgroup::kill_all(fd);
    if r.is_err() || !cgroup::wait_empty(fd) {
        err::warn_unable(&[b"empty the service's cgroup"], r.err().unwrap_or(errno::ETIMEDOUT));
    }
}

/// The supervisor leaves for good: the cgroup goes, unless a process is
/// still in it (a supervisor told to leave its service running).
pub fn remove(service: &CStr) {
    let (Some(tree), Some(fd)) = (load(&TREE), own()) else { return };
    // The static's descriptor, taken back to be closed: the cgroup can go.
    keep(&OWN, None);
    drop(OwnedFd::from_raw(fd));
    let mut name = Name::new();
    if cgroup::name(service.to_bytes(), &mut name).is_ok()
        && let Some(n) = sys::cstr(name.as_bytes())
    {
        let _ = sys::rmdir_in(tree, n); // EBUSY: processes stay in it, by request
    }
}

/// Before each start of `run`: every file of `./cgroup/` is written into the interface file of the same name (`memory.max`,
/// `pids.max`...). A limit the kernel refuses is one warning naming the
/// file and the reason; the service starts anyway.
#[inline(never)]
pub fn apply_limits() {
    let Some(cg) = own() else { return };
    let dir = match sys::open_dir(LIMITS_DIR) {
        Ok(fd) => fd,
        Err(errno::ENOENT) => return,
        Err(e) => return err::warn_unable(&[b"read ./cgroup"], e),
    };
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 256];
    let r = sys::read_dir_with(dir.fd(), &mut buf, &mut |name, kind, _| {
        if kind == FileType::RegularFile || kind == FileType::Unknown {
            if let Err(e) = apply_limit(dir.fd(), cg, name) {
                err::warn_unable(&[b"apply ./cgroup/", name.to_bytes()], e);
            }
        }
    });
    if let Err(e) = r {
        err::warn_unable(&[b"read ./cgroup"], e);
    }
}

/// One limit file, written in one write (the kernel takes one value a
/// write): EPERM for the `cgroup.*` files that are not limits (they move,
/// freeze or kill processes), EFBIG past LIMIT_MAX, else the kernel's answer.
fn apply_limit(dir: Fd, cg: Fd, name: &CStr) -> Result<(), Errno> {
    let n = name.to_bytes();
    if n.starts_with(b"cgroup.") && !n.starts_with(b"cgroup.max.") {
        return Err(errno::EPERM);
    }
    let fd = sys::open_at(dir, name, Open::RDONLY | Open::NOFOLLOW | Open::NONBLOCK, 0)?;
    let mut text = [0u8; LIMIT_MAX + 1];
    let r = sys::read_full(fd.fd(), &mut text);
    drop(fd);
    match r? {
        len if len > LIMIT_MAX => Err(errno::EFBIG),
        len => cgroup::write(cg, name, text.get(..len).unwrap_or(&[])),
    }
}
