//! Stage 1's cgroup step, left out of this build (feature `cgroups` off,
//! as in the smallest container image): nothing is mounted or delegated,
//! and one info line says so, in the voice of the full step's own "without
//! cgroups" lines.

use base::err;

/// Says the tree runs without a cgroup per service.
pub fn delegate(_basedir: &[u8], _container: bool) {
    err::info(&[b"this build has no cgroup per service (feature cgroups): services run without cgroups"])
}
