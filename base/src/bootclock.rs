//! Time 0 of a boot: stage 1's start on the monotonic clock, in
//! nanoseconds as decimal text in `/run/rinit/stage1-start`. Written once
//! by `rinit` (stage 1) once /run is ready; read by what times the boot
//! (`rinit-rc timeline`). The monotonic clock is the kernel's, so stamps
//! taken by any process of the machine (or container) compare with it.

use crate::fmt::{self, Buf};
use crate::sys::{self, Errno, Open};
use core::ffi::CStr;

/// The directory the file lives in (rinit's state in /run).
pub const DIR: &CStr = c"/run/rinit";
/// The file.
pub const FILE: &CStr = c"/run/rinit/stage1-start";

/// Records `t0` (monotonic ns) as stage 1's start, in `DIR` (the
/// run-image's `rinit/`, which rinit-maker makes). Written once, before
/// any reader runs: no temporary file.
pub fn record(t0: u64) -> Result<(), Errno> {
    let mut b = Buf::<24>::new();
    b.u64(t0).byte(b'\n');
    let fd = sys::open(FILE, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    sys::write_all(fd.fd(), b.as_bytes())
}

/// Stage 1's start, if this system was started by rinit.
pub fn read() -> Option<u64> {
    let mut buf = [0u8; 24];
    fmt::parse_u64_line(sys::read_file(FILE, &mut buf).ok()?)
}
