//! Files and directories: opening (relative to a directory, refusing what
//! is not a regular file where others may write), reading and writing
//! whole, stat, locks, pipes.

use super::calls::{bfd, own};
use super::{Errno, Fd, OwnedFd, Result, errno};
use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::fs::{AtFlags, CWD, Mode};

pub use rustix::fs::FileType;

pub use rustix::fs::OFlags as Open;

pub fn open(path: &CStr, flags: Open, mode: u32) -> Result<OwnedFd> {
    Ok(own(rustix::fs::openat(CWD, path, flags | Open::CLOEXEC, Mode::from_bits_retain(mode))?))
}

/// Opens relative to a directory descriptor.
pub fn open_at(dir: Fd, path: &CStr, flags: Open, mode: u32) -> Result<OwnedFd> {
    Ok(own(rustix::fs::openat(bfd(dir), path, flags | Open::CLOEXEC, Mode::from_bits_retain(mode))?))
}

/// Opens a file to read that must be a regular file: a FIFO put in its
/// place must not block the reader for ever (ENOTREG instead).
pub fn open_read(path: &CStr) -> Result<OwnedFd> {
    regular(open(path, Open::RDONLY | Open::NONBLOCK, 0)?)
}

/// Opens `name` in `dir`, where others may have written: a symlink is not
/// followed, a FIFO does not block, anything but a regular file is ENOTREG.
pub fn open_regular_at(dir: Fd, name: &CStr, flags: Open, mode: u32) -> Result<OwnedFd> {
    open_regular_in(bfd(dir), name, flags, mode)
}

/// `open_regular_at` for a path (its last component is not followed).
pub fn open_regular(path: &CStr, flags: Open, mode: u32) -> Result<OwnedFd> {
    open_regular_in(CWD, path, flags, mode)
}

fn open_regular_in(dir: BorrowedFd<'static>, name: &CStr, flags: Open, mode: u32) -> Result<OwnedFd> {
    let flags = flags | Open::NOFOLLOW | Open::NONBLOCK | Open::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::from_bits_retain(mode)) {
        Ok(fd) => regular(own(fd)),
        // ELOOP: the name is a symlink; ENXIO: a FIFO without a reader, or a
        // device, opened to write.
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NXIO) => Err(errno::ENOTREG),
        Err(e) => Err(e.into()),
    }
}

/// `fd` itself if it is a regular file; closed and ENOTREG if not.
/// (O_NONBLOCK, left on, changes nothing for a regular file.)
fn regular(fd: OwnedFd) -> Result<OwnedFd> {
    // The raw mode bits, not `fstat`'s Stat: a few hundred bytes less in
    // every binary that reads a file.
    let kind = rustix::fs::fstat(bfd(fd.fd())).map(|st| st.st_mode as u32 & FileType::Unknown.as_raw_mode() as u32);
    match kind {
        Ok(k) if k == FileType::RegularFile.as_raw_mode() as u32 => Ok(fd),
        r => Err(r.err().map_or(errno::ENOTREG, Errno::from)),
    }
}

pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    loop {
        match rustix::io::read(bfd(fd), &mut *buf) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return Ok(r?),
        }
    }
}

pub fn write(fd: Fd, buf: &[u8]) -> Result<usize> {
    loop {
        match rustix::io::write(bfd(fd), buf) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return Ok(r?),
        }
    }
}

/// Writes all of `buf` (looping on short writes).
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = match buf.get(n..) {
            Some(rest) if n > 0 => rest,
            _ => return Err(errno::EIO),
        };
    }
    Ok(())
}

/// Writes all of `buf` at file offset `off` (the file position is untouched).
pub fn pwrite_all(fd: Fd, mut buf: &[u8], mut off: u64) -> Result<()> {
    while !buf.is_empty() {
        let n = match rustix::io::pwrite(bfd(fd), buf, off) {
            Err(rustix::io::Errno::INTR) => continue,
            r => r?,
        };
        buf = match buf.get(n..) {
            Some(rest) if n > 0 => rest,
            _ => return Err(errno::EIO),
        };
        off += n as u64;
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at file offset `off`.
pub fn pread(fd: Fd, buf: &mut [u8], off: u64) -> Result<usize> {
    Ok(rustix::io::pread(bfd(fd), buf, off)?)
}

/// Reads until `buf` is full or end of file; returns the count.
pub fn read_full(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) {
        let r = read(fd, rest)?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(n)
}

/// Reads a whole small file into `buf`. Err(EOVERFLOW) if it does not fit.
pub fn read_file<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a [u8]> {
    let owned = open_read(path)?;
    let fd = owned.fd();
    let r = read_full(fd, buf);
    let extra = if matches!(r, Ok(n) if n == buf.len()) {
        let mut one = [0u8; 1];
        read(fd, &mut one).unwrap_or(0)
    } else {
        0
    };
    drop(owned);
    let n = r?;
    match buf.get(..n) {
        Some(got) if extra == 0 => Ok(got),
        _ => Err(errno::EOVERFLOW),
    }
}


/// A pipe, both ends close-on-exec: (read end, write end).
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    Ok((own(r), own(w)))
}

/// Copies up to `len` bytes from the pipe `from` into the pipe `to` without
/// consuming them (tee(2), non-blocking): a way to look at a pipe's data and
/// leave it there. Ok(0) = `from` is empty and has no writer left.
pub fn tee(from: Fd, to: Fd, len: usize) -> Result<usize> {
    loop {
        match rustix::pipe::tee(bfd(from), bfd(to), len, rustix::pipe::SpliceFlags::NONBLOCK) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return Ok(r?),
        }
    }
}

/// Asks for a pipe capacity of `size` bytes (F_SETPIPE_SZ); returns the capacity granted.
pub fn set_pipe_size(fd: Fd, size: usize) -> Result<usize> {
    rustix::pipe::fcntl_setpipe_size(bfd(fd), size)?;
    Ok(rustix::pipe::fcntl_getpipe_size(bfd(fd))?)
}

/// The capacity of the pipe `fd`, in bytes (F_GETPIPE_SZ).
pub fn pipe_size(fd: Fd) -> Result<usize> {
    Ok(rustix::pipe::fcntl_getpipe_size(bfd(fd))?)
}

/// The bytes in the pipe `fd` (either end) that no reader has taken out yet (FIONREAD).
pub fn pipe_unread(fd: Fd) -> Result<u64> {
    Ok(rustix::io::ioctl_fionread(bfd(fd))?)
}

/// Has the other side of `fd` hung up (a pipe with no writer left), data or not?
pub fn is_hung_up(fd: Fd) -> bool {
    use rustix::event::{PollFd as RPollFd, PollFlags};
    let mut p = [RPollFd::from_borrowed_fd(bfd(fd), PollFlags::IN)];
    let zero = rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(rustix::event::poll(&mut p, Some(&zero)), Ok(1) if p[0].revents().intersects(PollFlags::HUP | PollFlags::ERR))
}

pub fn rename(from: &CStr, to: &CStr) -> Result<()> {
    Ok(rustix::fs::renameat(CWD, from, CWD, to)?)
}

/// Renames `from` to `to`, both inside the directory `dir`.
pub fn rename_in(dir: Fd, from: &CStr, to: &CStr) -> Result<()> {
    Ok(rustix::fs::renameat(bfd(dir), from, bfd(dir), to)?)
}

/// Removes the file `name` of the directory `dir`.
pub fn unlink_in(dir: Fd, name: &CStr) -> Result<()> {
    Ok(rustix::fs::unlinkat(bfd(dir), name, AtFlags::empty())?)
}

/// stat(2) of `name` inside the directory `dir`, not following a symlink.
pub fn stat_in(dir: Fd, name: &CStr) -> Result<Stat> {
    Ok(to_stat(rustix::fs::statat(bfd(dir), name, AtFlags::SYMLINK_NOFOLLOW)?))
}

pub fn unlink(path: &CStr) -> Result<()> {
    Ok(rustix::fs::unlinkat(CWD, path, AtFlags::empty())?)
}

/// Removes the empty directory `name` of the directory `dir`.
pub fn rmdir_in(dir: Fd, name: &CStr) -> Result<()> {
    Ok(rustix::fs::unlinkat(bfd(dir), name, AtFlags::REMOVEDIR)?)
}

pub fn rmdir(path: &CStr) -> Result<()> {
    Ok(rustix::fs::unlinkat(CWD, path, AtFlags::REMOVEDIR)?)
}

pub fn mkdir(path: &CStr, mode: u32) -> Result<()> {
    Ok(rustix::fs::mkdirat(CWD, path, Mode::from_bits_retain(mode))?)
}

pub fn mkfifo(path: &CStr, mode: u32) -> Result<()> {
    Ok(rustix::fs::mkfifoat(CWD, path, Mode::from_bits_retain(mode))?)
}

pub fn symlink(target: &CStr, path: &CStr) -> Result<()> {
    Ok(rustix::fs::symlinkat(target, CWD, path)?)
}


/// mkdir(2) of `name` inside the directory `dir`.
pub fn mkdir_in(dir: Fd, name: &CStr, mode: u32) -> Result<()> {
    Ok(rustix::fs::mkdirat(bfd(dir), name, Mode::from_bits_retain(mode))?)
}

/// mkfifo(3) of `name` inside the directory `dir`.
pub fn mkfifo_in(dir: Fd, name: &CStr, mode: u32) -> Result<()> {
    Ok(rustix::fs::mkfifoat(bfd(dir), name, Mode::from_bits_retain(mode))?)
}

/// symlink(2): `name` inside the directory `dir`, pointing at `target`.
pub fn symlink_in(target: &CStr, dir: Fd, name: &CStr) -> Result<()> {
    Ok(rustix::fs::symlinkat(target, bfd(dir), name)?)
}


pub fn chmod(path: &CStr, mode: u32) -> Result<()> {
    Ok(rustix::fs::chmodat(CWD, path, Mode::from_bits_retain(mode), AtFlags::empty())?)
}

pub fn fchmod(fd: Fd, mode: u32) -> Result<()> {
    Ok(rustix::fs::fchmod(bfd(fd), Mode::from_bits_retain(mode))?)
}

pub fn fchown(fd: Fd, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    let u = uid.map(rustix::process::Uid::from_raw);
    let g = gid.map(rustix::process::Gid::from_raw);
    Ok(rustix::fs::fchown(bfd(fd), u, g)?)
}

pub fn fsync(fd: Fd) -> Result<()> {
    Ok(rustix::fs::fsync(bfd(fd))?)
}

pub fn ftruncate(fd: Fd, len: u64) -> Result<()> {
    Ok(rustix::fs::ftruncate(bfd(fd), len)?)
}

pub fn seek_end(fd: Fd) -> Result<u64> {
    Ok(rustix::fs::seek(bfd(fd), rustix::fs::SeekFrom::End(0))?)
}

pub fn sync() {
    rustix::fs::sync()
}

/// What `stat` tells the programs.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub kind: FileType,
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
    pub uid: u32,
    pub gid: u32,
}

fn to_stat(s: rustix::fs::Stat) -> Stat {
    Stat {
        kind: FileType::from_raw_mode(s.st_mode as _),
        mode: s.st_mode as u32 & 0o7777,
        size: s.st_size as u64,
        dev: s.st_dev as u64,
        ino: s.st_ino as u64,
        uid: s.st_uid,
        gid: s.st_gid,
    }
}

/// Is `path` a directory (symlinks followed)? An O_PATH open: lighter
/// than a stat where the answer is all that is wanted.
pub fn is_dir(path: &CStr) -> bool {
    open(path, Open::PATH | Open::DIRECTORY, 0).is_ok()
}

/// Does `name` exist inside the directory `dir` (a symlink counts, even
/// dangling)? As `is_dir`, an O_PATH open.
pub fn exists_in(dir: Fd, name: &CStr) -> bool {
    open_at(dir, name, Open::PATH | Open::NOFOLLOW, 0).is_ok()
}

/// stat(2), following symlinks.
pub fn stat(path: &CStr) -> Result<Stat> {
    Ok(to_stat(rustix::fs::statat(CWD, path, AtFlags::empty())?))
}

/// lstat(2).
pub fn lstat(path: &CStr) -> Result<Stat> {
    Ok(to_stat(rustix::fs::statat(CWD, path, AtFlags::SYMLINK_NOFOLLOW)?))
}

pub fn fstat(fd: Fd) -> Result<Stat> {
    Ok(to_stat(rustix::fs::fstat(bfd(fd))?))
}


/// The file system type (statfs f_type) of the file `fd` is on.
pub fn fstatfs_type(fd: Fd) -> Result<u64> {
    Ok(rustix::fs::fstatfs(bfd(fd))?.f_type as u64)
}

/// Is `path` there and executable by us?
pub fn access_exec(path: &CStr) -> Result<()> {
    Ok(rustix::fs::accessat(CWD, path, rustix::fs::Access::EXEC_OK, AtFlags::empty())?)
}

/// Does `path` exist (following symlinks, as access(2) F_OK, the way
/// s6-svstat checks `down`)? Less code than `stat` where only that is asked.
pub fn exists(path: &CStr) -> Result<bool> {
    match rustix::fs::accessat(CWD, path, rustix::fs::Access::EXISTS, AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Exclusive, non-blocking lock: Ok(false) when another process holds it.
pub fn lock_exclusive_nb(fd: Fd) -> Result<bool> {
    match rustix::fs::flock(bfd(fd), rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Shared, non-blocking lock: Ok(false) when someone holds it exclusively.
pub fn lock_shared_nb(fd: Fd) -> Result<bool> {
    match rustix::fs::flock(bfd(fd), rustix::fs::FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}


/// Reads directory entries from `dir` (an fd opened with O_DIRECTORY),
/// calling `f(name, type, inode)` for each except `.` and `..`; the inode
/// number tells a directory from another put in its place under the same
/// name.
pub fn read_dir(dir: Fd, f: &mut dyn FnMut(&CStr, FileType, u64)) -> Result<()> {
    read_dir_with(dir, &mut [core::mem::MaybeUninit::<u8>::uninit(); 2048], f)
}

/// `read_dir` through the caller's getdents buffer (its fixed capacity): a
/// small one for a process that must keep its stack to one page (the
/// supervisor).
pub fn read_dir_with(dir: Fd, buf: &mut [core::mem::MaybeUninit<u8>], f: &mut dyn FnMut(&CStr, FileType, u64)) -> Result<()> {
    let mut it = rustix::fs::RawDir::new(bfd(dir), buf);
    while let Some(e) = it.next() {
        let e = e?;
        let n = e.file_name();
        let b = n.to_bytes();
        if b == b"." || b == b".." {
            continue;
        }
        f(n, e.file_type(), e.ino());
    }
    Ok(())
}

pub fn open_dir(path: &CStr) -> Result<OwnedFd> {
    open(path, Open::RDONLY | Open::DIRECTORY, 0)
}

