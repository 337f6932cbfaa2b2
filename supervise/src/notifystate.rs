//! `supervise/notify-status`: what a service said over sd_notify that the
//! supervisor keeps for the tools, written by the supervisor and read by
//! rinit-svstat. The keys in sd_notify's own syntax, one a line, each only
//! when it was said by the current run:
//!
//! ```text
//! STATUS=Listening on port 80
//! STOPPING=1
//! ```
//!
//! Written whole (`notify-status.new`, then rename) at each change;
//! removed when `run` starts.

use base::sys::{self, errno, Errno, Open};
use core::ffi::CStr;

/// The file, from inside the service directory.
pub const FILE: &CStr = c"supervise/notify-status";
const NEW: &CStr = c"supervise/notify-status.new";
/// Longest `STATUS=` text kept; a longer one is refused with a warning.
pub const STATUS_MAX: usize = 256;
/// Longest file a reader takes: both keys at their longest.
pub const FILE_MAX: usize = STATUS_MAX + 32;

const STATUS: &[u8] = b"STATUS=";
const STOPPING: &[u8] = b"STOPPING=1";

/// What the file says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State<'a> {
    pub status: Option<&'a [u8]>,
    pub stopping: bool,
}

/// Writes the file from inside the service directory.
pub fn write(st: State) -> Result<(), Errno> {
    let fd = sys::open(NEW, Open::WRONLY | Open::CREATE | Open::TRUNC, 0o644)?;
    let mut r = Ok(());
    if let Some(text) = st.status {
        for part in [STATUS, text, b"\n"] {
            r = r.and_then(|_| sys::write_all(fd.fd(), part));
        }
    }
    if st.stopping {
        r = r.and_then(|_| sys::write_all(fd.fd(), b"STOPPING=1\n"));
    }
    drop(fd);
    r.and_then(|_| sys::rename(NEW, FILE))
}

/// Removes the file (a new run has said nothing yet).
pub fn clear() -> Result<(), Errno> {
    match sys::unlink(FILE) {
        Err(errno::ENOENT) => Ok(()),
        r => r,
    }
}

/// Reads `<dir>/supervise/notify-status` into `buf`; the default state
/// when absent, EPROTO when longer than FILE_MAX.
pub fn read<'a>(dir: &[u8], buf: &'a mut [u8; FILE_MAX]) -> Result<State<'a>, Errno> {
    let p = base::path::PathBuf::join(dir, &[b"/", FILE.to_bytes()])?;
    let got = match sys::read_file(p.as_cstr(), buf) {
        Ok(g) => g,
        Err(errno::ENOENT) => return Ok(State::default()),
        Err(errno::EOVERFLOW) => return Err(errno::EPROTO),
        Err(e) => return Err(e),
    };
    Ok(parse(got))
}

fn parse(text: &[u8]) -> State<'_> {
    let mut st = State::default();
    for line in text.split(|&c| c == b'\n') {
        if let Some(t) = line.strip_prefix(STATUS) {
            st.status = Some(t);
        } else if line == STOPPING {
            st.stopping = true;
        }
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_keys_and_ignores_others() {
        let st = parse(b"STATUS=Listening on 80\nSTOPPING=1\nOTHER=2\n");
        assert_eq!(st, State { status: Some(b"Listening on 80"), stopping: true });
        assert_eq!(parse(b""), State::default());
        assert_eq!(parse(b"STOPPING=0\n").stopping, false);
    }
}
