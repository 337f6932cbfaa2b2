//! The system as a whole: mounts, reboot, sync, the watchdog's requests.

use super::Result;
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// The mount flags rinit passes.
pub const MS_RDONLY: u64 = k::MS_RDONLY as u64;
pub const MS_NOSUID: u64 = k::MS_NOSUID as u64;
pub const MS_NODEV: u64 = k::MS_NODEV as u64;
pub const MS_NOEXEC: u64 = k::MS_NOEXEC as u64;
pub const MS_REMOUNT: u64 = k::MS_REMOUNT as u64;

/// The watchdog driver's requests (<linux/watchdog.h>), as this
/// architecture encodes them.
pub mod wdioc {
    use linux_raw_sys::ioctl as k;
    pub const GETSUPPORT: u32 = k::WDIOC_GETSUPPORT;
    pub const KEEPALIVE: u32 = k::WDIOC_KEEPALIVE;
    pub const SETTIMEOUT: u32 = k::WDIOC_SETTIMEOUT;
    pub const GETTIMEOUT: u32 = k::WDIOC_GETTIMEOUT;
}

pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: u64, data: Option<&CStr>) -> Result<()> {
    Ok(rustix::mount::mount(
        source,
        target,
        fstype,
        rustix::mount::MountFlags::from_bits_retain(flags as _),
        data,
    )?)
}

pub fn umount(target: &CStr, detach: bool) -> Result<()> {
    let f = if detach { rustix::mount::UnmountFlags::DETACH } else { rustix::mount::UnmountFlags::empty() };
    Ok(rustix::mount::unmount(target, f)?)
}

/// The `reboot(2)` actions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RebootAction {
    Halt,
    PowerOff,
    Reboot,
    /// Ctrl-Alt-Del sends SIGINT to pid 1 (the probe for "is this the initial pid namespace").
    CadOff,
}

pub fn reboot(a: RebootAction) -> Result<()> {
    use rustix::system::RebootCommand as R;
    let c = match a {
        RebootAction::Halt => R::Halt,
        RebootAction::PowerOff => R::PowerOff,
        RebootAction::Reboot => R::Restart,
        RebootAction::CadOff => R::CadOff,
    };
    Ok(rustix::system::reboot(c)?)
}
