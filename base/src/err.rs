//! The error voice shared by every program:
//! `PROG: fatal: unable to open supervise/control: Permission denied`.
//! Exit codes as s6's: 100 for bad usage, 111 for a system failure.

use crate::fmt::Buf;
use crate::sys::{self, Errno};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Bad usage (s6's convention).
pub const EXIT_USAGE: i32 = 100;
/// Temporary or system failure (s6's convention).
pub const EXIT_SYS: i32 = 111;

/// Longest message written in one piece; longer ones are cut, never split.
pub const MSG_MAX: usize = 1024;

static PROG: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static PROG_LEN: AtomicUsize = AtomicUsize::new(0);

/// Sets the name every message starts with.
pub fn set_prog(name: &'static [u8]) {
    PROG_LEN.store(name.len(), Ordering::Relaxed);
    PROG.store(name.as_ptr() as *mut u8, Ordering::Relaxed);
}

pub fn prog() -> &'static [u8] {
    let p = PROG.load(Ordering::Relaxed);
    if p.is_null() {
        return b"rinit";
    }
    let n = PROG_LEN.load(Ordering::Relaxed);
    // The pointer and length were stored together from one &'static [u8].
    crate::sys::static_slice(p, n)
}

fn say(level: &[u8], parts: &[&[u8]], e: Option<Errno>) {
    let mut b = Buf::<MSG_MAX>::new();
    b.push(prog()).push(b": ").push(level);
    for p in parts {
        b.push(p);
    }
    if let Some(e) = e {
        b.push(b": ").push(strerror(e));
    }
    if b.overflowed {
        b.clear();
        b.push(prog()).push(b": ").push(level).push(b"(message too long)");
    }
    b.byte(b'\n');
    let _ = sys::write_all(sys::STDERR, b.as_bytes());
}

pub fn warn(parts: &[&[u8]]) {
    say(b"warning: ", parts, None)
}

pub fn warn_sys(parts: &[&[u8]], e: Errno) {
    say(b"warning: ", parts, Some(e))
}

pub fn info(parts: &[&[u8]]) {
    say(b"info: ", parts, None)
}

pub fn fatal(code: i32, parts: &[&[u8]]) -> ! {
    say(b"fatal: ", parts, None);
    sys::exit(code)
}

pub fn fatal_sys(code: i32, parts: &[&[u8]], e: Errno) -> ! {
    say(b"fatal: ", parts, Some(e));
    sys::exit(code)
}

/// `PROG: usage: USAGE`, exit 100.
pub fn usage(text: &[u8]) -> ! {
    say(b"usage: ", &[text], None);
    sys::exit(EXIT_USAGE)
}

/// The text of an error number, as strerror(3) says it.
pub fn strerror(e: Errno) -> &'static [u8] {
    match e.0 {
        1 => b"Operation not permitted",
        2 => b"No such file or directory",
        3 => b"No such process",
        4 => b"Interrupted system call",
        5 => b"Input/output error",
        6 => b"No such device or address",
        7 => b"Argument list too long",
        8 => b"Exec format error",
        9 => b"Bad file descriptor",
        10 => b"No child processes",
        11 => b"Resource temporarily unavailable",
        12 => b"Cannot allocate memory",
        13 => b"Permission denied",
        14 => b"Bad address",
        16 => b"Device or resource busy",
        17 => b"File exists",
        18 => b"Invalid cross-device link",
        19 => b"No such device",
        20 => b"Not a directory",
        21 => b"Is a directory",
        22 => b"Invalid argument",
        23 => b"Too many open files in system",
        24 => b"Too many open files",
        26 => b"Text file busy",
        27 => b"File too large",
        28 => b"No space left on device",
        29 => b"Illegal seek",
        30 => b"Read-only file system",
        31 => b"Too many links",
        32 => b"Broken pipe",
        34 => b"Numerical result out of range",
        36 => b"File name too long",
        38 => b"Function not implemented",
        39 => b"Directory not empty",
        40 => b"Too many levels of symbolic links",
        71 => b"Protocol error",
        75 => b"Value too large for defined data type",
        95 => b"Operation not supported",
        110 => b"Connection timed out",
        122 => b"Disk quota exceeded",
        _ => b"Unknown error",
    }
}
