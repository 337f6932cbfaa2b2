//! A log directory, kept as s6-log keeps it: `lock` (held while a logger
//! runs), `current` (mode 0644 while written, 0744 once closed cleanly),
//! archives `@<tai64n>.s` (`.u` for a file whose writer died, or whose
//! processor failed), `state`, and with a processor the `previous`,
//! `processed` and `newstate` files of a rotation in progress.
//!
//! Rotation: `current` is fsynced, made 0744 and renamed to its archive
//! name, then a new `current` is created; the oldest archives beyond the
//! `n` count or the `S` total size are removed.

use crate::script::LogdirSpec;
use base::err;
use base::fmt::Buf;
use base::spawn::Spawn;
use base::sys::{self, errno, Errno, Fd, Open, OwnedFd, Pid};
use base::tai64n::Tai64n;
use core::ffi::CStr;
use core::mem::MaybeUninit;

/// Bytes of directory entries read at once while counting archives.
const DIRENT_BUF: usize = 512;

/// What went wrong, on which file of which directory.
pub struct Failure {
    pub what: &'static [u8],
    pub dir: &'static CStr,
    pub name: &'static [u8],
    pub errno: Errno,
}

impl Failure {
    /// `PROG: LEVEL: unable to write to DIR/current: ERROR` (or `DIR` alone).
    pub fn say(&self, fatal: bool, tail: &[u8]) {
        let slash: &[u8] = if self.name.is_empty() { b"" } else { b"/" };
        let parts = [self.what, self.dir.to_bytes(), slash, self.name, tail];
        if fatal {
            err::fatal_sys(err::EXIT_SYS, &parts, self.errno);
        }
        err::warn_sys(&parts, self.errno);
    }
}

/// The intent record kept in `lock`: see `input`. Size of `current` before
/// the batch, its inode, the batch's input length and hash.
const INTENT_MAGIC: u64 = 0x3174_6e65_746e_6972; // "rintent1"
const INTENT_LEN: usize = 40;

pub struct Logdir {
    pub spec: &'static LogdirSpec,
    dir: OwnedFd,
    /// Held for the logger's life: the lock goes with it.
    lock: OwnedFd,
    cur: Option<OwnedFd>,
    ino: u64,
    /// Bytes in `current` (committed batches only).
    pub size: u64,
    last: Tai64n,
    /// A processor at work on `previous`, and the archive stamp it will get.
    child: Option<(Pid, Tai64n)>,
    /// The intent in `lock` may still be compared with the pipe.
    intent_open: bool,
}

/// `@` + 24 hex digits + `.s` or `.u`, NUL included.
fn is_archive(name: &[u8]) -> bool {
    name.len() == 28
        && name[0] == b'@'
        && name[1..25].iter().all(|c| c.is_ascii_hexdigit())
        && name[25] == b'.'
        && (name[26] == b's' || name[26] == b'u')
}

impl Logdir {
    fn fail(&self, what: &'static [u8], name: &'static CStr, e: Errno) -> Failure {
        Failure { what, dir: self.spec.path, name: name.to_bytes(), errno: e }
    }

    /// Every file of the directory is opened here: whoever can write in
    /// the directory must not make the logger write through a symlink, nor
    /// hang it on a FIFO.
    fn open_in(&self, name: &CStr, flags: Open) -> sys::Result<OwnedFd> {
        sys::open_regular_at(self.dir.fd(), name, flags, 0o644)
    }

    /// Opens (creating if needed) and locks the directory. `head` gives the
    /// hash of the first n bytes still in the input pipe, to settle an
    /// unfinished batch.
    #[inline(never)]
    pub fn open(spec: &'static LogdirSpec, head: &mut dyn FnMut(usize) -> Option<u64>) -> Result<Logdir, Failure> {
        let path = spec.path;
        let f = |what, name: &'static CStr, e| Failure { what, dir: path, name: name.to_bytes(), errno: e };
        match sys::mkdir(path, 0o700) {
            Ok(()) | Err(errno::EEXIST) => {}
            Err(e) => return Err(Failure { what: b"unable to mkdir ", dir: path, name: b"", errno: e }),
        }
        let dir = sys::open_dir(path).map_err(|e| f(b"unable to open ", c"", e))?;
        // 0600: anyone who can open a lock can take it.
        let lock = sys::open_regular_at(dir.fd(), c"lock", Open::RDWR | Open::CREATE, 0o600).map_err(|e| f(b"unable to open ", c"lock", e))?;
        match sys::lock_exclusive_nb(lock.fd()) {
            Ok(true) => {}
            Ok(false) => return Err(f(b"another logger holds the lock on ", c"", errno::EAGAIN)),
            Err(e) => return Err(f(b"unable to lock ", c"lock", e)),
        }
        let mut d = Logdir { spec, dir, lock, cur: None, ino: 0, size: 0, last: Tai64n::default(), child: None, intent_open: false };
        d.open_in(c"state", Open::WRONLY | Open::CREATE).map_err(|e| f(b"unable to open ", c"state", e))?;
        d.settle_intent(head);
        d.recover()?;
        d.open_current()?;
        d.cleanup();
        Ok(d)
    }

    /// A batch was being written when the last logger died: if its input is
    /// still at the head of the pipe, it was never taken out, so the part of
    /// it in `current` is cut off (it will be written again, once).
    #[inline(never)]
    fn settle_intent(&mut self, head: &mut dyn FnMut(usize) -> Option<u64>) {
        let mut raw = [0u8; INTENT_LEN];
        if !matches!(sys::pread(self.lock.fd(), &mut raw, 0), Ok(INTENT_LEN)) {
            return;
        }
        let mut rec = [0u64; INTENT_LEN / 8];
        for (v, c) in rec.iter_mut().zip(raw.chunks_exact(8)) {
            *v = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
        }
        let [magic, ino, size, n, hash] = rec;
        let Ok(st) = sys::stat_in(self.dir.fd(), c"current") else { return };
        if magic != INTENT_MAGIC || st.ino != ino || st.size <= size || n == 0 {
            return;
        }
        if head(n as usize) == Some(hash) {
            if let Ok(fd) = self.open_in(c"current", Open::WRONLY) {
                // The cut is an optimisation: the batch, if not cut, is there twice, never lost.
                let _ = sys::ftruncate(fd.fd(), size);
            }
        }
    }

    /// Records, before a batch is written, how to undo it (see `input`).
    pub fn intent(&mut self, n: usize, hash: u64) -> Result<(), Failure> {
        // The record names the `current` the batch goes to: make sure it exists.
        self.open_current()?;
        let mut rec = [0u8; INTENT_LEN];
        for (c, v) in rec.chunks_exact_mut(8).zip([INTENT_MAGIC, self.ino, self.size, n as u64, hash]) {
            c.copy_from_slice(&v.to_le_bytes());
        }
        self.intent_open = true;
        sys::pwrite_all(self.lock.fd(), &rec, 0).map_err(|e| self.fail(b"unable to write to ", c"lock", e))
    }

    /// Closes the last intent once its batch is taken out and the logger
    /// goes idle: a successor must not compare it with later input (the
    /// same line written again would look like the batch not taken out).
    pub fn idle(&mut self) {
        if self.intent_open {
            self.intent_open = !matches!(sys::pwrite_all(self.lock.fd(), &[0; 8], 24), Ok(()));
        }
    }

    /// Leftovers of a logger that died: a `current` it did not close
    /// becomes a `.u` archive; an unfinished processing is redone.
    #[inline(never)]
    fn recover(&mut self) -> Result<(), Failure> {
        // Usually absent (ENOENT); a processed file that stays is replaced by the next run.
        let _ = sys::unlink_in(self.dir.fd(), c"processed");
        if sys::stat_in(self.dir.fd(), c"previous").is_ok() {
            let t = self.next_stamp();
            if self.spec.processor.is_some() {
                self.spawn(t)?;
                self.reap(true);
            } else {
                self.archive(c"previous", t, b'u')?;
            }
        }
        if let Ok(st) = sys::stat_in(self.dir.fd(), c"current") {
            if st.mode & 0o100 == 0 && st.size > 0 {
                let t = self.next_stamp();
                self.archive(c"current", t, b'u')?;
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn open_current(&mut self) -> Result<Fd, Failure> {
        if let Some(fd) = &self.cur {
            return Ok(fd.fd());
        }
        let r = self.open_in(c"current", Open::WRONLY | Open::APPEND | Open::CREATE).and_then(|fd| {
            sys::fchmod(fd.fd(), 0o644).and_then(|_| sys::fstat(fd.fd())).map(|st| (fd, st))
        });
        let (fd, st) = r.map_err(|e| self.fail(b"unable to open ", c"current", e))?;
        self.ino = st.ino;
        self.size = st.size;
        Ok(self.cur.insert(fd).fd())
    }

    /// Appends one batch to `current`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Failure> {
        let fd = self.open_current()?;
        sys::write_all(fd, data).map_err(|e| self.fail(b"unable to write to ", c"current", e))
    }

    /// Undoes a partly written batch.
    pub fn rollback(&mut self) {
        if let Some(fd) = &self.cur {
            // The batch stays whole in current: a line twice, never a line lost.
            let _ = sys::ftruncate(fd.fd(), self.size);
        }
    }

    /// The batch is in `current` for good.
    pub fn committed(&mut self, n: usize) {
        self.size += n as u64;
    }

    fn next_stamp(&mut self) -> Tai64n {
        let mut t = Tai64n::now();
        if t <= self.last {
            t = self.last;
            t.nano += 1;
            if t.nano >= 1_000_000_000 {
                t.nano = 0;
                t.label += 1;
            }
        }
        self.last = t;
        t
    }

    /// Renames `name` to the archive `@<t>.<kind>`.
    fn archive(&self, name: &'static CStr, t: Tai64n, kind: u8) -> Result<(), Failure> {
        let mut a = Buf::<32>::new();
        t.write_text(&mut a);
        a.byte(b'.').byte(kind).byte(0);
        let to = CStr::from_bytes_with_nul(a.as_bytes()).unwrap_or(c"@");
        sys::rename_in(self.dir.fd(), name, to).map_err(|e| self.fail(b"unable to rename ", name, e))
    }

    /// Closes `current` into an archive and starts a new one.
    pub fn rotate(&mut self) -> Result<(), Failure> {
        if self.size == 0 {
            return Ok(());
        }
        self.reap(true);
        let fd = self.open_current()?;
        sys::fsync(fd).map_err(|e| self.fail(b"unable to fsync ", c"current", e))?;
        sys::fchmod(fd, 0o744).map_err(|e| self.fail(b"unable to chmod ", c"current", e))?;
        let t = self.next_stamp();
        if self.spec.processor.is_some() {
            sys::rename_in(self.dir.fd(), c"current", c"previous").map_err(|e| self.fail(b"unable to rename ", c"current", e))?;
        } else {
            self.archive(c"current", t, b's')?;
        }
        self.cur = None;
        self.size = 0;
        if let Err(f) = self.spawn(t) {
            f.say(false, b"");
            // Reported by the failure above; previous is redone at the next start.
            let _ = self.archive(c"previous", t, b'u');
        }
        self.cleanup();
        // A `current` that cannot be made now is made by the next write.
        // A `current` that cannot be made now is made by the next write.
        let _ = self.open_current();
        Ok(())
    }

    /// Starts the processor (if any) on `previous`, in the directory: stdin
    /// `previous`, stdout `processed`, fd 4 `state`, fd 5 `newstate`.
    fn spawn(&mut self, t: Tai64n) -> Result<(), Failure> {
        let Some(cmd) = self.spec.processor else { return Ok(()) };
        let dir = self.dir.fd();
        let mut files = || {
            let files: [(&CStr, Open, i32); 4] = [
                (c"previous", Open::RDONLY, 0),
                (c"processed", Open::WRONLY | Open::CREATE | Open::TRUNC, 1),
                (c"state", Open::RDONLY, 4),
                (c"newstate", Open::WRONLY | Open::CREATE | Open::TRUNC, 5),
            ];
            for (name, flags, to) in files {
                // The opened file is closed once dup'ed (dropped): the child keeps only `to`.
                if let Err(e) = sys::open_regular_at(dir, name, flags, 0o644).and_then(|fd| sys::dup2(fd.fd(), Fd(to))) {
                    // Only the child knows which file: it names it, its parent the spawn.
                    err::fatal_line(&[b"unable to open ", name.to_bytes()], e);
                    return Err(e);
                }
            }
            Ok(())
        };
        let mut argv = sys::ArgvBuf::<4>::new();
        argv.push(c"sh");
        argv.push(c"-c");
        argv.push(cmd);
        let pid = Spawn::new()
            .fchdir(dir)
            .setup(&mut files)
            .exec(c"/bin/sh", argv.as_argv())
            .map_err(|e| self.fail(b"unable to spawn the processor on ", c"previous", e))?;
        self.child = Some((pid, t));
        Ok(())
    }

    /// Finishes the processor's work if it has ended (`block`: wait for it):
    /// `processed` becomes the archive and `newstate` the state; if the
    /// processor failed, `previous` itself is archived as `.u`.
    pub fn reap(&mut self, block: bool) {
        let Some((pid, t)) = self.child else { return };
        let st = if block { sys::wait_pid(pid).ok() } else { sys::wait_pid_nohang(pid).ok().flatten() };
        let Some(st) = st else { return };
        self.child = None;
        if st.exited() == Some(0) {
            if let Ok(fd) = self.open_in(c"processed", Open::WRONLY) {
                // The archive is kept even if its flush or mode change fails.
                let _ = sys::fsync(fd.fd());
                let _ = sys::fchmod(fd.fd(), 0o744);
            }
            // Absent when the processor wrote no new state: the old one stays.
            let _ = sys::rename_in(self.dir.fd(), c"newstate", c"state");
            if self.archive(c"processed", t, b's').is_ok() {
                // A previous left behind is processed again at the next start.
                let _ = sys::unlink_in(self.dir.fd(), c"previous");
            }
        } else {
            err::warn(&[b"processor failed on ", self.spec.path.to_bytes(), b"/previous: archived as .u"]);
            // Removing leftovers of a failed processor: absent ones are fine.
            let _ = sys::unlink_in(self.dir.fd(), c"processed");
            let _ = sys::unlink_in(self.dir.fd(), c"newstate");
            // previous stays, and is redone at the next start.
            let _ = self.archive(c"previous", t, b'u');
        }
        self.cleanup();
    }

    /// Removes the oldest archives beyond the count and the total size.
    pub fn cleanup(&self) {
        loop {
            let Ok(dirfd) = sys::open_at(self.dir.fd(), c".", Open::RDONLY | Open::DIRECTORY, 0) else { return };
            let mut count = 0u64;
            let mut total = 0u64;
            let mut oldest = [0u8; 28];
            // An unreadable directory: nothing is removed this time. A
            // small getdents buffer (a dozen archives' entries a call): this
            // is the deepest frame, below the start-up's and a rotation's.
            let _ = sys::read_dir_with(dirfd.fd(), &mut [MaybeUninit::<u8>::uninit(); DIRENT_BUF], &mut |name, _, _| {
                let n = name.to_bytes_with_nul();
                if !is_archive(n) {
                    return;
                }
                count += 1;
                if self.spec.totalsize > 0 {
                    total += sys::stat_in(self.dir.fd(), name).map_or(0, |s| s.size);
                }
                if oldest[0] == 0 || n < &oldest[..] {
                    oldest = <[u8; 28]>::try_from(n).unwrap_or(oldest);
                }
            });
            drop(dirfd);
            let over = count > self.spec.archives || (self.spec.totalsize > 0 && total > self.spec.totalsize);
            let name = CStr::from_bytes_with_nul(&oldest).unwrap_or(c"");
            if count == 0 || !over || sys::unlink_in(self.dir.fd(), name).is_err() {
                return;
            }
        }
    }

    /// The clean end: everything on disk, `current` marked finished.
    pub fn close(&mut self) {
        self.reap(true);
        if let Some(fd) = &self.cur {
            // The end: a failure here leaves current as a logger that died would.
            let _ = sys::fsync(fd.fd());
            let _ = sys::fchmod(fd.fd(), 0o744);
        }
    }
}
