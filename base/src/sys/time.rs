//! Time and waiting: the clocks, and waiting on descriptors (`poll` for a
//! few, epoll for many).

use super::calls::{bfd, clock_gettime, own};
use super::{Fd, OwnedFd, Result, poll};
use linux_raw_sys::general as k;

/// Monotonic clock in nanoseconds.
pub fn now_mono_ns() -> u64 {
    let (s, ns) = clock_gettime(k::CLOCK_MONOTONIC);
    s * 1_000_000_000 + ns as u64
}

/// Wall clock (seconds since the epoch, nanoseconds).
pub fn now_real() -> (u64, u32) {
    clock_gettime(k::CLOCK_REALTIME)
}
/// Sleeps for `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    // Only EINTR (a signal): the sleep is a pause, never a deadline.
    let _ = poll(&mut [], ms as i64);
}

/// An epoll instance (close-on-exec), for watching more descriptors than `poll` takes.
pub fn epoll_create() -> Result<OwnedFd> {
    Ok(own(rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC)?))
}

/// Watches `fd` for reading; `token` comes back from `epoll_wait`.
pub fn epoll_add_read(ep: Fd, fd: Fd, token: u64) -> Result<()> {
    use rustix::event::epoll;
    Ok(epoll::add(bfd(ep), bfd(fd), epoll::EventData::new_u64(token), epoll::EventFlags::IN)?)
}

/// Watches `fd` for reading, edge-triggered: an event for each new arrival
/// of data (every write into a pipe) or hang-up, not for data already seen.
pub fn epoll_add_read_edge(ep: Fd, fd: Fd, token: u64) -> Result<()> {
    use rustix::event::epoll;
    let flags = epoll::EventFlags::IN | epoll::EventFlags::ET;
    Ok(epoll::add(bfd(ep), bfd(fd), epoll::EventData::new_u64(token), flags)?)
}

/// Stops watching `fd`.
pub fn epoll_del(ep: Fd, fd: Fd) -> Result<()> {
    Ok(rustix::event::epoll::delete(bfd(ep), bfd(fd))?)
}

/// Waits up to `timeout_ms` (< 0: forever) and fills `tokens` with those of
/// the ready descriptors; returns how many (0 on timeout or interruption).
pub fn epoll_wait(ep: Fd, tokens: &mut [u64], timeout_ms: i64) -> Result<usize> {
    use rustix::event::epoll;
    const MAX: usize = 64;
    let mut evs = [epoll::Event { flags: epoll::EventFlags::empty(), data: epoll::EventData::new_u64(0) }; MAX];
    let n = tokens.len().min(MAX);
    let ts;
    let t = if timeout_ms < 0 {
        None
    } else {
        ts = rustix::time::Timespec { tv_sec: timeout_ms / 1000, tv_nsec: (timeout_ms % 1000) * 1_000_000 };
        Some(&ts)
    };
    let got = match epoll::wait(bfd(ep), &mut evs[..n], t) {
        Ok(g) => g,
        Err(rustix::io::Errno::INTR) => 0,
        Err(e) => return Err(e.into()),
    };
    for (t, e) in tokens.iter_mut().zip(evs.iter()).take(got) {
        *t = e.data.u64();
    }
    Ok(got.min(n))
}
