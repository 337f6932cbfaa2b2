//! `-p`: each line a service prints goes out with its name in front
//! (`web: listening on :80`), so `docker logs` tells the services apart.
//! A service without a logger gets one: `log/run`, a link to rinit, which
//! the supervisor runs as `./run` in `NAME/log` with the service's output
//! on its standard input. There rinit reads lines and writes them to its
//! standard output, the container's, with `NAME: ` in front. A line longer
//! than the buffer goes out in pieces, each with the name. TERM is ignored:
//! the logger ends at the end of its input, its last line written.

use base::err;
use base::sys::{self, Args, Fd, Open};
use core::ffi::CStr;

/// Longest piece of a line written at once.
pub const LINE_MAX: usize = 4096;
/// Longest service name put in front.
pub const NAME_MAX: usize = 256;

/// Is this rinit started as a prefixing logger (`./run` in a `log` directory)?
pub fn wanted(args: &Args) -> bool {
    args.get(0).is_some_and(|a| a.to_bytes() == b"./run") && sys::getpid() != 1
}

/// Gives service `name` (in the scan directory `scan`) a prefixing logger,
/// unless it has one.
pub fn add(scan: Fd, name: &CStr) {
    let mut exe = [0u8; base::path::PATH_MAX + 1];
    let r = sys::readlink(c"/proc/self/exe", &mut exe).map(|p| p.len()).and_then(|n| {
        let target = exe.get(..=n).and_then(sys::cstr).ok_or(sys::errno::EINVAL)?;
        let svc = sys::open_at(scan, name, Open::RDONLY | Open::DIRECTORY, 0)?;
        let r = match sys::mkdir_in(svc, c"log", 0o755) {
            Ok(()) => sys::open_at(svc, c"log", Open::RDONLY | Open::DIRECTORY, 0).and_then(|log| {
                let r = sys::symlink_in(target, log, c"run");
                sys::close(log);
                r
            }),
            // It has a logger of its own.
            Err(sys::errno::EEXIST) => Ok(()),
            Err(e) => Err(e),
        };
        sys::close(svc);
        r
    });
    if let Err(e) = r {
        err::warn_unable(&[b"give service ", name.to_bytes(), b" a prefixing logger"], e);
    }
}

/// The logger: standard input to standard output, `NAME: ` before each line.
pub fn run() -> ! {
    err::set_prog(b"rinit");
    // It ends at the end of its input, when the service and the scanner
    // are gone: the TERM of the stop must not lose the last line.
    let _ = sys::sig_default(sys::sig::TERM, false); // cannot fail for TERM

    // The line is built after the name: `NAME: ` is written once.
    let mut line = [0u8; NAME_MAX + 2 + LINE_MAX + 1];
    let mut cwd = [0u8; base::path::PATH_MAX + 1];
    let dir = sys::getcwd(&mut cwd).ok().and_then(|n| cwd.get(..n)).unwrap_or(b"");
    let name = crate::layout::basename(dir.strip_suffix(b"/log").unwrap_or(dir));
    let name = name.get(..name.len().min(NAME_MAX)).unwrap_or(b"");
    let mut start = 0;
    for part in [name, b": "] {
        if let Some(d) = line.get_mut(start..start + part.len()) {
            d.copy_from_slice(part);
        }
        start += part.len();
    }
    let mut len = start;
    let mut input = [0u8; 512];
    loop {
        let n = match sys::read(sys::STDIN, &mut input) {
            Ok(0) => break,
            Ok(n) => n,
            Err(sys::errno::EINTR) => continue,
            Err(e) => err::fatal_unable(err::EXIT_SYS, &[b"read the output of ", name], e),
        };
        for &c in input.get(..n).unwrap_or(&[]) {
            // A newline, or a full piece: out it goes, in one write.
            if c != b'\n' {
                if let Some(d) = line.get_mut(len) {
                    *d = c;
                }
                len += 1;
            }
            if c == b'\n' || len == start + LINE_MAX {
                flush(&mut line, len);
                len = start;
            }
        }
    }
    if len > start {
        flush(&mut line, len);
    }
    sys::exit(0)
}

fn flush(line: &mut [u8], len: usize) {
    if let Some(d) = line.get_mut(len) {
        *d = b'\n';
    }
    // No one to tell when the container's output is gone.
    let _ = sys::write_all(sys::STDOUT, line.get(..=len).unwrap_or(b""));
}
