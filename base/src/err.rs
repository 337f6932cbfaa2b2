//! The error voice shared by every program:
//! `PROG: fatal: unable to open supervise/control: Permission denied`.
//! Exit codes as s6's: 100 for bad usage, 111 for a system failure.

use crate::fmt::Buf;
use crate::sys::{self, Errno};

/// Bad usage (s6's convention).
pub const EXIT_USAGE: i32 = 100;
/// Temporary or system failure (s6's convention).
pub const EXIT_SYS: i32 = 111;

/// Longest message written in one piece; a longer one is cut in its middle
/// (marked `...`), keeping its start and the error's text: never split.
pub const MSG_MAX: usize = 1024;

static PROG: sys::OnceBytes = sys::OnceBytes::new();
static SUBJECT: sys::OnceBytes = sys::OnceBytes::new();

/// Sets the name every message starts with (once: later calls are ignored).
// Not inlined: the start-up code calls it too, for a program run by an s6 name
// (linker's `prog_if_s6`): set first, that name wins over `main`'s.
#[inline(never)]
pub fn set_prog(name: &'static [u8]) {
    PROG.set(name)
}

/// Names what a long-lived program works on after its name in every
/// message (`rinit-supervise web: warning: ...`, as s6-supervise does):
/// with many of them on one console, the failing one is known.
pub fn set_subject(name: &'static [u8]) {
    SUBJECT.set(name)
}

/// The start-up strings moved (`sys::run_in_one_region`): the names set
/// from them follow.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn strings_moved(lo: usize, hi: usize, delta: usize) {
    PROG.moved(lo, hi, delta);
    SUBJECT.moved(lo, hi, delta);
}

pub fn prog() -> &'static [u8] {
    PROG.get().unwrap_or(b"rinit")
}

fn say(level: &[u8], parts: &[&[u8]], e: Option<Errno>) {
    say_lead(level, b"", parts, e)
}

/// `lead` goes before the parts: `unable to ` for `*_unable`.
fn say_lead(level: &[u8], lead: &[u8], parts: &[&[u8]], e: Option<Errno>) {
    let mut b = Buf::<MSG_MAX>::new();
    b.push(prog());
    if let Some(s) = SUBJECT.get() {
        b.byte(b' ').push(s);
    }
    b.push(b": ").push(level).push(lead);
    for p in parts {
        b.push(p);
    }
    let reason = e.map_or(&b""[..], strerror);
    // Room for "...", ": ", the reason and the newline (reasons are short).
    let keep = MSG_MAX.saturating_sub(reason.len() + 6);
    if b.overflowed || b.len() > keep {
        b.truncate(keep);
        b.overflowed = false;
        b.push(b"...");
    }
    if e.is_some() {
        b.push(b": ").push(reason);
    }
    b.byte(b'\n');
    // Nowhere left to report a failure to write to stderr.
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

/// The words every failed call is told with, written once.
const UNABLE: &[u8] = b"unable to ";

/// `PROG: warning: unable to OPEN PATH: ERROR`, from `&[b"open ", path]`.
pub fn warn_unable(what: &[&[u8]], e: Errno) {
    say_lead(b"warning: ", UNABLE, what, Some(e))
}

/// `PROG: fatal: unable to OPEN PATH: ERROR`, then exit `code`.
pub fn fatal_unable(code: i32, what: &[&[u8]], e: Errno) -> ! {
    say_lead(b"fatal: ", UNABLE, what, Some(e));
    sys::exit(code)
}

/// The `fatal:` line without the exit, for a program that must end some
/// other way (a pid 1 that execs its crash program next).
pub fn fatal_line(parts: &[&[u8]], e: Errno) {
    say(b"fatal: ", parts, Some(e))
}

/// `PROG: fatal: too many WHAT (max N)`, exit 100: the command line asks
/// for more than a capacity allows.
pub fn too_many(what: &[u8], max: usize) -> ! {
    // Buf<MSG_MAX>: the type `say` already uses, no second copy of its code.
    let mut n = Buf::<MSG_MAX>::new();
    n.u64(max as u64).byte(b')');
    fatal(EXIT_USAGE, &[b"too many ", what, b" (max ", n.as_bytes()])
}

/// `PROG: usage: USAGE`, exit 100.
pub fn usage(text: &[u8]) -> ! {
    say(b"usage: ", &[text], None);
    sys::exit(EXIT_USAGE)
}

/// The text of an error number, as strerror(3) says it.
pub fn strerror(e: Errno) -> &'static [u8] {
    // One string of `<number><text>\0` entries: a few hundred bytes
    // less in every binary than a `match` with a table of slices.
    ERRORS
        .split(|&c| c == 0)
        .find(|m| m.get(..KEY).is_some_and(|k| key(k) == e.0))
        .and_then(|m| m.get(KEY..))
        .unwrap_or(b"Unknown error")
}

/// The texts of the numbers the programs meet, by this target's numbers
/// (MIPS has its own above 34).
const TEXTS: &[(Errno, &[u8])] = {
    use sys::errno::*;
    use linux_raw_sys::errno as k;
    const fn e(n: u32) -> Errno {
        Errno(n as u16)
    }
    &[
        (EPERM, b"Operation not permitted"), (ENOENT, b"No such file or directory"), (ESRCH, b"No such process"),
        (EINTR, b"Interrupted system call"), (EIO, b"Input/output error"), (ENXIO, b"No such device or address"),
        (E2BIG, b"Argument list too long"), (ENOEXEC, b"Exec format error"), (EBADF, b"Bad file descriptor"),
        (ECHILD, b"No child processes"), (EAGAIN, b"Resource temporarily unavailable"),
        (ENOMEM, b"Cannot allocate memory"), (EACCES, b"Permission denied"), (e(k::EFAULT), b"Bad address"),
        (EBUSY, b"Device or resource busy"), (EEXIST, b"File exists"), (e(k::EXDEV), b"Invalid cross-device link"),
        (e(k::ENODEV), b"No such device"), (ENOTDIR, b"Not a directory"), (EISDIR, b"Is a directory"), (EINVAL, b"Invalid argument"),
        (e(k::ENFILE), b"Too many open files in system"), (EMFILE, b"Too many open files"),
        (e(k::ENOTTY), b"Inappropriate ioctl for device"), (e(k::ETXTBSY), b"Text file busy"),
        (EFBIG, b"File too large"), (ENOSPC, b"No space left on device"), (e(k::ESPIPE), b"Illegal seek"),
        (EROFS, b"Read-only file system"), (e(k::EMLINK), b"Too many links"), (EPIPE, b"Broken pipe"),
        (ERANGE, b"Numerical result out of range"), (ENAMETOOLONG, b"File name too long"),
        (e(k::ENOSYS), b"Function not implemented"), (ENOTEMPTY, b"Directory not empty"),
        (ELOOP, b"Too many levels of symbolic links"), (EPROTO, b"Protocol error"),
        (EOVERFLOW, b"Value too large for defined data type"), (e(k::EOPNOTSUPP), b"Operation not supported"),
        (ETIMEDOUT, b"Connection timed out"), (ECONNREFUSED, b"Connection refused"), (EDQUOT, b"Disk quota exceeded"),
        (ENOTREG, b"Not a regular file"),
    ]
};

/// TEXTS as one string, made when compiling. A number is one byte, or
/// where one is above 255 (MIPS: EDQUOT is 1133) two bytes of 7 bits each
/// with the top bit set: never a NUL, never an ASCII letter of a text.
const ERRORS: &[u8] = &ERRORS_BYTES;
const WIDE: bool = {
    let mut i = 0;
    while i < TEXTS.len() && TEXTS[i].0.0 <= 255 {
        i += 1;
    }
    i < TEXTS.len()
};
const KEY: usize = if WIDE { 2 } else { 1 };
const ERRORS_BYTES: [u8; errors_len()] = errors();

fn key(k: &[u8]) -> u16 {
    match *k {
        [hi, lo] => ((hi & 0x7f) as u16) << 7 | (lo & 0x7f) as u16,
        [n] => n as u16,
        _ => 0,
    }
}

const fn errors_len() -> usize {
    let (mut len, mut i) = (0, 0);
    while i < TEXTS.len() {
        len += KEY + TEXTS[i].1.len() + 1;
        i += 1;
    }
    len
}

const fn errors() -> [u8; errors_len()] {
    let mut out = [0u8; errors_len()];
    let (mut at, mut i) = (0, 0);
    while i < TEXTS.len() {
        let (Errno(n), text) = TEXTS[i];
        assert!(n > 0 && n < 1 << 14);
        if WIDE {
            out[at] = 0x80 | (n >> 7) as u8;
            out[at + 1] = 0x80 | (n & 0x7f) as u8;
        } else {
            out[at] = n as u8;
        }
        at += KEY;
        let mut j = 0;
        while j < text.len() {
            out[at] = text[j];
            at += 1;
            j += 1;
        }
        at += 1; // the NUL
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_errors_as_strerror_does() {
        assert_eq!(strerror(Errno(1)), b"Operation not permitted");
        assert_eq!(strerror(Errno(2)), b"No such file or directory");
        assert_eq!(strerror(Errno(32)), b"Broken pipe");
        assert_eq!(strerror(Errno(122)), b"Disk quota exceeded");
        assert_eq!(strerror(Errno(15)), b"Unknown error");
        assert_eq!(strerror(Errno(0)), b"Unknown error");
        assert_eq!(strerror(Errno(2 + 256)), b"Unknown error");
    }
    #[test]
    fn unable_lines_read_as_the_hand_written_ones() {
        let mut b = Buf::<MSG_MAX>::new();
        b.push(UNABLE).push(b"open ").push(b"run");
        assert_eq!(b.as_bytes(), b"unable to open run");
    }
    #[test]
    fn program_name_is_set_once() {
        set_prog(b"rinit-first");
        set_prog(b"rinit-second");
        assert_eq!(prog(), b"rinit-first");
    }
}
