//! Stage 1's part in the cgroup per service: find (or mount) cgroup v2,
//! give its controllers to the services, and delegate a cgroup to the scan
//! directory by writing its path into `.s6-svscan/cgroup` (each supervisor
//! then makes its service's cgroup there). Without cgroup v2, or with
//! `conf/no-cgroups`, one info line and the tree runs as it always did.
//!
//! Boot mode: the root of a cgroup2 file system on /sys/fs/cgroup, mounted
//! when nothing is mounted there (a hybrid v1 layout is left alone). The
//! root cgroup may hold processes and enable controllers at once.
//! Container mode: the container's own cgroup (from /proc/self/cgroup)
//! when it is writable; pid 1 moves into its leaf `INIT_LEAF` first, since
//! a cgroup that holds processes cannot hand controllers to its children.

use crate::conf;
use base::cgroup;
use base::err;
use base::path::PathBuf;
use base::fmt::Buf;
use base::sys::{self, errno, Fd, Open};

/// The statfs type of sysfs: /sys/fs/cgroup with nothing mounted on it.
const SYSFS_MAGIC: u64 = 0x6265_6572;
/// Container mode: the leaf of the container's cgroup that pid 1 (and so
/// the scanner and the supervisors) moves into. No service's cgroup name
/// can be this (a mapped name's only dot is a logger's `.log`).
pub const INIT_LEAF: &core::ffi::CStr = c"rinit.init";
/// Where the delegation is written (in the run-image's scan directory).
const TREE_FILE: &core::ffi::CStr = c"/run/service/.s6-svscan/cgroup";

/// Finds or mounts cgroup v2, delegates it to the scan directory.
pub fn delegate(basedir: &[u8], container: bool) {
    if conf::exists(basedir, conf::NO_CGROUPS) {
        return err::info(&[b"conf/no-cgroups: services run without cgroups"]);
    }
    let found = if container { container_cgroup() } else { machine_cgroup() };
    let (path, dir) = match found {
        Ok(found) => found,
        Err(why) => return err::info(&[why, b": services run without cgroups"]),
    };
    enable_controllers(dir);
    sys::close(dir);
    let r = sys::open(TREE_FILE, Open::WRONLY | Open::CREATE | Open::TRUNC | Open::NOFOLLOW, 0o644).and_then(|fd| {
        let r = sys::write_all(fd, path.as_bytes()).and_then(|_| sys::write_all(fd, b"\n"));
        sys::close(fd);
        r
    });
    match r {
        Ok(()) => err::info(&[b"a cgroup per service, in ", path.as_bytes()]),
        Err(e) => err::warn_unable(&[b"write ", TREE_FILE.to_bytes()], e),
    }
}

/// Boot mode: /sys/fs/cgroup, cgroup2 mounted there if nothing is.
fn machine_cgroup() -> Result<(PathBuf, Fd), &'static [u8]> {
    let at = cgroup::MOUNT_POINT;
    let dir = sys::open_dir(at).map_err(|_| &b"no /sys/fs/cgroup"[..])?;
    match sys::fstatfs_type(dir) {
        Ok(cgroup::CGROUP2_MAGIC) => {}
        Ok(SYSFS_MAGIC) => {
            sys::close(dir);
            let flags = crate::mounts::MS_NOSUID | crate::mounts::MS_NODEV | crate::mounts::MS_NOEXEC;
            let r = sys::mount(c"cgroup2", at, c"cgroup2", flags, None);
            crate::mounts::report(at, r);
            r.map_err(|_| &b"no cgroup v2"[..])?;
            return open_cgroup2(at.to_bytes(), b"");
        }
        _ => {
            sys::close(dir);
            return Err(b"/sys/fs/cgroup is not cgroup v2");
        }
    }
    let mut p = PathBuf::new();
    let _ = p.push(at.to_bytes()); // a short constant: it fits
    Ok((p, dir))
}

/// The inode of the initial cgroup namespace (the kernel's PROC_CGROUP_INIT_INO).
const INITIAL_CGROUP_NS: u64 = 0xEFFF_FFFB;

/// Container mode: the container's cgroup, if cgroup v2 and writable, and
/// the container's own: in the machine's cgroup namespace the cgroup is
/// the host's (a pid namespace made by hand), shared with other trees.
fn container_cgroup() -> Result<(PathBuf, Fd), &'static [u8]> {
    if sys::stat(c"/proc/self/ns/cgroup").is_ok_and(|st| st.ino == INITIAL_CGROUP_NS) {
        return Err(b"no cgroup namespace of the container's own");
    }
    let mut buf = [0u8; 1024];
    let own = sys::read_file(c"/proc/self/cgroup", &mut buf).map_err(|_| &b"no /proc/self/cgroup"[..])?;
    let rel = own
        .split(|&c| c == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
        .ok_or(&b"no cgroup v2 in /proc/self/cgroup"[..])?;
    let (path, dir) = open_cgroup2(cgroup::MOUNT_POINT.to_bytes(), rel.strip_suffix(b"/").unwrap_or(rel))?;
    let moved = match sys::mkdir_in(dir, INIT_LEAF, 0o755) {
        Ok(()) | Err(errno::EEXIST) => sys::open_at(dir, INIT_LEAF, Open::RDONLY | Open::DIRECTORY, 0)
            .and_then(|leaf| {
                let r = cgroup::write(leaf, c"cgroup.procs", b"0");
                sys::close(leaf);
                r
            }),
        Err(e) => Err(e),
    };
    if moved.is_err() {
        sys::close(dir);
        return Err(b"the container's cgroup is not writable");
    }
    Ok((path, dir))
}

/// `root` + `rel`, opened, if it is a cgroup2 directory.
fn open_cgroup2(root: &[u8], rel: &[u8]) -> Result<(PathBuf, Fd), &'static [u8]> {
    let path = PathBuf::join(root, &[rel]).map_err(|_| &b"cgroup path too long"[..])?;
    let dir = sys::open_dir(path.as_cstr()).map_err(|_| &b"no cgroup v2 directory"[..])?;
    if !cgroup::is_cgroup2(dir) {
        sys::close(dir);
        return Err(b"no cgroup v2 on /sys/fs/cgroup");
    }
    Ok((path, dir))
}

/// Every controller the cgroup has is handed down to its children (the
/// services' cgroups), one at a time: one the kernel refuses (cpu with
/// realtime processes about) does not keep the others away.
fn enable_controllers(dir: Fd) {
    let mut buf = [0u8; 256];
    let Ok(n) = sys::open_at(dir, c"cgroup.controllers", Open::RDONLY, 0).and_then(|fd| {
        let r = sys::read(fd, &mut buf);
        sys::close(fd);
        r
    }) else {
        return;
    };
    let mut want = Buf::<64>::new();
    for name in buf.get(..n).unwrap_or(&[]).split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        want.clear();
        want.byte(b'+').push(name);
        if let Err(e) = cgroup::write(dir, c"cgroup.subtree_control", want.as_bytes()) {
            err::warn_unable(&[b"enable the cgroup controller ", name], e);
        }
    }
}
