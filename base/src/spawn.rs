//! Starting a child, the one way every program does it (the role of
//! skalibs' `cspawn`): in the child, the signal state of a fresh process,
//! then a new session or process group, the working directory, the
//! descriptors, the caller's own step, then exec (with or without a `PATH`
//! search). The parent learns whether the child got as far as the exec:
//! a failed step or exec comes back as its errno, the child is reaped, and
//! the caller says `unable to spawn ./run: Permission denied` itself. So
//! one line names the failure, in the program's voice, and a child that
//! never ran is never counted as started.
//!
//! The exit code of a child that failed before running anything is the
//! shell's, as s6's programs use it: 127 when what it had to run was not
//! found (ENOENT), 126 for every other failure, a failed set-up step
//! included (`exit_code`). The parent sees it only when the report was
//! lost; the container hands it on as CMD's code.
//!
//! The process is made the scanner's fast way, clone(CLONE_VM |
//! CLONE_VFORK) (`sys::spawn_shared`): no page tables copied, the parent
//! asleep until the exec, the child's errno written into the parent's
//! memory. So the set-up steps only make syscalls. Where that clone is a
//! plain fork (not x86_64), the errno travels through a close-on-exec pipe
//! the exec closes.

use crate::sys::{self, errno, Argv, Errno, Fd, Open, Pid, SigSet};
use core::ffi::CStr;
use core::sync::atomic::{AtomicU16, Ordering};

/// Descriptor steps one spawn can take (moves, /dev/null, kept open): the
/// most any program asks for is three.
pub const FD_STEPS_MAX: usize = 4;

/// The exit code of a child that could not run what it was given.
pub fn exit_code(e: Errno) -> i32 {
    if e == errno::ENOENT { 127 } else { 126 }
}

/// Signals rinit's programs ignore, back to their default in a child.
const RESET_SIGNALS: [i32; 2] = [sys::sig::PIPE, sys::sig::CHLD];

/// The signal state of a fresh process: nothing blocked, nothing
/// ignored that rinit's programs ignore. Also for a program that execs
/// in place (the scanner becoming `finish`).
pub fn reset_signals() {
    // Valid constant arguments: these cannot fail.
    let _ = sys::sig_setmask(SigSet(0));
    for s in RESET_SIGNALS {
        // As above: a valid signal and SIG_DFL.
        let _ = sys::sig_default(s, true);
    }
}

/// A descriptor step: dup2(from, to); the same number twice: kept open
/// across the exec; `from` NULL: /dev/null (read-only for stdin,
/// write-only else).
type FdStep = (Fd, Fd);
const NULL: Fd = Fd(-1);

/// Where the child's process group is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// The parent's.
    Inherit,
    /// A new session (setsid): no controlling terminal, its own group.
    New,
    /// A new process group in the parent's session (setpgid(0, 0)).
    Group,
}

/// How the program is found: a function, so a program that never
/// searches `PATH` carries no search.
type Exec = fn(&CStr, Argv, Option<Argv>, &[u8]) -> Errno;

/// The child's set-up, then `exec` (or `fork`).
pub struct Spawn<'a> {
    session: Session,
    dir: Option<&'a CStr>,
    dir_fd: Option<Fd>,
    steps: [FdStep; FD_STEPS_MAX],
    /// Steps asked for: more than FD_STEPS_MAX fails the spawn.
    nsteps: usize,
    env: Option<Argv<'a>>,
    exec: Exec,
    path: &'a [u8],
    setup: Option<&'a mut dyn FnMut() -> Result<(), Errno>>,
}

impl Default for Spawn<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Spawn<'a> {
    /// A child in the parent's session and directory, with its descriptors
    /// (those not close-on-exec) and environment, the program as given.
    pub const fn new() -> Self {
        Spawn {
            session: Session::Inherit,
            dir: None,
            dir_fd: None,
            steps: [(NULL, NULL); FD_STEPS_MAX],
            nsteps: 0,
            env: None,
            exec: |p, a, e, _| sys::exec(p, a, e),
            path: b"",
            setup: None,
        }
    }

    pub fn session(&mut self, s: Session) -> &mut Self {
        self.session = s;
        self
    }

    pub fn chdir(&mut self, dir: &'a CStr) -> &mut Self {
        self.dir = Some(dir);
        self
    }

    pub fn fchdir(&mut self, dir: Fd) -> &mut Self {
        self.dir_fd = Some(dir);
        self
    }

    /// `from` onto `to` in the child (in the order given); `from == to`
    /// keeps `to` open across the exec.
    pub fn fd_move(&mut self, from: Fd, to: Fd) -> &mut Self {
        self.step((from, to))
    }

    /// /dev/null onto `to` in the child.
    pub fn null(&mut self, to: Fd) -> &mut Self {
        self.step((NULL, to))
    }

    fn step(&mut self, s: FdStep) -> &mut Self {
        // A step beyond the capacity makes the spawn fail (EOVERFLOW from
        // the child), never a step silently left out.
        if let Some(free) = self.steps.get_mut(self.nsteps) {
            *free = s;
        }
        self.nsteps += 1;
        self
    }

    /// The environment handed to the program (default: this process's).
    pub fn env(&mut self, env: Argv<'a>) -> &mut Self {
        self.env = Some(env);
        self
    }

    /// A name without `/` is looked up in this process's `$PATH`.
    pub fn search_path(&mut self) -> &mut Self {
        self.exec = |p, a, e, _| sys::exec_path(p, a, e);
        self
    }

    /// A name without `/` is looked up in `path` (e.g. the PATH of the
    /// environment handed to it).
    pub fn search(&mut self, path: &'a [u8]) -> &mut Self {
        self.exec = |p, a, e, path| sys::exec_search(p, path, a, e);
        self.path = path;
        self
    }

    /// The caller's last step in the child, after the descriptors: an
    /// error stops the spawn and is reported as any other. It runs in the
    /// parent's memory: syscalls only.
    pub fn setup(&mut self, f: &'a mut dyn FnMut() -> Result<(), Errno>) -> &mut Self {
        self.setup = Some(f);
        self
    }

    /// Starts `prog` with `argv`. Ok: it is running (its exec succeeded).
    /// Err: no process could be made, or the child reported the errno of
    /// its failed step or exec (the child is reaped).
    pub fn exec(&mut self, prog: &CStr, argv: Argv) -> Result<Pid, Errno> {
        let memory = AtomicU16::new(0);
        let pipe = if sys::SPAWN_SHARED_SHARES_MEMORY { None } else { Some(sys::pipe()?) };
        let pid = sys::spawn_shared(|| {
            let mut report = pipe.map(|p| p.1);
            let e = self.child(prog, argv, &mut report);
            if sys::SPAWN_SHARED_SHARES_MEMORY {
                memory.store(e.0, Ordering::Relaxed);
            } else if let Some(w) = report {
                // The parent reads until the pipe closes: a lost report
                // reads as "started", and the exit code still says what
                // happened.
                let _ = sys::write_all(w, &e.0.to_ne_bytes());
            }
            sys::exit(exit_code(e))
        });
        let failed = match pipe {
            None => memory.load(Ordering::Relaxed),
            Some((r, w)) => {
                sys::close(w);
                let mut b = [0u8; 2];
                let got = if pid.is_ok() { sys::read_full(r, &mut b) } else { Ok(0) };
                sys::close(r);
                got.map_or_else(|e| e.0, |_| u16::from_ne_bytes(b))
            }
        };
        let pid = pid?;
        if failed == 0 {
            return Ok(pid);
        }
        // Its exit follows its report at once; ECHILD only if someone else
        // reaped it, which leaves nothing to do.
        let _ = sys::wait_pid(pid);
        Err(Errno(failed))
    }

    /// The same set-up in a forked child that goes on running this program:
    /// Ok(0) in the child, its pid in the parent. A failed step ends the
    /// child with the rule's code (the parent is not told: use it for
    /// steps that cannot fail, a new session of a fresh child).
    pub fn fork(&mut self) -> Result<Pid, Errno> {
        let pid = sys::fork()?;
        if pid == 0
            && let Err(e) = self.prepare(&mut None)
        {
            sys::exit(exit_code(e))
        }
        Ok(pid)
    }

    /// In the child: set up, exec; the errno of what failed.
    fn child(&mut self, prog: &CStr, argv: Argv, report: &mut Option<Fd>) -> Errno {
        match self.prepare(report) {
            Ok(()) => (self.exec)(prog, argv, self.env, self.path),
            Err(e) => e,
        }
    }

    /// Every set-up step, in cspawn's order. A report pipe is moved out of
    /// the way of the descriptor steps first.
    fn prepare(&mut self, report: &mut Option<Fd>) -> Result<(), Errno> {
        let steps = self.steps.get(..self.nsteps).ok_or(errno::EOVERFLOW)?;
        reset_signals();
        match self.session {
            Session::Inherit => {}
            Session::New => {
                sys::setsid()?;
            }
            Session::Group => sys::setpgid(0, 0)?,
        }
        if let Some(d) = self.dir {
            sys::chdir(d)?;
        }
        if let Some(d) = self.dir_fd {
            sys::fchdir(d)?;
        }
        if !sys::SPAWN_SHARED_SHARES_MEMORY
            && let Some(w) = report
        {
            while steps.iter().any(|&(_, t)| t == *w) {
                // Close-on-exec like the end it copies; the old number is
                // overwritten by the step that wants it.
                *w = sys::dup(*w)?;
            }
        }
        for &(from, to) in steps {
            if from != NULL {
                sys::dup2(from, to)?;
                continue;
            }
            let fd = sys::open(c"/dev/null", if to == sys::STDIN { Open::RDONLY } else { Open::WRONLY }, 0)?;
            let r = sys::dup2(fd, to);
            sys::close(fd);
            r?
        }
        match self.setup.as_mut() {
            Some(f) => f(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{ArgvBuf, STDOUT};

    /// Runs `argv` with stdout on a pipe; its output and exit code.
    fn output(s: &mut Spawn, argv: &[&CStr]) -> Result<(String, Option<u8>), Errno> {
        let mut a = ArgvBuf::<8>::new();
        for w in argv {
            a.push(w);
        }
        let (r, w) = sys::pipe().expect("pipe");
        let pid = s.fd_move(w, STDOUT).exec(argv[0], a.as_argv());
        sys::close(w);
        let mut out = Vec::new();
        let mut b = [0u8; 512];
        while let Ok(n @ 1..) = sys::read(r, &mut b) {
            out.extend_from_slice(&b[..n]);
        }
        sys::close(r);
        let st = sys::wait_pid(pid?).expect("wait");
        Ok((String::from_utf8_lossy(&out).into_owned(), st.exited()))
    }

    #[test]
    fn a_missing_program_is_reported_to_the_parent_as_enoent() {
        assert_eq!(output(&mut Spawn::new(), &[c"/nonexistent/prog"]), Err(errno::ENOENT));
        assert_eq!(output(Spawn::new().search_path(), &[c"prog-that-is-nowhere"]), Err(errno::ENOENT));
    }

    #[test]
    fn a_program_that_cannot_be_run_is_reported_as_eacces() {
        // A directory cannot be exec'ed, whoever runs the test.
        assert_eq!(output(&mut Spawn::new(), &[c"/"]), Err(errno::EACCES));
    }

    #[test]
    fn a_failed_chdir_is_reported_before_anything_runs() {
        let r = output(Spawn::new().chdir(c"/nonexistent/dir"), &[c"/bin/pwd"]);
        assert_eq!(r, Err(errno::ENOENT));
        assert_eq!(output(Spawn::new().chdir(c"/proc/self/status"), &[c"/bin/pwd"]), Err(errno::ENOTDIR));
    }

    #[test]
    fn the_child_runs_in_the_directory_given() {
        assert_eq!(output(Spawn::new().chdir(c"/proc"), &[c"/bin/pwd"]), Ok(("/proc\n".into(), Some(0))));
        let d = sys::open_dir(c"/dev").expect("open /dev");
        assert_eq!(output(Spawn::new().fchdir(d), &[c"/bin/pwd"]), Ok(("/dev\n".into(), Some(0))));
        sys::close(d);
    }

    #[test]
    fn the_descriptors_are_moved_in_place_and_stdin_can_be_dev_null() {
        // fd 7 of the child is a pipe to us; its stdin /dev/null.
        let (r, w) = sys::pipe().expect("pipe");
        let mut a = ArgvBuf::<4>::new();
        for x in [c"/bin/sh", c"-c", c"echo seven >&7; cat; readlink /proc/self/fd/0 >&7"] {
            a.push(x);
        }
        let pid = Spawn::new().fd_move(w, Fd(7)).null(sys::STDIN).exec(c"/bin/sh", a.as_argv()).expect("spawn");
        sys::close(w);
        let mut b = [0u8; 64];
        let n = sys::read_full(r, &mut b).expect("read");
        sys::close(r);
        assert_eq!(&b[..n], b"seven\n/dev/null\n");
        assert_eq!(sys::wait_pid(pid).expect("wait").exited(), Some(0));
    }

    #[test]
    fn the_signal_mask_and_ignored_signals_are_reset() {
        // Ignored here as in rinit's programs (and Rust's runtime); USR1 blocked.
        sys::sig_default(sys::sig::PIPE, false).expect("ignore");
        let usr1 = SigSet(1 << (sys::sig::USR1 - 1));
        sys::sig_block(usr1).expect("block");
        let r = output(&mut Spawn::new(), &[c"/bin/grep", c"-E", c"^Sig(Blk|Ign)", c"/proc/self/status"]);
        sys::sig_setmask(SigSet(0)).expect("unblock");
        let (out, code) = r.expect("spawn");
        let mask = |name: &str| {
            let l = out.lines().find(|l| l.starts_with(name)).expect(name);
            u64::from_str_radix(l.split('\t').nth(1).unwrap_or(""), 16).expect("hex")
        };
        assert_eq!(code, Some(0));
        assert_eq!(mask("SigBlk"), 0, "{out}");
        // The environment may ignore signals of its own: PIPE must not be.
        assert_eq!(mask("SigIgn") & 1 << (sys::sig::PIPE - 1), 0, "{out}");
    }

    #[test]
    fn a_new_session_and_a_new_group_are_the_childs_own() {
        let me = sys::getpid();
        let (out, code) = output(Spawn::new().session(Session::New), &[c"/bin/sh", c"-c", c"echo $$ $(ps -o sid= -p $$)"]).expect("spawn");
        let w: Vec<&str> = out.split_whitespace().collect();
        assert_eq!((w.len(), code), (2, Some(0)), "{out}");
        assert_eq!(w[0], w[1], "{out}");
        let (out, _) = output(Spawn::new().session(Session::Group), &[c"/bin/sh", c"-c", c"echo $$ $(ps -o pgid= -p $$)"]).expect("spawn");
        let w: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(w.first(), w.get(1), "{out}");
        assert_ne!(w.first().map(|p| p.to_string()), Some(me.to_string()));
    }

    #[test]
    fn the_path_search_finds_a_name_and_reports_one_not_found() {
        assert_eq!(output(Spawn::new().search(b"/nonexistent:/bin"), &[c"true"]), Ok((String::new(), Some(0))));
        assert_eq!(output(Spawn::new().search(b"/nonexistent"), &[c"true"]), Err(errno::ENOENT));
    }

    #[test]
    fn a_failed_setup_step_of_the_caller_is_reported() {
        let mut step = || Err(errno::EROFS);
        assert_eq!(output(Spawn::new().setup(&mut step), &[c"/bin/true"]), Err(errno::EROFS));
    }

    #[test]
    fn fork_returns_in_a_child_that_is_set_up() {
        // A step that fails ends the child by the rule.
        let pid = Spawn::new().chdir(c"/nonexistent").fork().expect("fork");
        assert_eq!(sys::wait_pid(pid).expect("wait").exited(), Some(127));
        match Spawn::new().chdir(c"/proc").fork().expect("fork") {
            0 => {
                let mut b = [0u8; 64];
                let ok = sys::getcwd(&mut b).map(|n| &b[..n] == b"/proc").unwrap_or(false);
                sys::exit(if ok { 0 } else { 1 })
            }
            pid => assert_eq!(sys::wait_pid(pid).expect("wait").exited(), Some(0)),
        }
    }

    #[test]
    fn the_exit_code_rule_is_127_for_not_found_and_126_else() {
        assert_eq!(exit_code(errno::ENOENT), 127);
        assert_eq!(exit_code(errno::EACCES), 126);
        assert_eq!(exit_code(errno::ENOTDIR), 126);
    }
}
