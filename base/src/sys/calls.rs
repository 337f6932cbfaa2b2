//! The system calls made by hand (`syscall!`): those rustix keeps private
//! (fork's relatives, execve, exit, signal masks, signalfd, wait4 with the
//! raw status) or makes bigger than they need be. Each takes and returns
//! plain values; the pointers it hands the kernel are its own business.
// Part of the unsafe floor of the syscall layer: every call here passes
// the kernel addresses it will read or write.
#![allow(unsafe_code)]

use super::errno::{self, ret};
use super::raw::{self, syscall};
use super::{Argv, Errno, Fd, OwnedFd, Pid, Result, SigSet, WaitStatus, cstr, environ};
use core::ffi::CStr;
use linux_raw_sys::general as k;
use linux_raw_sys::net;
use rustix::fd::BorrowedFd;

/// `fd` as rustix's borrowed descriptor, for one call.
pub(super) fn bfd(fd: Fd) -> BorrowedFd<'static> {
    // borrow_raw panics on -1 (a common "no descriptor" value); any other
    // negative number gets the same EBADF from the kernel.
    let n = if fd.0 == -1 { i32::MIN } else { fd.0 };
    // SAFETY: rustix only uses the number for the duration of one syscall;
    // an invalid number gives EBADF, never undefined behaviour.
    unsafe { BorrowedFd::borrow_raw(n) }
}

/// A descriptor rustix opened, as ours.
pub(super) fn own(fd: rustix::fd::OwnedFd) -> OwnedFd {
    use rustix::fd::IntoRawFd;
    OwnedFd::from_raw(Fd(fd.into_raw_fd()))
}
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group never returns.
    unsafe {
        syscall!(EXIT_GROUP, code as usize);
    }
    loop {}
}
/// execve(2) with the process environment unless `env` is given. Returns only on error.
pub fn exec(path: &CStr, argv: Argv, env: Option<Argv>) -> Errno {
    let envp = match env {
        Some(e) => e.ptr,
        None => environ().ptr,
    };
    // SAFETY: path, argv and envp are NUL/NULL-terminated and outlive the call.
    let r = unsafe { syscall!(EXECVE, path.as_ptr() as usize, argv.ptr as usize, envp as usize) };
    match ret(r) {
        Err(e) => e,
        Ok(_) => errno::EINVAL,
    }
}
pub(super) fn wait4(pid: Pid, options: u32) -> Result<Option<(Pid, WaitStatus)>> {
    let mut status: i32 = 0;
    // SAFETY: status is a valid out-pointer; rusage is NULL.
    let r = unsafe { syscall!(WAIT4, pid as isize as usize, &mut status as *mut i32 as usize, options, 0) };
    let p = ret(r)? as Pid;
    if p == 0 { Ok(None) } else { Ok(Some((p, WaitStatus(status)))) }
}

pub fn kill(pid: Pid, sig: i32) -> Result<()> {
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(KILL, pid as isize as usize, sig as usize) }).map(|_| ())
}
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<()> {
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(SETPGID, pid as usize, pgid as usize) }).map(|_| ())
}

pub fn getpgid(pid: Pid) -> Result<Pid> {
    // SAFETY: plain integer argument.
    ret(unsafe { syscall!(GETPGID, pid as usize) }).map(|p| p as Pid)
}
/// The working directory into `buf`; returns its length (no NUL counted).
pub fn getcwd(buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = ret(unsafe { syscall!(GETCWD, buf.as_mut_ptr() as usize, buf.len()) })?;
    Ok(n.saturating_sub(1))
}

/// The resource numbers of `setrlimit` and `raise_rlimit`.
pub const RLIMIT_NPROC: u32 = k::RLIMIT_NPROC;
pub const RLIMIT_NOFILE: u32 = k::RLIMIT_NOFILE;

pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    let lim = [soft, hard];
    // SAFETY: lim is a valid struct rlimit64 for the call; old is NULL.
    ret(unsafe { syscall!(PRLIMIT64, 0, resource as usize, lim.as_ptr() as usize, 0) }).map(|_| ())
}

/// The (soft, hard) limits of `resource`.
pub fn getrlimit(resource: u32) -> Result<(u64, u64)> {
    let mut old = [0u64; 2];
    // SAFETY: old is a valid out struct rlimit64; new is NULL (read only).
    ret(unsafe { syscall!(PRLIMIT64, 0, resource as usize, 0, old.as_mut_ptr() as usize) })?;
    let [soft, hard] = old;
    Ok((soft, hard))
}

pub(super) fn sigprocmask(how: u32, set: SigSet) -> Result<()> {
    let set = raw::sigset(set.0);
    // SAFETY: set is a valid kernel signal set; oldset NULL.
    ret(unsafe { syscall!(RT_SIGPROCMASK, how, set.as_ptr() as usize, 0, raw::SIGSET_BYTES) }).map(|_| ())
}

/// A signalfd for `set` (which must be blocked), non-blocking and close-on-exec.
pub fn signalfd(set: SigSet) -> Result<OwnedFd> {
    // SFD_CLOEXEC and SFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
    let flags = k::O_CLOEXEC | k::O_NONBLOCK;
    let set = raw::sigset(set.0);
    // SAFETY: set is a valid kernel signal set.
    ret(unsafe { syscall!(SIGNALFD4, (-1isize) as usize, set.as_ptr() as usize, raw::SIGSET_BYTES, flags) })
        .map(|f| OwnedFd::from_raw(Fd(f as i32)))
}
/// Sets the disposition of `sig` to default (true) or ignore (false).
pub fn sig_default(sig: i32, default: bool) -> Result<()> {
    // struct kernel_sigaction { handler, flags, restorer, mask } (MIPS: flags first)
    let mut act = [0usize; raw::SIGACTION_WORDS];
    // SIG_DFL is 0 and SIG_IGN 1 (linux-raw-sys has them as function types).
    act[raw::SIGACTION_HANDLER] = if default { 0 } else { 1 };
    // SAFETY: act is a valid kernel sigaction with SIG_DFL/SIG_IGN; oldact NULL.
    ret(unsafe { syscall!(RT_SIGACTION, sig as usize, act.as_ptr() as usize, 0, raw::SIGSET_BYTES) }).map(|_| ())
}

/// The file system type (statfs f_type) of the file `fd` is on, on MIPS.
/// By hand: rustix's `StatFs` is the generic layout, and MIPS's `statfs64`
/// is its own (96 bytes, not 88): its kernel refuses rustix's call, and
/// qemu-user wrote its larger structure past rustix's buffer, into the
/// caller's saved registers.
#[cfg(target_arch = "mips")]
pub fn fstatfs_type(fd: Fd) -> Result<u64> {
    let mut st = core::mem::MaybeUninit::<raw::StatFs>::zeroed();
    // SAFETY: st is a valid out struct of the size the kernel is told.
    ret(unsafe { raw::fstatfs(fd.0, st.as_mut_ptr()) })?;
    // SAFETY: zeroed, then filled by the kernel: every field is an integer.
    Ok(unsafe { st.assume_init() }.f_type as u64)
}

/// close(2): `OwnedFd`'s drop.
#[inline(never)]
pub(super) fn close(fd: Fd) {
    // EBADF or EINTR: either way the number is no longer ours to use.
    // SAFETY: plain integer argument; closing an unknown number gives EBADF.
    let _ = unsafe { syscall!(CLOSE, fd.0 as usize) };
}
pub fn dup2(old: Fd, new: Fd) -> Result<()> {
    if old == new {
        return set_cloexec(new, false);
    }
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(DUP3, old.0 as usize, new.0 as usize, 0) }).map(|_| ())
}

pub fn dup(fd: Fd) -> Result<OwnedFd> {
    // F_DUPFD_CLOEXEC from 3 up, so stdio is never taken by accident.
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, k::F_DUPFD_CLOEXEC, 3) }).map(|f| OwnedFd::from_raw(Fd(f as i32)))
}

pub fn set_cloexec(fd: Fd, on: bool) -> Result<()> {
    let flag = if on { k::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD with an integer flag.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, k::F_SETFD, flag) }).map(|_| ())
}

pub fn set_nonblock(fd: Fd, on: bool) -> Result<()> {
    // SAFETY: F_GETFL/F_SETFL with integer flags.
    let fl = ret(unsafe { syscall!(FCNTL, fd.0 as usize, k::F_GETFL) })?;
    let nb = k::O_NONBLOCK as usize;
    let fl = if on { fl | nb } else { fl & !nb };
    // SAFETY: as above.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, k::F_SETFL, fl) }).map(|_| ())
}
/// readlink(2) into `buf`; ENAMETOOLONG when the target does not fit.
pub fn readlink<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a [u8]> {
    // SAFETY: buf is a valid writable buffer of buf.len() bytes.
    let n = ret(unsafe {
        syscall!(READLINKAT, k::AT_FDCWD as isize as usize, path.as_ptr() as usize, buf.as_mut_ptr() as usize, buf.len())
    })?;
    if n >= buf.len() {
        return Err(errno::ENAMETOOLONG);
    }
    Ok(&buf[..n])
}
/// readlink(2) of `name` inside the directory `dir`, as a C string in
/// `buf`; ENAMETOOLONG when the target does not fit.
pub fn readlink_in<'a>(dir: Fd, name: &CStr, buf: &'a mut [u8]) -> Result<&'a CStr> {
    // SAFETY: buf is a valid writable buffer of buf.len() bytes.
    let n = ret(unsafe { syscall!(READLINKAT, dir.0 as isize as usize, name.as_ptr() as usize, buf.as_mut_ptr() as usize, buf.len()) })?;
    match buf.get_mut(n) {
        Some(z) => *z = 0,
        None => return Err(errno::ENAMETOOLONG),
    }
    cstr(buf.get(..n + 1).unwrap_or(&[])).ok_or(errno::EINVAL)
}
/// ioctl(2) whose argument is one int, read and written by the kernel
/// (the watchdog's requests). GETSUPPORT's 40-byte struct starts with
/// its options word, so a 40-byte buffer is passed for every request.
pub fn ioctl_int(fd: Fd, request: u32, value: &mut i32) -> Result<()> {
    let mut arg = [0i32; 10];
    arg[0] = *value;
    // SAFETY: arg is a valid 40-byte buffer, as large as any of the
    // requests reads or writes.
    ret(unsafe { syscall!(IOCTL, fd.0 as usize, request as usize, arg.as_mut_ptr() as usize) })?;
    *value = arg[0];
    Ok(())
}
/// struct flock64 for fcntl record locks (`raw` checks its layout against
/// the kernel's on each architecture).
#[repr(C)]
pub(super) struct Flock {
    pub(super) l_type: i16,
    pub(super) l_whence: i16,
    pub(super) l_start: i64,
    pub(super) l_len: i64,
    pub(super) l_pid: i32,
}

/// Exclusive POSIX record lock (fcntl F_SETLK, F_WRLCK, whole file),
/// non-blocking: the kind skalibs takes on `supervise/lock`, so s6's tools
/// (s6-svok, s6-svstat: F_GETLK) see it. `fd` must be open for writing.
/// Ok(false) when another process holds it. Not inherited by children; it
/// goes when this process closes any descriptor of the file.
pub fn lock_record_nb(fd: Fd) -> Result<bool> {
    let mut fl = Flock { l_type: k::F_WRLCK as i16, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
    // SAFETY: fl is a valid struct flock for the call.
    match ret(unsafe { syscall!(FCNTL, fd.0 as usize, raw::F_SETLK, &mut fl as *mut Flock as usize) }) {
        Ok(_) => Ok(true),
        Err(errno::EAGAIN | errno::EACCES) => Ok(false), // held
        Err(e) => Err(e),
    }
}

/// Does another process hold a POSIX record lock on the file (s6-svok's
/// test: F_GETLK for a write lock)? `fd` may be read-only.
pub fn record_locked(fd: Fd) -> Result<bool> {
    let mut fl = Flock { l_type: k::F_WRLCK as i16, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
    // SAFETY: fl is a valid struct flock the kernel fills in.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, raw::F_GETLK, &mut fl as *mut Flock as usize) })?;
    Ok(fl.l_type != k::F_UNLCK as i16)
}
// ---------------------------------------------------------------- sockets

/// Room for a unix socket's path in `struct sockaddr_un`, its NUL included.
pub const UNIX_PATH_MAX: usize = 108;

/// A unix datagram socket bound to `path` (close-on-exec, non-blocking),
/// whose every datagram comes with its sender's credentials (SO_PASSCRED).
/// ENAMETOOLONG when `path` does not fit a `sockaddr_un`.
pub fn unix_dgram_bind(path: &CStr) -> Result<OwnedFd> {
    let (sa, len) = sockaddr_un(path)?;
    // SOCK_NONBLOCK and SOCK_CLOEXEC are O_NONBLOCK and O_CLOEXEC.
    let kind = net::SOCK_DGRAM | k::O_NONBLOCK | k::O_CLOEXEC;
    // SAFETY: plain integer arguments.
    let owned = OwnedFd::from_raw(Fd(ret(unsafe { syscall!(SOCKET, net::AF_UNIX, kind, 0) })? as i32));
    let fd = owned.fd();
    let one: i32 = 1;
    // SAFETY: `one` is a valid int option value; `sa` a valid sockaddr_un
    // of the length given.
    let r = ret(unsafe { syscall!(SETSOCKOPT, fd.0 as usize, net::SOL_SOCKET, net::SO_PASSCRED, &one as *const i32 as usize, 4) })
        .and_then(|_| ret(unsafe { syscall!(BIND, fd.0 as usize, sa.as_ptr() as usize, len) }));
    r.map(|_| owned)
}

/// `struct sockaddr_un` for `path`, and its length.
fn sockaddr_un(path: &CStr) -> Result<([u8; 2 + UNIX_PATH_MAX], usize)> {
    let p = path.to_bytes_with_nul();
    let mut sa = [0u8; 2 + UNIX_PATH_MAX];
    sa.get_mut(2..2 + p.len()).ok_or(errno::ENAMETOOLONG)?.copy_from_slice(p);
    sa[..2].copy_from_slice(&(net::AF_UNIX as u16).to_ne_bytes());
    Ok((sa, 2 + p.len()))
}

/// SOCK_SEQPACKET | SOCK_CLOEXEC: messages keep their boundaries, and a
/// peer's end is seen as end of file.
const SEQPACKET_CLOEXEC: u32 = net::SOCK_SEQPACKET | k::O_CLOEXEC;

/// A unix seqpacket socket listening at `path` (non-blocking,
/// close-on-exec), with room for `backlog` waiting connections. The
/// socket file gets the umask's mode: bind it inside a private directory.
pub fn unix_seqpacket_listen(path: &CStr, backlog: u32) -> Result<OwnedFd> {
    let (sa, len) = sockaddr_un(path)?;
    // SAFETY: plain integer arguments.
    let owned = OwnedFd::from_raw(Fd(ret(unsafe { syscall!(SOCKET, net::AF_UNIX, SEQPACKET_CLOEXEC | k::O_NONBLOCK, 0) })? as i32));
    let fd = owned.fd();
    // SAFETY: `sa` is a valid sockaddr_un of the length given.
    let r = ret(unsafe { syscall!(BIND, fd.0 as usize, sa.as_ptr() as usize, len) })
        // SAFETY: plain integer arguments.
        .and_then(|_| ret(unsafe { syscall!(LISTEN, fd.0 as usize, backlog as usize) }));
    r.map(|_| owned)
}

/// A unix seqpacket socket connected to `path` (blocking, close-on-exec).
pub fn unix_seqpacket_connect(path: &CStr) -> Result<OwnedFd> {
    let (sa, len) = sockaddr_un(path)?;
    // SAFETY: plain integer arguments.
    let owned = OwnedFd::from_raw(Fd(ret(unsafe { syscall!(SOCKET, net::AF_UNIX, SEQPACKET_CLOEXEC, 0) })? as i32));
    loop {
        // SAFETY: `sa` is a valid sockaddr_un of the length given.
        match ret(unsafe { syscall!(CONNECT, owned.fd().0 as usize, sa.as_ptr() as usize, len) }) {
            Ok(_) => return Ok(owned),
            Err(errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The next connection waiting on a listening socket (non-blocking,
/// close-on-exec); EAGAIN when none is.
pub fn accept(fd: Fd) -> Result<OwnedFd> {
    // SAFETY: no address wanted (NULL, NULL); flags SOCK_NONBLOCK | SOCK_CLOEXEC.
    ret(unsafe { syscall!(ACCEPT4, fd.0 as usize, 0, 0, k::O_NONBLOCK | k::O_CLOEXEC) }).map(|r| OwnedFd::from_raw(Fd(r as i32)))
}

/// Sends one message on a connected socket; EPIPE (never SIGPIPE) when the
/// peer is gone. `wait`: block while the peer's queue is full (else EAGAIN).
pub fn send_msg(fd: Fd, buf: &[u8], wait: bool) -> Result<usize> {
    let flags = net::MSG_NOSIGNAL | if wait { 0 } else { net::MSG_DONTWAIT };
    loop {
        // SAFETY: `buf` is valid for its length; no address (connected).
        match ret(unsafe { syscall!(SENDTO, fd.0 as usize, buf.as_ptr() as usize, buf.len(), flags, 0, 0) }) {
            Err(errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Receives one message (its first `buf.len()` bytes) without waiting:
/// EAGAIN when none is there, 0 when the peer has gone.
pub fn recv_msg(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    loop {
        // SAFETY: `buf` is valid for its length; no address wanted.
        match ret(unsafe { syscall!(RECVFROM, fd.0 as usize, buf.as_mut_ptr() as usize, buf.len(), net::MSG_DONTWAIT, 0, 0) }) {
            Err(errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// One datagram received by `recv_with_pid`.
#[derive(Clone, Copy, Debug)]
pub struct Datagram {
    /// Its whole length, even when longer than the buffer (then only the
    /// buffer's length was kept).
    pub len: usize,
    /// The sender's pid in our pid namespace; 0 when the kernel gave none
    /// (a sender it cannot map).
    pub pid: Pid,
}

/// Receives one datagram into `buf` from a socket made by
/// `unix_dgram_bind`; EAGAIN when none is waiting. Descriptors passed along
/// (SCM_RIGHTS) find no room in the control buffer and are dropped by the
/// kernel, never installed here.
pub fn recv_with_pid(fd: Fd, buf: &mut [u8]) -> Result<Datagram> {
    #[repr(C)]
    struct IoVec {
        base: *mut u8,
        len: usize,
    }
    #[repr(C)]
    struct MsgHdr {
        name: usize,
        namelen: u32,
        iov: *mut IoVec,
        iovlen: usize,
        control: *mut u8,
        controllen: usize,
        flags: i32,
    }
    // cmsghdr (len, level, type) then struct ucred (pid, uid, gid): one
    // CMSG_SPACE(12) = 32 bytes on 64-bit targets (24 on 32-bit), 8-aligned.
    let mut control = [0u64; 4];
    let mut iov = IoVec { base: buf.as_mut_ptr(), len: buf.len() };
    let mut msg = MsgHdr { name: 0, namelen: 0, iov: &mut iov, iovlen: 1, control: control.as_mut_ptr() as *mut u8, controllen: 32, flags: 0 };
    // MSG_TRUNC: the datagram's real length comes back.
    // SAFETY: msg points at a valid iovec over `buf` and a 32-byte control
    // buffer, all alive for the call.
    let len = ret(unsafe { syscall!(RECVMSG, fd.0 as usize, &mut msg as *mut MsgHdr as usize, net::MSG_TRUNC) })?;
    let mut bytes = [0u8; 32];
    for (b, w) in bytes.chunks_exact_mut(8).zip(control) {
        b.copy_from_slice(&w.to_ne_bytes());
    }
    let int = |i: usize| i32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    // One cmsg: its length (a size_t), SOL_SOCKET, SCM_CREDENTIALS, then
    // the ucred, whose pid is at CMSG_DATA: byte 16 on 64-bit targets, 12
    // on 32-bit ones.
    const W: usize = core::mem::size_of::<usize>();
    const DATA: usize = (W + 8).next_multiple_of(W);
    let (level, kind) = (net::SOL_SOCKET as i32, net::SCM_CREDENTIALS as i32);
    let pid = if msg.controllen >= DATA + 12 && int(W) == level && int(W + 4) == kind { int(DATA) } else { 0 };
    Ok(Datagram { len, pid })
}

/// The session id of process `pid`.
pub fn getsid(pid: Pid) -> Result<Pid> {
    // SAFETY: plain integer argument.
    ret(unsafe { syscall!(GETSID, pid as usize) }).map(|p| p as Pid)
}
/// clock_gettime(2) as a plain syscall: rustix's vDSO lookup costs ~2 KB of
/// code in every binary that reads the clock, for ~100 ns saved per call.
pub(super) fn clock_gettime(id: u32) -> (u64, u32) {
    let mut ts = [0i64; 2];
    // CLOCK_MONOTONIC and CLOCK_REALTIME with a valid buffer cannot fail.
    // SAFETY: ts is a valid struct timespec (two 64-bit fields) for the call.
    let _ = unsafe { syscall!(CLOCK_GETTIME, id, ts.as_mut_ptr() as usize) };
    (ts[0] as u64, ts[1] as u32)
}
/// What to wait for on one descriptor.
#[derive(Clone, Copy)]
pub struct PollFd {
    /// None: an entry the kernel skips (it takes a negative number).
    pub fd: Option<Fd>,
    pub read: bool,
    pub write: bool,
    /// Set by `poll`: the descriptor is ready (or hung up / in error).
    pub ready: bool,
}

impl PollFd {
    pub const fn read(fd: Fd) -> PollFd {
        PollFd { fd: Some(fd), read: true, write: false, ready: false }
    }
    /// Reading `fd` when there is one; an entry `poll` skips otherwise.
    pub const fn read_if(fd: Option<Fd>) -> PollFd {
        PollFd { fd, read: true, write: false, ready: false }
    }
    pub const fn write(fd: Fd) -> PollFd {
        PollFd { fd: Some(fd), read: false, write: true, ready: false }
    }
}

/// Most descriptors one `poll` call watches.
pub const POLL_MAX: usize = 16;

/// poll(2) on up to POLL_MAX descriptors, `timeout_ms` < 0 = forever.
/// Returns the number ready; 0 on timeout or interruption.
pub fn poll(fds: &mut [PollFd], timeout_ms: i64) -> Result<usize> {
    // struct pollfd { int fd; short events; short revents; }, straight to
    // ppoll(2): smaller than rustix's wrapper, and a negative fd (ignored
    // by the kernel) is allowed.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct RawPollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    let events = |p: &PollFd| {
        (if p.read { k::POLLIN as i16 } else { 0 }) | (if p.write { k::POLLOUT as i16 } else { 0 })
    };
    let n = fds.len().min(POLL_MAX);
    let mut raw = [RawPollFd { fd: -1, events: 0, revents: 0 }; POLL_MAX];
    for (r, p) in raw.iter_mut().zip(fds.iter()) {
        *r = RawPollFd { fd: p.fd.map_or(-1, |f| f.0), events: events(p), revents: 0 };
    }
    let ts = [timeout_ms / 1000, (timeout_ms % 1000) * 1_000_000];
    let tp = if timeout_ms < 0 { 0 } else { ts.as_ptr() as usize };
    // SAFETY: raw holds n valid struct pollfd; tp is NULL or a valid
    // timespec; no signal mask is passed.
    let r = unsafe { syscall!(PPOLL, raw.as_mut_ptr() as usize, n, tp, 0, super::raw::SIGSET_BYTES) };
    let r = match ret(r) {
        Ok(r) => r,
        Err(errno::EINTR) => 0,
        Err(e) => return Err(e),
    };
    for (p, r) in fds.iter_mut().zip(raw.iter()) {
        p.ready = r.revents != 0;
    }
    Ok(r)
}
