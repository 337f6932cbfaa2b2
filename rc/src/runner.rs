//! The oneshot runner's jobs: each request of a caller (see `oneshot` for
//! the protocol) becomes a job, a script forked in its own session with the
//! runner's environment (the tree's) and output, killed at its timeout,
//! reaped, and answered. A job whose caller has gone goes on; its success
//! is recorded in the live state, and a later caller asking for the same
//! service the same way is handed the job.

use crate::live;
use crate::oneshot::{MAX_ARGV, Reply, Request};
use crate::source::MAX_NAME;
use base::err;
use base::fmt::Buf;
use base::path::PathBuf;
use base::spawn::{Session, Spawn};
use base::sys::{self, ArgvBuf, Errno, Fd, Pid, WaitStatus, errno, sig};

/// Scripts running at once (as many as one rinit-rc starts at once).
pub const MAX_JOBS: usize = crate::change::MAX_INFLIGHT;
/// Callers connected at once (one rinit-rc holds the live lock; the
/// shutdown form may go on without it).
pub const MAX_CALLERS: usize = 8;
/// Variables of the environment handed to a script when the runner's own
/// has no `PATH` (it gets `DEFAULT_PATH` added).
pub const MAX_ENV: usize = 256;
/// How often an answer a caller could not take yet, or a result the live
/// lock kept from being recorded, is tried again (ms).
pub const RETRY_MS: i64 = 50;

/// What a script gets as `PATH` when the runner's environment has none
/// (the last entry is where Debian's execline package keeps `if`,
/// `foreground`...).
pub const DEFAULT_PATH: &core::ffi::CStr =
    c"PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:/usr/lib/execline/bin";


#[derive(Clone, Copy)]
struct Job {
    used: bool,
    up: bool,
    /// Started and not yet said so.
    tell_started: bool,
    /// Reaped (`status`, `timed_out` hold how it ended).
    ended: bool,
    timed_out: bool,
    /// Its caller's place in `callers`; None when the caller has gone.
    caller: Option<usize>,
    tag: u32,
    pid: Pid,
    status: WaitStatus,
    deadline: u64,
    db_sum: u64,
    db_len: u32,
    name_len: usize,
    name: [u8; MAX_NAME],
}

const FREE: Job = Job {
    used: false,
    up: false,
    tell_started: false,
    ended: false,
    timed_out: false,
    caller: None,
    tag: 0,
    pid: 0,
    status: WaitStatus(0),
    deadline: 0,
    db_sum: 0,
    db_len: 0,
    name_len: 0,
    name: [0; MAX_NAME],
};

/// Everything the runner holds (keep it in a static: all zero when new,
/// so in .bss).
pub struct Runner {
    jobs: [Job; MAX_JOBS],
    /// Each caller's connection (None: a free place).
    pub callers: [Option<Fd>; MAX_CALLERS],
    /// Something waits to be said or recorded: try again soon.
    pub retry: bool,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    pub const fn new() -> Runner {
        Runner { jobs: [FREE; MAX_JOBS], callers: [None; MAX_CALLERS], retry: false }
    }

    /// Takes a new connection: its place, or None (and the connection
    /// closed) when every place is taken.
    pub fn welcome(&mut self, fd: Fd) -> Option<usize> {
        let Some(k) = self.callers.iter().position(|c| c.is_none()) else {
            sys::close(fd);
            return None;
        };
        if let Some(c) = self.callers.get_mut(k) {
            *c = Some(fd);
        }
        Some(k)
    }

    /// Reads every request waiting on caller `k`'s connection; at its end
    /// of file, its jobs are left to themselves and the place is freed.
    pub fn hear(&mut self, k: usize, live: &[u8], buf: &mut [u8]) {
        let Some(&Some(fd)) = self.callers.get(k) else { return };
        loop {
            match sys::recv_msg(fd, buf) {
                Err(errno::EAGAIN) => return,
                Ok(n) if n > 0 => {
                    let r = self.request(k, live, buf.get(..n).unwrap_or(&[]));
                    if let Err((tag, e)) = r {
                        self.tell(k, Reply::Refused { tag, e });
                    }
                }
                // End of file or a broken connection: the caller has gone.
                _ => return self.farewell(k),
            }
        }
    }

    /// Closes caller `k`'s connection; its jobs go on without it.
    pub fn farewell(&mut self, k: usize) {
        if let Some(fd) = self.callers.get_mut(k).and_then(|c| c.take()) {
            sys::close(fd);
        }
        for j in self.jobs.iter_mut().filter(|j| j.used && j.caller == Some(k)) {
            j.caller = None;
        }
        self.retry = true;
    }

    /// One request: a job for the same service and direction whose caller
    /// has gone is handed over; else a new job. Err: the tag and why not.
    fn request(&mut self, k: usize, live: &[u8], b: &[u8]) -> Result<(), (u32, Errno)> {
        let r = Request::decode(b).map_err(|e| (crate::oneshot::tag_of(b), e))?;
        let same = |j: &Job| j.used && j.name.get(..j.name_len) == Some(r.name);
        if let Some(j) = self.jobs.iter_mut().find(|j| same(j)) {
            if j.caller.is_some() || j.up != r.up {
                return Err((r.tag, errno::EBUSY));
            }
            *j = Job { caller: Some(k), tag: r.tag, db_sum: r.db_sum, db_len: r.db_len, tell_started: !j.ended, ..*j };
            self.retry = true;
            return Ok(());
        }
        let Some(j) = self.jobs.iter_mut().find(|j| !j.used) else {
            return Err((r.tag, errno::EAGAIN));
        };
        let pid = spawn(&r, live).map_err(|e| (r.tag, e))?;
        let mut name = [0u8; MAX_NAME];
        if let Some(d) = name.get_mut(..r.name.len()) {
            d.copy_from_slice(r.name);
        }
        let deadline = if r.timeout_ms == 0 { 0 } else { sys::now_mono_ns() + r.timeout_ms as u64 * 1_000_000 };
        *j = Job {
            used: true,
            up: r.up,
            tell_started: true,
            caller: Some(k),
            tag: r.tag,
            pid,
            deadline,
            db_sum: r.db_sum,
            db_len: r.db_len,
            name_len: r.name.len(),
            name,
            ..FREE
        };
        self.retry = true;
        Ok(())
    }

    /// Reaps every script that ended.
    pub fn reap(&mut self) {
        while let Ok(Some((pid, ws))) = sys::wait_any_nohang() {
            if let Some(j) = self.jobs.iter_mut().find(|j| j.used && !j.ended && j.pid == pid) {
                j.ended = true;
                j.status = ws;
                self.retry = true;
            }
        }
    }

    /// Kills the session of every script past its deadline.
    pub fn expire(&mut self) {
        let now = sys::now_mono_ns();
        for j in self.jobs.iter_mut().filter(|j| j.used && !j.ended && j.deadline != 0 && now >= j.deadline) {
            // The whole session, then the script itself (ESRCH: gone already).
            let _ = sys::kill(-j.pid, sig::KILL);
            let _ = sys::kill(j.pid, sig::KILL);
            j.timed_out = true;
            j.deadline = 0;
        }
    }

    /// The earliest deadline of a running script (0: none).
    pub fn next_deadline(&self) -> u64 {
        self.jobs.iter().filter(|j| j.used && !j.ended && j.deadline != 0).map(|j| j.deadline).min().unwrap_or(0)
    }

    /// Says what is waiting to be said, and records the results of the jobs
    /// whose caller has gone; what cannot be done now is left for the next
    /// try (`retry`).
    pub fn settle(&mut self, live: &[u8]) {
        let mut again = false;
        for i in 0..MAX_JOBS {
            let Some(j) = self.jobs.get(i).copied() else { continue };
            if !j.used {
                continue;
            }
            let mut j = j;
            if let Some(k) = j.caller
                && j.tell_started
            {
                match self.say(k, Reply::Started { tag: j.tag, pid: j.pid }) {
                    Ok(()) => j.tell_started = false,
                    Err(errno::EAGAIN) => again = true,
                    Err(_) => j.caller = None,
                }
            }
            if let Some(k) = j.caller
                && j.ended
                && !j.tell_started
            {
                match self.say(k, Reply::Ended { tag: j.tag, status: j.status, timed_out: j.timed_out }) {
                    Ok(()) => j.used = false,
                    Err(errno::EAGAIN) => again = true,
                    Err(_) => j.caller = None,
                }
            }
            if j.used && j.ended && j.caller.is_none() {
                match record(&j, live) {
                    Ok(true) => j.used = false,
                    Ok(false) => again = true,
                    Err(e) => {
                        err::warn_sys(&[b"unable to record the result of service ", j.name.get(..j.name_len).unwrap_or(&[]), b" in ", live, b"/state"], e);
                        j.used = false;
                    }
                }
            }
            if let Some(slot) = self.jobs.get_mut(i) {
                *slot = if j.used { j } else { FREE };
            }
        }
        self.retry = again;
    }

    /// A refusal, which no job keeps for a later try: a caller that cannot
    /// take it now (its queue full) is hung up on, so that it sees the
    /// runner gone rather than wait for ever.
    fn tell(&mut self, k: usize, r: Reply) {
        if self.say(k, r).is_err() {
            self.farewell(k);
        }
    }

    fn say(&self, k: usize, r: Reply) -> Result<(), Errno> {
        let fd = self.callers.get(k).copied().flatten().ok_or(errno::EPIPE)?;
        sys::send_msg(fd, &r.encode(), false).map(|_| ())
    }
}

/// The result of a job whose caller has gone, into the live state: a
/// success only (what failed stays as the state says). Ok(false) when the
/// live lock is held: try again later.
fn record(j: &Job, live: &[u8]) -> Result<bool, Errno> {
    let name = j.name.get(..j.name_len).unwrap_or(&[]);
    if j.status.exited() != Some(0) || j.timed_out {
        let mut why = Buf::<48>::new();
        match (j.timed_out, j.status.signaled()) {
            (true, _) => why.push(b"timed out"),
            (false, Some(s)) => why.push(b"crashed with signal ").u64(s as u64),
            (false, None) => why.push(b"exited ").u64(j.status.exited().unwrap_or(0) as u64),
        };
        let script: &[u8] = if j.up { b": up script " } else { b": down script " };
        err::warn(&[b"service ", name, script, why.as_bytes(), b" after its caller had gone"]);
        return Ok(true);
    }
    if !live::record(live, j.db_sum, j.db_len, j.tag, j.up)? {
        return Ok(false);
    }
    err::info(&[b"service ", name, if j.up { b" successfully started" } else { b" successfully stopped" }, b" after its caller had gone"]);
    Ok(true)
}

/// Starts the script: its own session, working directory its `data/` or
/// `/`, standard input `/dev/null`, output and environment the runner's
/// (`DEFAULT_PATH` added when the environment has no `PATH`).
fn spawn(r: &Request, live: &[u8]) -> Result<Pid, Errno> {
    let mut argv = ArgvBuf::<'_, { MAX_ARGV + 1 }>::new();
    for w in r.words() {
        if !argv.push(w) {
            return Err(errno::E2BIG);
        }
    }
    let prog = argv.as_argv().first().ok_or(errno::EINVAL)?;
    let cwd = if r.data {
        PathBuf::join(live, &[b"/compiled/servicedirs/", r.name, b"/data"])?
    } else {
        PathBuf::join(b"/", &[])?
    };
    let mut env = ArgvBuf::<'_, { MAX_ENV + 1 }>::new();
    let path = match sys::getenv(b"PATH") {
        Some(p) => p.to_bytes(),
        None => {
            env.push(DEFAULT_PATH);
            DEFAULT_PATH.to_bytes().get(5..).unwrap_or(b"")
        }
    };
    let mut full = false;
    sys::environ().for_each(&mut |v| full |= !env.push(v));
    if full {
        return Err(errno::E2BIG);
    }
    Spawn::new()
        .session(Session::New)
        .null(sys::STDIN)
        .chdir(cwd.as_cstr())
        .env(env.as_argv())
        .search(path)
        .exec(prog, argv.as_argv())
}
