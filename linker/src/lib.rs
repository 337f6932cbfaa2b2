//! Start-up code shared by every rinit binary: the program entry (`_start`),
//! the hand-off to the binary's `main`, the panic handler and the memory
//! functions the compiler expects. Nothing here allocates.
//!
//! A binary is `#![no_std] #![no_main]` and ends with `linker::entry!(main);`
//! (or `linker::entry!(main, fallback);` when a panic must end somewhere else
//! than `exit(111)`, as the scanner's crash fallback).
#![cfg_attr(not(test), no_std)]

pub use base;

mod arch;
mod mem;

use base::sys::Args;

unsafe extern "Rust" {
    fn rinit_main(args: Args) -> !;
    fn rinit_panic_fallback() -> !;
}

/// Called by the arch entry with the initial stack pointer.
///
/// # Safety
/// `sp` must be the stack pointer the kernel handed to `_start`.
unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: the kernel lays out argc, argv[], NULL, envp[], NULL at sp.
    let args = unsafe { Args::from_stack(sp) };
    base::err::set_prog_if_s6(args.get(0).map_or(b"", |a| a.to_bytes()));
    // SAFETY: `rinit_main` is defined by the `entry!` macro in the binary.
    unsafe { rinit_main(args) }
}

/// Declares the binary's entry points. `main` takes `base::sys::Args` and
/// never returns; `fallback` is where a panic ends (default: exit 111).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        $crate::entry!($main, $crate::exit_after_panic);
    };
    ($main:path, $fallback:path) => {
        #[unsafe(no_mangle)]
        fn rinit_main(args: $crate::base::sys::Args) -> ! {
            $main(args)
        }
        #[unsafe(no_mangle)]
        fn rinit_panic_fallback() -> ! {
            $fallback()
        }
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
