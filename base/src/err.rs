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
    // One string of `<number byte><text>\0` entries: a few hundred bytes
    // less in every binary than a `match` with a table of slices.
    ERRORS
        .split(|&c| c == 0)
        .find(|m| m.first().is_some_and(|&n| n as u16 == e.0))
        .and_then(|m| m.get(1..))
        .unwrap_or(b"Unknown error")
}

const ERRORS: &[u8] = b"\x01Operation not permitted\0\x02No such file or directory\0\x03No such process\0\
      \x04Interrupted system call\0\x05Input/output error\0\x06No such device or address\0\
      \x07Argument list too long\0\x08Exec format error\0\x09Bad file descriptor\0\
      \x0aNo child processes\0\x0bResource temporarily unavailable\0\
      \x0cCannot allocate memory\0\x0dPermission denied\0\x0eBad address\0\
      \x10Device or resource busy\0\x11File exists\0\x12Invalid cross-device link\0\
      \x13No such device\0\x14Not a directory\0\x15Is a directory\0\x16Invalid argument\0\
      \x17Too many open files in system\0\x18Too many open files\0\x19Inappropriate ioctl for device\0\x1aText file busy\0\
      \x1bFile too large\0\x1cNo space left on device\0\x1dIllegal seek\0\
      \x1eRead-only file system\0\x1fToo many links\0\x20Broken pipe\0\
      \x22Numerical result out of range\0\x24File name too long\0\
      \x26Function not implemented\0\x27Directory not empty\0\
      \x28Too many levels of symbolic links\0\x47Protocol error\0\
      \x4bValue too large for defined data type\0\x5fOperation not supported\0\
      \x6eConnection timed out\0\x6fConnection refused\0\x7aDisk quota exceeded\0\xffNot a regular file\0";

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
