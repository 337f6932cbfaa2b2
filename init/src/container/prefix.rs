//! `-p`: each line a service prints goes out with its name in front
//! (`web: listening on :80`), so `docker logs` tells the services apart.
//! A service without a logger gets one: `log/run`, a link to rinit, which
//! the supervisor runs as `./run` in `NAME/log` with the service's output
//! on its standard input. There rinit reads lines and writes them to its
//! standard output, the container's, with `NAME: ` in front. A line longer
//! than the buffer goes out in pieces, each with the name.

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
        err::warn_sys(&[b"unable to give service ", name.to_bytes(), b" a prefixing logger"], e);
    }
}

/// The logger: standard input to standard output, `NAME: ` before each line.
pub fn run() -> ! {
    err::set_prog(b"rinit");
    let mut cwd = [0u8; base::path::PATH_MAX + 1];
    let dir = sys::getcwd(&mut cwd).ok().and_then(|n| cwd.get(..n)).unwrap_or(b"");
    let dir = dir.strip_suffix(b"\0").unwrap_or(dir);
    let svc = dir.strip_suffix(b"/log").unwrap_or(dir);
    let name = crate::layout::basename(svc);
    let mut prefix = [0u8; NAME_MAX + 2];
    let plen = name.len().min(NAME_MAX);
    if let Some(p) = prefix.get_mut(..plen) {
        p.copy_from_slice(name.get(..plen).unwrap_or(b""));
    }
    if let Some(p) = prefix.get_mut(plen..plen + 2) {
        p.copy_from_slice(b": ");
    }
    let prefix = prefix.get(..plen + 2).unwrap_or(b"");
    let mut buf = [0u8; LINE_MAX];
    let mut out = [0u8; LINE_MAX + NAME_MAX + 3];
    let mut len = 0;
    loop {
        let n = match sys::read(sys::STDIN, buf.get_mut(len..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => n,
            Err(sys::errno::EINTR) => continue,
            Err(e) => err::fatal_sys(err::EXIT_SYS, &[b"unable to read the output of ", name], e),
        };
        len += n;
        // Every whole line out; a full buffer goes out as a line of its own.
        let mut start = 0;
        while let Some(i) = buf.get(start..len).and_then(|r| r.iter().position(|&c| c == b'\n')) {
            emit(&mut out, prefix, buf.get(start..start + i).unwrap_or(b""));
            start += i + 1;
        }
        if start == 0 && len == LINE_MAX {
            emit(&mut out, prefix, &buf);
            len = 0;
        } else {
            buf.copy_within(start..len, 0);
            len -= start;
        }
    }
    if len > 0 {
        emit(&mut out, prefix, buf.get(..len).unwrap_or(b""));
    }
    sys::exit(0)
}

/// One line (newline added) in one write: lines of services never mix.
fn emit(out: &mut [u8], prefix: &[u8], line: &[u8]) {
    let mut n = 0;
    for part in [prefix, line, b"\n"] {
        if let Some(d) = out.get_mut(n..n + part.len()) {
            d.copy_from_slice(part);
            n += part.len();
        }
    }
    let _ = sys::write_all(sys::STDOUT, out.get(..n).unwrap_or(b""));
}
