//! Start-up code shared by every rinit binary: the program entry (`_start`),
//! the hand-off to the binary's `main`, the panic handler and the memory
//! functions the compiler expects. Nothing here allocates.
//!
//! A binary is `#![no_std] #![no_main]` and ends with `linker::entry!(main);`
//! (or `linker::entry!(main, fallback);` when a panic must end somewhere else
//! than `exit(111)`, as the scanner's crash fallback).
#![cfg_attr(not(test), no_std)]
// asm! on MIPS is unstable: MIPS alone is built with nightly
// (docs/architectures.md); every other target stays on stable.
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]
// Start-up code is unsafe by nature (the entry point, the initial stack,
// symbols the compiler and the binary define): with base's syscall layer,
// the only crate allowed `unsafe`.
#![allow(unsafe_code)]

pub use base;

mod arch;
mod mem;

use base::sys::Args;

unsafe extern "Rust" {
    fn rinit_main(args: Args) -> !;
    fn rinit_panic_fallback() -> !;
    /// False for a program with no s6 counterpart (see `entry!`).
    static RINIT_ANSWERS_TO_S6_NAME: bool;
}

/// Called by the arch entry with the initial stack pointer.
///
/// # Safety
/// `sp` must be the stack pointer the kernel handed to `_start`.
unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: the kernel lays out argc, argv[], NULL, envp[], NULL at sp.
    let args = unsafe { Args::from_stack(sp) };
    // SAFETY: the static is defined by `entry!`, never written; argv[0] is
    // NULL or a NUL-terminated string that lives as long as the process.
    unsafe {
        if RINIT_ANSWERS_TO_S6_NAME {
            prog_if_s6(*sp.add(1) as *const u8);
        }
    }
    // SAFETY: `rinit_main` is defined by the `entry!` macro in the binary.
    unsafe { rinit_main(args) }
}

/// A program run by one of s6's names (a link `scripts/install --s6-names`
/// makes) speaks with that name: any basename of argv[0] starting `s6-`.
/// Read in place, byte by byte: the smallest code for every binary.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that lives as long as the process.
unsafe fn prog_if_s6(p: *const u8) {
    if p.is_null() {
        return;
    }
    let (mut end, mut start) = (0, 0);
    loop {
        // SAFETY: every byte up to and including the NUL is part of the string.
        let c = unsafe { *p.add(end) };
        if c == 0 {
            break;
        }
        end += 1;
        if c == b'/' {
            start = end;
        }
    }
    // SAFETY: start..end lies within the string, which lives as long as the process.
    let name: &'static [u8] = unsafe { core::slice::from_raw_parts(p.add(start), end - start) };
    if let [b's', b'6', b'-', ..] = name {
        base::err::set_prog(name);
    }
}

/// Declares the binary's entry points. `main` takes `base::sys::Args` and
/// never returns; `fallback` is where a panic ends (default: exit 111).
/// `entry!(no_s6_name, main, fallback)` leaves the s6-name check out.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        $crate::entry!($main, $crate::exit_after_panic);
    };
    ($main:path, $fallback:path) => {
        $crate::entry!(@define $main, $fallback, true);
    };
    // A program that keeps its own name whatever argv[0] says, without the
    // check's bytes (rinit and rinit-supervise count against the image's size).
    (no_s6_name, $main:path, $fallback:path) => {
        $crate::entry!(@define $main, $fallback, false);
    };
    (@define $main:path, $fallback:path, $s6:expr) => {
        // The symbols start-up calls: part of linker's unsafe, in the binary.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        fn rinit_main(args: $crate::base::sys::Args) -> ! {
            $main(args)
        }
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        fn rinit_panic_fallback() -> ! {
            $fallback()
        }
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        static RINIT_ANSWERS_TO_S6_NAME: bool = $s6;
    };
}

/// The default end of a panic: s6's "system failure" exit code.
pub fn exit_after_panic() -> ! {
    base::sys::exit(111)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // PanicInfo is not formatted: that would pull core::fmt into every binary.
    base::err::warn(&[b"internal error (panic)"]);
    // SAFETY: defined by the `entry!` macro in the binary.
    unsafe { rinit_panic_fallback() }
}

/// Only referenced by non-LTO (dev) builds, whose precompiled core has landing pads.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
