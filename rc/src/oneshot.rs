//! How a oneshot is run: rinit-rc asks the oneshot runner, a supervised
//! service of the tree (as s6-rc asks its `s6rc-oneshot-runner`), so that
//! the script gets the tree's environment and output and outlives a caller
//! that dies. This module is the one writer and reader of their protocol,
//! and rinit-rc's side of it (`Client`).
//!
//! The runner listens on the unix seqpacket socket `<live>/oneshot/socket`,
//! inside a directory of mode 0700 that must belong to the caller (checked,
//! opened without following a symlink; the socket is reached relative to
//! it). One connection per rinit-rc; each message is one record:
//!
//! Request (caller → runner), little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | `u` (run `up`) or `d` (run `down`) |
//! | 1 | 1 | flags: 1 = working directory is the service's `data/` |
//! | 2 | 2 | length of the service name (1 to `MAX_NAME`) |
//! | 4 | 4 | tag: the service's index in the caller's database |
//! | 8 | 4 | timeout in ms (0: none); the runner kills the script then |
//! | 12 | 4 | number of argv words (1 to `MAX_ARGV`) |
//! | 16 | 8 | checksum of the caller's database |
//! | 24 | 4 | number of services in it |
//! | 28 | 4 | zero |
//! | 32 | … | the name, then each argv word followed by a NUL |
//!
//! Reply (runner → caller), `REPLY_LEN` bytes: kind (`s` started, value the
//! pid; `e` ended, value the wait status, flag 1 when it was killed at its
//! timeout; `x` refused, value an errno), flags, two zero bytes, the tag,
//! the value (i32), four zero bytes.
//!
//! A caller that goes away leaves its scripts running: the runner records
//! the success of each one that ends in the live `state` (under the live
//! lock, while the caller's database is still the live one), and a later
//! caller asking for the same service in the same direction is given the
//! running script's result instead of a second run. A runner that goes
//! away (end of file) fails the caller's scripts in flight; the caller
//! ends their sessions.

use crate::db::{Db, F_DATA, F_HAS_DOWN, Svc};
use crate::source::MAX_NAME;
use base::path::PathBuf;
use base::sys::{self, Errno, Fd, Open, OwnedFd, Pid, WaitStatus, errno};

/// The runner's service directory in the scan directory, and its program.
pub const RUNNER: &[u8] = b"rinit-oneshot-runner";
/// The runner's private directory in the live directory (mode 0700).
pub const DIR: &core::ffi::CStr = c"oneshot";
/// The socket inside it.
pub const SOCKET: &core::ffi::CStr = c"socket";
/// Most words in one `up`/`down` command line.
pub const MAX_ARGV: usize = crate::execline::MAX_WORDS;
/// Most bytes of one command line's words, NULs included (a longer one is
/// refused before it is sent).
pub const MAX_ARGV_BYTES: usize = 64 * 1024;
/// Bytes of a request's fixed part.
pub const REQUEST_HEAD: usize = 32;
/// Largest request.
pub const MAX_REQUEST: usize = REQUEST_HEAD + MAX_NAME + MAX_ARGV_BYTES;
/// Bytes of a reply.
pub const REPLY_LEN: usize = 16;
/// How long rinit-rc waits for a runner that is supervised but not
/// listening yet (starting, or restarting after it died), in ms.
pub const RUNNER_WAIT_MS: u64 = 10_000;

/// Request flag: the script runs in its service's `data/`.
pub const RQ_DATA: u8 = 1;
/// Reply flag: the script was killed at its timeout.
pub const RP_TIMED_OUT: u8 = 1;

/// A request as the runner reads it (borrowed from its buffer).
pub struct Request<'a> {
    pub up: bool,
    pub data: bool,
    pub name: &'a [u8],
    pub tag: u32,
    pub timeout_ms: u32,
    pub db_sum: u64,
    pub db_len: u32,
    /// `words` NUL-terminated words.
    pub argv: &'a [u8],
    pub words: usize,
}

fn le32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// The tag of a request, as far as it can be read (for the answer to one
/// that is refused).
pub fn tag_of(b: &[u8]) -> u32 {
    le32(b, 4)
}

impl<'a> Request<'a> {
    /// Reads and checks one request; EPROTO for anything malformed (a name
    /// that is not one path component, words that do not fill the rest).
    pub fn decode(b: &'a [u8]) -> Result<Request<'a>, Errno> {
        let head = b.get(..REQUEST_HEAD).ok_or(errno::EPROTO)?;
        let up = match head[0] {
            b'u' => true,
            b'd' => false,
            _ => return Err(errno::EPROTO),
        };
        let name_len = u16::from_le_bytes([head[2], head[3]]) as usize;
        let words = le32(head, 12) as usize;
        let name = b.get(REQUEST_HEAD..REQUEST_HEAD + name_len).ok_or(errno::EPROTO)?;
        if name.is_empty() || name.len() > MAX_NAME || name.contains(&b'/') || name.contains(&0) || name == b"." || name == b".." {
            return Err(errno::EPROTO);
        }
        let argv = b.get(REQUEST_HEAD + name_len..).ok_or(errno::EPROTO)?;
        let nuls = argv.iter().filter(|&&c| c == 0).count();
        if words == 0 || words > MAX_ARGV || nuls != words || argv.last() != Some(&0) || argv.first() == Some(&0) {
            return Err(errno::EPROTO);
        }
        let mut sum = [0u8; 8];
        sum.copy_from_slice(head.get(16..24).ok_or(errno::EPROTO)?);
        Ok(Request {
            up,
            data: head[1] & RQ_DATA != 0,
            name,
            tag: le32(head, 4),
            timeout_ms: le32(head, 8),
            db_sum: u64::from_le_bytes(sum),
            db_len: le32(head, 24),
            argv,
            words,
        })
    }

    /// The words, each with its NUL, ready for exec.
    pub fn words(&self) -> impl Iterator<Item = &'a core::ffi::CStr> {
        let argv = self.argv;
        argv.split_inclusive(|&c| c == 0).filter_map(sys::cstr)
    }
}

/// What the runner says of one request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reply {
    Started { tag: u32, pid: Pid },
    Ended { tag: u32, status: WaitStatus, timed_out: bool },
    Refused { tag: u32, e: Errno },
}

impl Reply {
    pub fn encode(&self) -> [u8; REPLY_LEN] {
        let (kind, flags, tag, value) = match *self {
            Reply::Started { tag, pid } => (b's', 0, tag, pid),
            Reply::Ended { tag, status, timed_out } => (b'e', if timed_out { RP_TIMED_OUT } else { 0 }, tag, status.0),
            Reply::Refused { tag, e } => (b'x', 0, tag, e.0 as i32),
        };
        let mut b = [0u8; REPLY_LEN];
        b[0] = kind;
        b[1] = flags;
        b[4..8].copy_from_slice(&tag.to_le_bytes());
        b[8..12].copy_from_slice(&value.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<Reply> {
        if b.len() != REPLY_LEN {
            return None;
        }
        let (tag, value) = (le32(b, 4), le32(b, 8) as i32);
        match b[0] {
            b's' => Some(Reply::Started { tag, pid: value }),
            b'e' => Some(Reply::Ended { tag, status: WaitStatus(value), timed_out: b[1] & RP_TIMED_OUT != 0 }),
            b'x' => Some(Reply::Refused { tag, e: Errno(value as u16) }),
            _ => None,
        }
    }
}

/// Opens `<live>/oneshot`, refusing a symlink or anything but a directory
/// (ENOTDIR), and a directory that others could write into or read (not
/// ours, or open to group or others: EPERM).
pub fn open_dir(live: &[u8]) -> Result<OwnedFd, Errno> {
    let p = PathBuf::join(live, &[b"/", DIR.to_bytes()])?;
    let fd = sys::open(p.as_cstr(), Open::PATH | Open::DIRECTORY | Open::NOFOLLOW, 0)?;
    match sys::fstat(fd.fd()) {
        Ok(st) if st.uid == sys::geteuid() && st.mode & 0o077 == 0 => Ok(fd),
        r => Err(r.err().unwrap_or(errno::EPERM)),
    }
}

/// The runner's side: makes `<live>/oneshot` (0700) if it is missing,
/// checks it as `open_dir` does, moves into it for good, and listens on a
/// fresh `socket` there (a predecessor's is replaced).
pub fn listen(live: &[u8], backlog: u32) -> Result<OwnedFd, Errno> {
    let l = PathBuf::join(live, &[])?;
    let made = sys::open(l.as_cstr(), Open::PATH | Open::DIRECTORY, 0).and_then(|lfd| sys::mkdir_in(lfd.fd(), DIR, 0o700));
    match made {
        Ok(()) | Err(errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    sys::fchdir(open_dir(live)?.fd())?;
    match sys::unlink(SOCKET) {
        Ok(()) | Err(errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    sys::umask(0o077);
    sys::unix_seqpacket_listen(SOCKET, backlog)
}

/// rinit-rc's connection to the runner, and its request buffer (keep it
/// in a static: `MAX_REQUEST` bytes, all zero when new, so in .bss).
pub struct Client {
    fd: Option<OwnedFd>,
    buf: [u8; MAX_REQUEST],
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a oneshot could not be handed to the runner.
pub type Fail = (&'static [u8], Errno);

impl Client {
    pub const fn new() -> Client {
        Client { fd: None, buf: [0; MAX_REQUEST] }
    }

    /// The connection, when there is one.
    pub fn fd(&self) -> Option<Fd> {
        self.fd.as_ref().map(OwnedFd::fd)
    }

    /// Connects to the runner of `live` unless connected; true when it
    /// just did (the caller watches the new descriptor). A runner that is
    /// in `scandir` but not listening yet (restarting, or its supervisor
    /// being restarted) is waited for, until `until` (monotonic ns, 0: none)
    /// or `RUNNER_WAIT_MS`; one that is not there at all fails at once.
    pub fn connect(&mut self, live: &[u8], scandir: &[u8], until: u64) -> Result<bool, Fail> {
        if self.fd.is_some() {
            return Ok(false);
        }
        let give_up = sys::now_mono_ns().saturating_add(RUNNER_WAIT_MS * 1_000_000);
        let give_up = if until != 0 { give_up.min(until) } else { give_up };
        let svc = PathBuf::join(scandir, &[b"/", RUNNER]).map_err(|e| (&b"unable to reach the oneshot runner"[..], e))?;
        loop {
            match connect_in(live) {
                Ok(fd) => {
                    self.fd = Some(fd);
                    return Ok(true);
                }
                Err(e @ (errno::ENOENT | errno::ECONNREFUSED)) => {
                    // A killed supervisor is back as soon as the scanner
                    // sees it gone: only a runner whose directory is not in
                    // the scan directory at all fails at once.
                    if base::control::is_supervised(svc.as_bytes()) != Ok(true) && !sys::is_dir(svc.as_cstr()) {
                        return Err((b"no oneshot runner: rinit-oneshot-runner is not supervised in the scan directory (rinit-rc-init installs it)", e));
                    }
                    if sys::now_mono_ns() >= give_up {
                        return Err((b"the oneshot runner does not answer", e));
                    }
                    sys::sleep_ms(20);
                }
                Err(e) => return Err((b"unable to reach the oneshot runner", e)),
            }
        }
    }

    /// Asks for `s`'s `up` (or `down`) script; Ok(false) when there is
    /// nothing to run (a oneshot without `down`).
    pub fn start(&mut self, db: &Db, s: &Svc, up: bool, timeout_ms: u32) -> Result<bool, Fail> {
        if !up && s.flags() & F_HAS_DOWN == 0 {
            return Ok(false);
        }
        let name = s.name();
        let mut at = REQUEST_HEAD + name.len();
        let mut words = 0u32;
        let list = if up { s.up() } else { s.down() };
        for w in list.iter() {
            let word = db.cstr_nul(w).map(|c| c.to_bytes_with_nul()).unwrap_or(b"\0");
            let end = at + word.len();
            let Some(dst) = self.buf.get_mut(at..end) else {
                return Err((b"command line too long for the oneshot runner", errno::E2BIG));
            };
            dst.copy_from_slice(word);
            at = end;
            words += 1;
        }
        if words == 0 {
            return Err((b"empty command line", errno::EINVAL));
        }
        let head = &mut self.buf[..REQUEST_HEAD];
        head.fill(0);
        head[0] = if up { b'u' } else { b'd' };
        head[1] = if s.flags() & F_DATA != 0 { RQ_DATA } else { 0 };
        head[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
        head[4..8].copy_from_slice(&s.index.to_le_bytes());
        head[8..12].copy_from_slice(&timeout_ms.to_le_bytes());
        head[12..16].copy_from_slice(&words.to_le_bytes());
        head[16..24].copy_from_slice(&crate::db::stored_checksum(db.bytes()).unwrap_or(0).to_le_bytes());
        head[24..28].copy_from_slice(&(db.len() as u32).to_le_bytes());
        if let Some(dst) = self.buf.get_mut(REQUEST_HEAD..REQUEST_HEAD + name.len()) {
            dst.copy_from_slice(name);
        }
        // Blocking: the runner reads every request at once, and a runner
        // that dies ends the wait with EPIPE.
        let fd = self.fd().ok_or((&b"unable to talk to the oneshot runner"[..], errno::EPIPE))?;
        match sys::send_msg(fd, self.buf.get(..at).unwrap_or(&[]), true) {
            Ok(_) => Ok(true),
            Err(e) => Err((b"unable to talk to the oneshot runner", e)),
        }
    }

    /// The next reply; Ok(None) when none is waiting, EPIPE when the runner
    /// has gone (or said something that is not a reply).
    pub fn next(&mut self) -> Result<Option<Reply>, Errno> {
        let mut b = [0u8; REPLY_LEN + 1];
        let fd = self.fd().ok_or(errno::EPIPE)?;
        match sys::recv_msg(fd, &mut b) {
            Ok(0) => Err(errno::EPIPE),
            Ok(n) => Reply::decode(b.get(..n).unwrap_or(&[])).map(Some).ok_or(errno::EPIPE),
            Err(errno::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Hangs up (the runner keeps running what it was asked to).
    pub fn disconnect(&mut self) {
        // Dropped: closed.
        self.fd = None;
    }
}

/// Connects to `<live>/oneshot/socket` from inside the checked directory
/// (a socket's path is only ever followed by name: the working directory is
/// moved there and back, so the path is short and no symlink is taken).
fn connect_in(live: &[u8]) -> Result<OwnedFd, Errno> {
    let dir = open_dir(live)?;
    match sys::stat_in(dir.fd(), SOCKET) {
        Ok(st) if st.kind == sys::FileType::Socket => in_dir(dir.fd(), || sys::unix_seqpacket_connect(SOCKET)),
        Ok(_) => Err(errno::EPERM),
        Err(e) => Err(e),
    }
}

/// Runs `f` with `dir` as the working directory, then goes back.
fn in_dir<T>(dir: Fd, f: impl FnOnce() -> Result<T, Errno>) -> Result<T, Errno> {
    let here = sys::open(c".", Open::PATH | Open::DIRECTORY, 0)?;
    let r = sys::fchdir(dir).and_then(|_| f());
    // Back where it was: the descriptor is a directory we were in.
    let _ = sys::fchdir(here.fd());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_back_and_garbage_is_refused() {
        for r in [
            Reply::Started { tag: 7, pid: 1234 },
            Reply::Ended { tag: 4095, status: WaitStatus(3 << 8), timed_out: false },
            Reply::Ended { tag: 0, status: WaitStatus(9), timed_out: true },
            Reply::Refused { tag: 1, e: errno::EAGAIN },
        ] {
            assert_eq!(Reply::decode(&r.encode()), Some(r));
        }
        assert_eq!(Reply::decode(b"z..............."), None);
        assert_eq!(Reply::decode(b"s"), None);
    }

    fn request(name: &[u8], argv: &[u8], words: u32) -> Vec<u8> {
        let mut b = vec![0u8; REQUEST_HEAD];
        b[0] = b'u';
        b[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
        b[12..16].copy_from_slice(&words.to_le_bytes());
        b.extend_from_slice(name);
        b.extend_from_slice(argv);
        b
    }

    #[test]
    fn requests_that_do_not_hold_together_are_refused() {
        let ok = request(b"svc", b"echo\0hi\0", 2);
        let r = Request::decode(&ok).unwrap();
        assert_eq!(r.name, b"svc");
        assert_eq!(r.words().map(|c| c.to_bytes().to_vec()).collect::<Vec<_>>(), [b"echo".to_vec(), b"hi".to_vec()]);
        for bad in [
            request(b"../x", b"echo\0", 1),
            request(b"..", b"echo\0", 1),
            request(b"", b"echo\0", 1),
            request(b"svc", b"echo\0hi", 2),
            request(b"svc", b"echo\0hi\0", 3),
            request(b"svc", b"\0", 1),
            request(b"svc", b"", 0),
            ok[..10].to_vec(),
        ] {
            assert!(Request::decode(&bad).is_err(), "{bad:?}");
        }
    }
}
