//! The hardware watchdog, petted by process 1 itself: `device,interval_ms,timeout_ms`
//! (rinit-scan's `-W`, `rinit-maker -W`'s `conf/watchdog`) opened, its
//! timeout set, then a keepalive whenever `interval_ms` has passed, from
//! the caller's own loop: a hung loop is a machine reset. The scanner
//! hands the open device to its `finish` on descriptor `HANDOVER_FD`, so
//! stage 3 keeps petting until reboot(2) without closing it (a close
//! without the magic character leaves the timer running, or, on some
//! devices, is refused).

use crate::err;
use crate::fmt::{self, Buf};
use crate::sys::{self, errno, wdioc, Errno, Fd, Open};

/// False in a build without the feature `watchdog` (the smallest container
/// image's): the callers then say `lacking` instead of opening the device,
/// and the rest of this module is left out of their binary.
pub const SUPPORTED: bool = cfg!(feature = "watchdog");

/// The one line a build without the watchdog says for `what` asking for one.
pub fn lacking(what: &[u8]) {
    err::warn(&[what, b": this build has no hardware watchdog (feature watchdog): ignored"])
}

/// Longest device path in a watchdog specification.
pub const DEVICE_MAX: usize = 128;
/// The descriptor the scanner hands the open device over on, across the
/// exec of `.s6-svscan/finish` (or `crash`).
pub const HANDOVER_FD: Fd = Fd(3);
/// WDIOF_MAGICCLOSE: the device disarms on a close after writing `V`.
const MAGIC_CLOSE: i32 = 0x100;

/// A parsed `device,interval_ms,timeout_ms`.
pub struct Spec {
    /// The device path and its NUL.
    pub device: Buf<{ DEVICE_MAX + 1 }>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
}

/// Parses `device,interval_ms,timeout_ms`: EINVAL for a malformed one, an
/// interval of 0 or one not shorter than the timeout; ENAMETOOLONG for a
/// device path past DEVICE_MAX.
pub fn parse(s: &[u8]) -> Result<Spec, Errno> {
    let mut parts = s.rsplitn(3, |&c| c == b',');
    let timeout = parts.next().and_then(fmt::parse_u64);
    let interval = parts.next().and_then(fmt::parse_u64);
    let (Some(timeout_ms), Some(interval_ms), Some(dev)) = (timeout, interval, parts.next()) else {
        return Err(errno::EINVAL);
    };
    if dev.is_empty() || interval_ms == 0 || interval_ms >= timeout_ms {
        return Err(errno::EINVAL);
    }
    let mut device = Buf::new();
    device.push(dev).byte(0);
    if device.overflowed || dev.contains(&0) {
        return Err(errno::ENAMETOOLONG);
    }
    Ok(Spec { device, interval_ms, timeout_ms })
}

/// An open watchdog and when it is next due.
pub struct Watchdog {
    pub fd: Fd,
    pub interval_ms: u64,
    /// Monotonic milliseconds of the next keepalive.
    next_ms: u64,
}

impl Watchdog {
    /// Opens the device (or takes `fd`, already open, from the scanner),
    /// asks for the timeout (whole seconds, rounded up) and pets it once.
    /// One info line names the device and the timeout the driver set.
    pub fn open(spec: &Spec, fd: Option<Fd>) -> Result<Watchdog, Errno> {
        let dev = sys::cstr(spec.device.as_bytes()).ok_or(errno::EINVAL)?;
        let fd = match fd {
            Some(fd) => fd,
            None => sys::open(dev, Open::WRONLY, 0)?,
        };
        let mut secs = spec.timeout_ms.div_ceil(1000).min(i32::MAX as u64) as i32;
        if let Err(e) = sys::ioctl_int(fd, wdioc::SETTIMEOUT, &mut secs) {
            err::warn_unable(&[b"set the timeout of ", dev.to_bytes(), b": keeping the device's"], e);
            // Without GETTIMEOUT either, the line says the timeout asked for.
            let _ = sys::ioctl_int(fd, wdioc::GETTIMEOUT, &mut secs);
        }
        let mut w = Watchdog { fd, interval_ms: spec.interval_ms, next_ms: 0 };
        w.pet(now_ms());
        let mut b = Buf::<64>::new();
        b.push(b": timeout ").u64(secs as u64).push(b" s, petted every ").u64(spec.interval_ms).push(b" ms");
        err::info(&[b"watchdog ", dev.to_bytes(), b.as_bytes()]);
        Ok(w)
    }

    /// A keepalive if one is due at `now` (monotonic ms).
    pub fn pet(&mut self, now: u64) {
        if now < self.next_ms {
            return;
        }
        let mut unused = 0;
        if sys::ioctl_int(self.fd, wdioc::KEEPALIVE, &mut unused).is_err() {
            // Drivers without the ioctl take any write as a keepalive.
            let _ = sys::write(self.fd, b"\0");
        }
        self.next_ms = now.saturating_add(self.interval_ms);
    }

    /// Milliseconds until the next keepalive is due (for a poll timeout).
    pub fn due_in(&self, now: u64) -> i64 {
        self.next_ms.saturating_sub(now) as i64
    }

    /// Disarms the device with the magic close, if it supports one: true
    /// when it did. Otherwise the device stays open and armed.
    pub fn disarm(self) -> bool {
        let mut options = 0;
        if sys::ioctl_int(self.fd, wdioc::GETSUPPORT, &mut options).is_err() || options & MAGIC_CLOSE == 0 {
            return false;
        }
        let ok = sys::write(self.fd, b"V").is_ok();
        sys::close(self.fd);
        ok
    }
}

/// Monotonic milliseconds.
pub fn now_ms() -> u64 {
    sys::now_mono_ns() / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_specification() {
        let s = parse(b"/dev/watchdog,5000,30000").ok().unwrap();
        assert_eq!(s.device.as_bytes(), b"/dev/watchdog\0");
        assert_eq!((s.interval_ms, s.timeout_ms), (5000, 30000));
        let s = parse(b"/dev/a,b,1,2").ok().unwrap();
        assert_eq!(s.device.as_bytes(), b"/dev/a,b\0");
        for bad in [&b"/dev/watchdog"[..], b"/dev/watchdog,5000", b",1,2", b"/dev/w,0,10", b"/dev/w,10,10", b"/dev/w,x,10"] {
            assert!(parse(bad).is_err(), "{:?}", core::str::from_utf8(bad));
        }
    }
}
