//! Memory without a heap: static tables handed out once, a slice set once,
//! C strings checked in place, files mapped for the life of the process.
// Part of the unsafe floor of the syscall layer: each of these turns a raw
// pointer or an `UnsafeCell` into a reference whose rule it keeps itself.
#![allow(unsafe_code)]

use super::errno::ret;
use super::raw::syscall;
use super::{Fd, Result};
use core::ffi::CStr;
use core::sync::atomic::{AtomicPtr, Ordering};
use linux_raw_sys::general as k;

/// `buf` as a C string when it ends with its only NUL. Checked with a
/// plain loop: core's `CStr::from_bytes_with_nul` brings ~200 bytes of
/// word-at-a-time search into every binary.
pub fn cstr(buf: &[u8]) -> Option<&CStr> {
    match buf.iter().position(|&c| c == 0) {
        // SAFETY: the one NUL is the last byte, as the function requires.
        Some(i) if i + 1 == buf.len() => Some(unsafe { CStr::from_bytes_with_nul_unchecked(buf) }),
        _ => None,
    }
}

/// A `&'static [u8]` given once at run time and read from anywhere (the
/// program name of `err`); a second `set` is ignored. Replaces a safe
/// function that rebuilt a slice from any pointer and length (unsound).
pub struct OnceBytes {
    /// 0: empty, 1: being set, 2: set for good.
    state: core::sync::atomic::AtomicUsize,
    ptr: AtomicPtr<u8>,
    len: core::sync::atomic::AtomicUsize,
}

impl Default for OnceBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl OnceBytes {
    pub const fn new() -> Self {
        use core::sync::atomic::AtomicUsize;
        OnceBytes { state: AtomicUsize::new(0), ptr: AtomicPtr::new(core::ptr::null_mut()), len: AtomicUsize::new(0) }
    }
    pub fn set(&self, s: &'static [u8]) {
        if self.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            self.ptr.store(s.as_ptr() as *mut u8, Ordering::Relaxed);
            self.len.store(s.len(), Ordering::Relaxed);
            self.state.store(2, Ordering::Release);
        }
    }
    /// Follows bytes that moved from [lo, hi) by `delta` (the start-up
    /// strings `run_in_one_region` copies), when they are the ones held.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn moved(&self, lo: usize, hi: usize, delta: usize) {
        let p = self.ptr.load(Ordering::Relaxed) as usize;
        if self.state.load(Ordering::Acquire) == 2 && p >= lo && p < hi {
            self.ptr.store(p.wrapping_add(delta) as *mut u8, Ordering::Relaxed);
        }
    }
    pub fn get(&self) -> Option<&'static [u8]> {
        if self.state.load(Ordering::Acquire) != 2 {
            return None;
        }
        let (p, n) = (self.ptr.load(Ordering::Relaxed), self.len.load(Ordering::Relaxed));
        // SAFETY: state 2 is reached once, after `set` stored the pointer and
        // length of one &'static [u8]; they never change afterwards.
        Some(unsafe { core::slice::from_raw_parts(p, n) })
    }
}
/// Maps the first `len` bytes of the file `fd` read-only and for the rest of
/// the process (never unmapped), e.g. a compiled database read in place.
///
/// # Safety
/// Nobody may write to or truncate the file for the rest of the process:
/// the bytes behind the returned `&'static [u8]` would change under it
/// (the mapping is private, but pages not yet read come from the file as it
/// is then), and pages past a new end fault (SIGBUS). A file that is written
/// once and renamed in, never written in place, keeps this.
pub unsafe fn map_file(fd: Fd, len: usize) -> Result<&'static [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    let (prot, flags) = (k::PROT_READ as usize, k::MAP_PRIVATE as usize);
    // SAFETY: a fresh mapping chosen by the kernel; nothing else aliases it
    // and it is never unmapped, so 'static holds for the address range.
    let r = unsafe { syscall!(MMAP, 0, len, prot, flags, fd.0 as usize, 0) };
    let p = ret(r)?;
    // SAFETY: the kernel mapped `len` readable bytes at `p`; the caller
    // promised the file's bytes do not change under them.
    Ok(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// `map_file` for a file that rinit only ever replaces by rename, never
/// writes in place: the compiled database (rinit-rc-compile writes a new
/// file and renames it in; nothing in rinit opens one to write). The file
/// must be the caller's own kind, opened from a directory only rinit
/// writes; a file anyone may change is read, not mapped.
pub fn map_replaced_file(fd: Fd, len: usize) -> Result<&'static [u8]> {
    // SAFETY: the file is replaced by rename only (above): the mapped one is
    // never written to or truncated again.
    unsafe { map_file(fd, len) }
}

/// A static value handed out once as `&'static mut`: how a program gets big
/// fixed tables in .bss without a heap and without `unsafe` of its own.
/// The flag comes first (`repr(C)`), on the page of the value's start, which
/// its user touches anyway: after a large buffer it would take a page of
/// its own, resident for one byte.
#[repr(C)]
pub struct StaticCell<T> {
    taken: core::sync::atomic::AtomicBool,
    cell: core::cell::UnsafeCell<T>,
}

// SAFETY: `take` hands out the only reference, at most once (atomic flag).
unsafe impl<T> Sync for StaticCell<T> {}

impl<T> StaticCell<T> {
    pub const fn new(v: T) -> Self {
        StaticCell { taken: core::sync::atomic::AtomicBool::new(false), cell: core::cell::UnsafeCell::new(v) }
    }
    /// The value, the first time only; None afterwards.
    // The one `&mut` comes out of a shared static by design: the atomic
    // flag makes it unique, as a cell's `get_mut` would.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the flag guarantees this is the one and only reference.
        Some(unsafe { &mut *self.cell.get() })
    }
}
