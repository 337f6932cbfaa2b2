//! "at 7.210 s of uptime" in log lines: the monotonic clock counts from
//! boot, so these lines time the boot and the shutdown from inside.

use base::fmt::Buf;
use base::sys;

/// Appends `S.mmm` (seconds since boot, milliseconds).
pub fn push<const N: usize>(b: &mut Buf<N>, mono_ns: u64) {
    b.u64(mono_ns / 1_000_000_000).byte(b'.').u64_pad(mono_ns / 1_000_000 % 1000, 3);
}

/// Appends ` at S.mmm s of uptime` for now.
pub fn push_now<const N: usize>(b: &mut Buf<N>) {
    b.push(b" at ");
    push(b, sys::now_mono_ns());
    b.push(b" s of uptime");
}
