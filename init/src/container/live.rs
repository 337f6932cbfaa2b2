//! The container's live directory, `/run/rinit`: the one place rinit
//! writes (the scan directory, the compiled rc database and its live
//! state, the exit code). Nothing else of the root file system needs to be
//! writable: a read-only root with a writable `/run` is enough.
//!
//! rinit mounts a fresh tmpfs on `/run` only when it has a mount
//! namespace of its own, so that it never hides the caller's `/run`:
//! - as pid 1 it is a container's init, and every runtime (Docker, runc,
//!   Kubernetes, `unshare --pid --fork --mount`) gives a container its
//!   mount namespace;
//! - not pid 1, when its parent, as `/proc/self/stat` gives it, is 0 (the
//!   parent is outside the pid namespace of the mounted `/proc`: a runtime
//!   started it in a container whose pid 1 is another program, as
//!   Kubernetes' `shareProcessNamespace` does), or has another mount
//!   namespace (`/proc/PPID/ns/mnt` differs from `/proc/self/ns/mnt`:
//!   `unshare -m rinit -- ...`).
//!
//! A mount that fails (no CAP_SYS_ADMIN) leaves `/run` as it is. When
//! `/run/rinit` cannot be created then, rinit says which directory it
//! needed, and exits 111.
//!
//! A lock (`/run/rinit/lock`) keeps two entrypoints off one directory;
//! what an earlier run left (a restarted container keeps its `/run`) is
//! removed under it.

use crate::container::ending;
use crate::layout;
use crate::mounts;
use base::err;
use base::sys::{self, errno, Errno, Fd, Open};
use core::ffi::CStr;

/// The lock file, held for the entrypoint's whole life.
pub const LOCK: &CStr = c"lock";
/// Deepest directory nesting removed from an earlier run's state.
pub const CLEAN_DEPTH_MAX: usize = 8;
/// Most passes over one directory while emptying it.
pub const CLEAN_PASSES_MAX: usize = 4;

/// Makes `/run/rinit` (on a fresh tmpfs when rinit may mount one), takes
/// its lock and empties it. Exits 111 with one line when it cannot.
pub fn prepare(pid1: bool, info: bool) {
    if pid1 || own_mount_namespace() {
        match mounts::mount_tmpfs(layout::LIVE) {
            Ok(()) if info => err::info(&[b"mounted a tmpfs on /run"]),
            Err(e) if info => err::info(&[b"using /run as it is: unable to mount a tmpfs: ", err::strerror(e)]),
            _ => {}
        }
    }
    if let Err(e) = sys::mkdir(layout::STATE, 0o755).or_else(exists_ok) {
        no_place(e);
    }
    let dir = sys::open_dir(layout::STATE).unwrap_or_else(|e| no_place(e));
    let lock = sys::open_at(dir.fd(), LOCK, Open::RDWR | Open::CREATE, 0o600).unwrap_or_else(|e| no_place(e));
    match sys::lock_exclusive_nb(lock.fd()) {
        Ok(true) => {}
        Ok(false) => err::fatal(err::EXIT_SYS, &[b"another rinit runs on ", layout::STATE.to_bytes()]),
        Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"lock ", layout::STATE.to_bytes(), b"/lock"], e),
    }
    // The lock stays held for the container's life: its descriptor is never closed.
    lock.into_raw();
    clean(dir.fd(), 0);
}

fn exists_ok(e: Errno) -> Result<(), Errno> {
    if e == errno::EEXIST { Ok(()) } else { Err(e) }
}

fn no_place(e: Errno) -> ! {
    err::fatal_sys(err::EXIT_SYS, &[b"no writable place for the container's state: unable to create ", layout::STATE.to_bytes()], e)
}

/// Not pid 1: see the module's comment. Unknown (no `/proc`): no.
fn own_mount_namespace() -> bool {
    let Some(ppid) = ending::parent(None) else { return false };
    if ppid == 0 {
        return true;
    }
    let mut parent = crate::Line::new();
    parent.push(b"/proc/").u64(ppid as u64).push(b"/ns/mnt").byte(0);
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    match (sys::readlink(c"/proc/self/ns/mnt", &mut a), sys::cstr(parent.as_bytes()).map(|p| sys::readlink(p, &mut b))) {
        (Ok(mine), Some(Ok(theirs))) => mine != theirs,
        _ => false,
    }
}

/// Removes everything in `dir` but the lock, depth first. What cannot be
/// removed is a warning: the directories are made again on top of it.
fn clean(dir: Fd, depth: usize) {
    // Entries removed while the directory is read may hide others: passes
    // until one removes nothing.
    for _ in 0..CLEAN_PASSES_MAX {
        let mut removed = 0;
        let r = sys::read_dir(dir, &mut |name: &CStr, _, _| {
            if depth == 0 && name == LOCK {
                return;
            }
            let r = match sys::unlink_in(dir, name) {
                Err(errno::EISDIR) | Err(errno::EPERM) if depth < CLEAN_DEPTH_MAX => {
                    if let Ok(sub) = sys::open_at(dir, name, Open::RDONLY | Open::DIRECTORY | Open::NOFOLLOW, 0) {
                        clean(sub.fd(), depth + 1);
                    }
                    sys::rmdir_in(dir, name)
                }
                r => r,
            };
            match r {
                Ok(()) => removed += 1,
                Err(e) => err::warn_unable(&[b"remove ", name.to_bytes(), b" left by an earlier run"], e),
            }
        });
        if let Err(e) = r {
            return err::warn_unable(&[b"read ", layout::STATE.to_bytes()], e);
        }
        if removed == 0 {
            return;
        }
    }
}
