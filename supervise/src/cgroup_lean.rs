//! The cgroup per service, left out of this build (feature `cgroups` off,
//! as in the smallest container image): the calls of the full module, each
//! doing nothing, so the supervisor works on process groups alone. What
//! asks for a cgroup (the scanner's `.s6-svscan/cgroup`, the service's
//! `cgroup/`) gets one warning line saying this build lacks it, never a
//! silent limit that is not there.

use base::cgroup::TREE_FILE;
use base::err;
use base::sys::{self, Errno};
use core::ffi::CStr;

/// The service directory's subdirectory of limits.
pub const LIMITS_DIR: &CStr = c"cgroup";

const LACKS: &[u8] = b": this build has no cgroup per service (feature cgroups): ignored";

/// From the scan directory: a delegated cgroup is not used.
pub fn find_tree() {
    if sys::exists(TREE_FILE) == Ok(true) {
        err::warn(&[TREE_FILE.to_bytes(), LACKS]);
    }
}

/// In the service directory, once: its limits are not applied.
pub fn enter(_service: &CStr) {
    if sys::exists(LIMITS_DIR) == Ok(true) {
        err::warn(&[b"./", LIMITS_DIR.to_bytes(), LACKS]);
    }
}

pub fn join() -> Result<(), Errno> {
    Ok(())
}

/// Never signals a cgroup: the caller signals `run`.
pub fn signal(_signo: i32) -> bool {
    false
}

pub fn kill() {}

pub fn end() {}

pub fn remove(_service: &CStr) {}

pub fn apply_limits() {}
