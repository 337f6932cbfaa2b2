//! The syscall layer: the only module that talks to the kernel. Everything
//! above it sees plain values (`Fd`, `Pid`, `Errno`, `&CStr`) and never a raw
//! pointer. rustix (linux_raw backend) where it has a wrapper; our own
//! `syscall!` (`sys/raw.rs`, one short asm block per architecture) for the
//! process and signal calls rustix keeps private (fork, execve, exit,
//! sigprocmask, signalfd, wait4 with the raw status).

use core::ffi::CStr;
use core::sync::atomic::{AtomicPtr, Ordering};
use rustix::fd::BorrowedFd;
use rustix::fs::{AtFlags, Mode, CWD};

pub use rustix::fs::FileType;

mod raw;
use raw::syscall;
mod region;
pub use region::{run_in_one_region, Region};

/// A kernel error number.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

pub type Result<T> = core::result::Result<T, Errno>;

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Self {
        Errno(e.raw_os_error() as u16)
    }
}

pub mod errno {
    //! The error numbers the programs test for by name.
    use super::Errno;
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const ENXIO: Errno = Errno(6);
    pub const E2BIG: Errno = Errno(7);
    pub const ENOEXEC: Errno = Errno(8);
    pub const EBADF: Errno = Errno(9);
    pub const ECHILD: Errno = Errno(10);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EBUSY: Errno = Errno(16);
    pub const EEXIST: Errno = Errno(17);
    pub const ENOTDIR: Errno = Errno(20);
    pub const EISDIR: Errno = Errno(21);
    pub const EINVAL: Errno = Errno(22);
    pub const EMFILE: Errno = Errno(24);
    pub const EFBIG: Errno = Errno(27);
    pub const ENOSPC: Errno = Errno(28);
    pub const EROFS: Errno = Errno(30);
    pub const EPIPE: Errno = Errno(32);
    pub const ERANGE: Errno = Errno(34);
    pub const ENAMETOOLONG: Errno = Errno(36);
    pub const ENOTEMPTY: Errno = Errno(39);
    pub const ELOOP: Errno = Errno(40);
    pub const ETIMEDOUT: Errno = Errno(110);
    pub const ECONNREFUSED: Errno = Errno(111);
    pub const EDQUOT: Errno = Errno(122);
    /// Not a kernel error: "the data read is not what it should be".
    pub const EPROTO: Errno = Errno(71);
    pub const EOVERFLOW: Errno = Errno(75);
    /// Not a kernel number (none fits): a file that must be a regular file
    /// is something else, a FIFO, a device, a symlink not to be followed.
    pub const ENOTREG: Errno = Errno(255);
}

/// A file descriptor number. Copy, never closed implicitly: the programs
/// decide when a descriptor ends, as in C.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fd(pub i32);

pub const STDIN: Fd = Fd(0);
pub const STDOUT: Fd = Fd(1);
pub const STDERR: Fd = Fd(2);

fn bfd(fd: Fd) -> BorrowedFd<'static> {
    // borrow_raw panics on -1 (a common "no descriptor" value); any other
    // negative number gets the same EBADF from the kernel.
    let n = if fd.0 == -1 { i32::MIN } else { fd.0 };
    // SAFETY: rustix only uses the number for the duration of one syscall;
    // an invalid number gives EBADF, never undefined behaviour.
    unsafe { BorrowedFd::borrow_raw(n) }
}

fn own(fd: rustix::fd::OwnedFd) -> Fd {
    use rustix::fd::IntoRawFd;
    Fd(fd.into_raw_fd())
}

fn ret(r: usize) -> Result<usize> {
    if r > (-4096isize) as usize { Err(Errno((r as isize).unsigned_abs() as u16)) } else { Ok(r) }
}

pub type Pid = i32;

/// `buf` as a C string when it ends with its only NUL. Checked with a
/// plain loop: core's `CStr::from_bytes_with_nul` brings ~200 bytes of
/// word-at-a-time search into every binary.
pub fn cstr(buf: &[u8]) -> Option<&CStr> {
    match buf.iter().position(|&c| c == 0) {
        // SAFETY: the one NUL is the last byte, as the function requires.
        Some(i) if i + 1 == buf.len() => Some(unsafe { CStr::from_bytes_with_nul_unchecked(buf) }),
        _ => None,
    }
}

/// A `&'static [u8]` given once at run time and read from anywhere (the
/// program name of `err`); a second `set` is ignored. Replaces a safe
/// function that rebuilt a slice from any pointer and length (unsound).
pub struct OnceBytes {
    /// 0: empty, 1: being set, 2: set for good.
    state: core::sync::atomic::AtomicUsize,
    ptr: AtomicPtr<u8>,
    len: core::sync::atomic::AtomicUsize,
}

impl Default for OnceBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl OnceBytes {
    pub const fn new() -> Self {
        use core::sync::atomic::AtomicUsize;
        OnceBytes { state: AtomicUsize::new(0), ptr: AtomicPtr::new(core::ptr::null_mut()), len: AtomicUsize::new(0) }
    }
    pub fn set(&self, s: &'static [u8]) {
        if self.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            self.ptr.store(s.as_ptr() as *mut u8, Ordering::Relaxed);
            self.len.store(s.len(), Ordering::Relaxed);
            self.state.store(2, Ordering::Release);
        }
    }
    /// Follows bytes that moved from [lo, hi) by `delta` (the start-up
    /// strings `run_in_one_region` copies), when they are the ones held.
    pub(crate) fn moved(&self, lo: usize, hi: usize, delta: usize) {
        let p = self.ptr.load(Ordering::Relaxed) as usize;
        if self.state.load(Ordering::Acquire) == 2 && p >= lo && p < hi {
            self.ptr.store(p.wrapping_add(delta) as *mut u8, Ordering::Relaxed);
        }
    }
    pub fn get(&self) -> Option<&'static [u8]> {
        if self.state.load(Ordering::Acquire) != 2 {
            return None;
        }
        let (p, n) = (self.ptr.load(Ordering::Relaxed), self.len.load(Ordering::Relaxed));
        // SAFETY: state 2 is reached once, after `set` stored the pointer and
        // length of one &'static [u8]; they never change afterwards.
        Some(unsafe { core::slice::from_raw_parts(p, n) })
    }
}

// ---------------------------------------------------------------- process

/// The process's arguments and environment, as the kernel laid them out.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

static ENVIRON: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

impl Args {
    /// # Safety
    /// `sp` must be the initial stack pointer given by the kernel.
    pub unsafe fn from_stack(sp: *const usize) -> Args {
        // SAFETY: layout is argc, argv[argc], NULL, envp..., NULL.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const u8;
            ENVIRON.store(argv.add(argc + 1) as *mut *const u8, Ordering::Relaxed);
            Args { argc, argv }
        }
    }
    pub fn len(&self) -> usize {
        self.argc
    }
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }
    pub fn get(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: i < argc and every argv entry is a NUL-terminated string
        // that lives as long as the process.
        unsafe { Some(CStr::from_ptr(*self.argv.add(i) as *const core::ffi::c_char)) }
    }
    /// The arguments from `i` on, ready to hand to `exec`.
    pub fn tail(&self, i: usize) -> Argv<'static> {
        let i = i.min(self.argc);
        // SAFETY: argv[i..=argc] is within the kernel's array, NULL-terminated.
        Argv { ptr: unsafe { self.argv.add(i) }, _l: core::marker::PhantomData }
    }
}

/// A NULL-terminated array of C strings, as execve takes it.
#[derive(Clone, Copy)]
pub struct Argv<'a> {
    ptr: *const *const u8,
    _l: core::marker::PhantomData<&'a CStr>,
}

impl<'a> Argv<'a> {
    pub fn first(&self) -> Option<&'a CStr> {
        // SAFETY: ptr points into a NULL-terminated array of C strings.
        unsafe {
            let p = *self.ptr;
            if p.is_null() { None } else { Some(CStr::from_ptr(p as *const core::ffi::c_char)) }
        }
    }

    /// Calls `f` on each string of the array, in order (e.g. to copy the
    /// inherited environment).
    pub fn for_each(&self, f: &mut dyn FnMut(&'a CStr)) {
        let mut p = self.ptr;
        loop {
            // SAFETY: p stays within the NULL-terminated array; each entry
            // before the NULL is a NUL-terminated string.
            let s = unsafe { *p };
            if s.is_null() {
                return;
            }
            // SAFETY: as above.
            f(unsafe { CStr::from_ptr(s as *const core::ffi::c_char) });
            // SAFETY: not yet at the NULL terminator.
            p = unsafe { p.add(1) };
        }
    }
}

/// Builds a NULL-terminated argv of at most `N - 1` strings in place.
pub struct ArgvBuf<'a, const N: usize> {
    ptrs: [*const u8; N],
    len: usize,
    _l: core::marker::PhantomData<&'a CStr>,
}

impl<'a, const N: usize> Default for ArgvBuf<'a, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const N: usize> ArgvBuf<'a, N> {
    pub const fn new() -> Self {
        ArgvBuf { ptrs: [core::ptr::null(); N], len: 0, _l: core::marker::PhantomData }
    }
    /// Adds a string; false when the array is full.
    pub fn push(&mut self, s: &'a CStr) -> bool {
        // The last entry stays NULL: the array's terminator.
        match self.ptrs.get_mut(self.len).filter(|_| self.len + 1 < N) {
            Some(p) => *p = s.as_ptr() as *const u8,
            None => return false,
        }
        self.len += 1;
        true
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn as_argv(&self) -> Argv<'_> {
        Argv { ptr: self.ptrs.as_ptr(), _l: core::marker::PhantomData }
    }
}

/// The value of environment variable `name`, if set.
pub fn getenv(name: &[u8]) -> Option<&'static CStr> {
    let mut p = ENVIRON.load(Ordering::Relaxed) as *const *const u8;
    if p.is_null() {
        return None;
    }
    loop {
        // SAFETY: envp is a NULL-terminated array of NUL-terminated strings.
        let s = unsafe { *p };
        if s.is_null() {
            return None;
        }
        // SAFETY: as above.
        let c = unsafe { CStr::from_ptr(s as *const core::ffi::c_char) };
        let b = c.to_bytes();
        if b.len() > name.len() && b.starts_with(name) && b[name.len()] == b'=' {
            // SAFETY: the suffix after '=' is still NUL-terminated.
            return Some(unsafe { CStr::from_ptr(s.add(name.len() + 1) as *const core::ffi::c_char) });
        }
        // SAFETY: not yet at the NULL terminator.
        p = unsafe { p.add(1) };
    }
}

/// The process environment, for exec.
pub fn environ() -> Argv<'static> {
    let p = ENVIRON.load(Ordering::Relaxed);
    static EMPTY: [usize; 1] = [0];
    let ptr = if p.is_null() { EMPTY.as_ptr() as *const *const u8 } else { p as *const *const u8 };
    Argv { ptr, _l: core::marker::PhantomData }
}

/// Runs `main` on a stack moved up into the page that holds the argument
/// and environment strings, and gives the kernel back the stack pages below
/// that page (on every architecture; when the move does not fit, `main`
/// runs where it is). Why: the kernel puts argv, envp and auxv a random 0-8 KiB
/// below the strings (its stack shuffle), so even a program with a small
/// stack keeps two or three stack pages resident for its whole life where
/// one does; a supervisor lives as long as its service, one per service.
/// `frames` is the stack the program needs below the moved arrays: the move
/// is made only when the strings' page has that much room left.
pub fn run_in_strings_page(args: Args, frames: usize, main: fn(Args) -> !) -> ! {
    {
        const PAGE: usize = 4096;
        let envp = ENVIRON.load(Ordering::Relaxed) as *const *const u8;
        if envp.is_null() {
            main(args)
        }
        let mut lowest = usize::MAX;
        let mut envc = 0;
        // SAFETY: argv[..argc] and envp up to its NULL are the kernel's
        // arrays of string pointers (Args::from_stack).
        unsafe {
            for i in 0..args.argc {
                lowest = lowest.min(*args.argv.add(i) as usize);
            }
            while !(*envp.add(envc)).is_null() {
                lowest = lowest.min(*envp.add(envc) as usize);
                envc += 1;
            }
        }
        let here = &lowest as *const usize as usize;
        let page = lowest & !(PAGE - 1);
        // argv and envp are one array in the kernel's layout (argv, NULL,
        // envp, NULL), moved as one to just below the strings, over auxv
        // (which nothing reads after start-up) when they share its page.
        let nptr = args.argc + 1 + envc + 1;
        let arrays = lowest.wrapping_sub(nptr * core::mem::size_of::<usize>()) & !15;
        let ctx = arrays.wrapping_sub(core::mem::size_of::<Resume>()) & !15;
        if lowest != usize::MAX && ctx >= args.argv as usize && ctx >= page + frames {
            let release = (here & !(PAGE - 1)) - PAGE;
            // SAFETY: [ctx, lowest) lies in the stack mapping, in the strings'
            // page below the strings and above every live frame (which are
            // all below argv); `copy` is a memmove of the kernel's nptr
            // pointers (NULLs included). `resume` never returns, so no old
            // frame is used again; the released range holds only them and
            // the pages below the strings' page.
            unsafe {
                let new_argv = arrays as *mut *const u8;
                core::ptr::copy(args.argv, new_argv, nptr);
                let new_envp = new_argv.add(args.argc + 1);
                ENVIRON.store(new_envp, Ordering::Relaxed);
                let r = Resume { args: Args { argc: args.argc, argv: new_argv }, main, release, len: page - release };
                (ctx as *mut Resume).write(r);
                raw::call_on_stack(ctx, ctx as *const u8);
            }
        }
    }
    main(args)
}

/// What `run_in_strings_page` hands over to the moved stack.
struct Resume {
    args: Args,
    main: fn(Args) -> !,
    release: usize,
    len: usize,
}

extern "C" fn resume(ctx: *const u8) -> ! {
    // SAFETY: `ctx` is the Resume written just above this frame.
    let r = unsafe { (ctx as *const Resume).read() };
    // Only EINVAL/ENOMEM, for a range the move computed: the pages then stay, unused.
    // SAFETY: MADV_DONTNEED (4) on pages of our own stack mapping that no
    // frame uses any more; a later touch would get a zero page.
    let _ = unsafe { syscall!(MADVISE, r.release, r.len, 4) };
    (r.main)(r.args)
}

pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group never returns.
    unsafe {
        syscall!(EXIT_GROUP, code as usize);
    }
    loop {}
}

/// fork(2). Ok(0) in the child.
pub fn fork() -> Result<Pid> {
    // SAFETY: the programs are single-threaded; the child gets a copy of the
    // address space and continues with plain syscalls only.
    let r = unsafe { syscall!(CLONE, 17 /* SIGCHLD */, 0, 0, 0, 0) };
    ret(r).map(|p| p as Pid)
}

/// Does a `spawn_shared` child write into this process's memory (x86_64),
/// or into a copy (a plain fork elsewhere)?
pub const SPAWN_SHARED_SHARES_MEMORY: bool = cfg!(target_arch = "x86_64");

/// Bytes of stack a `spawn_shared` child runs on: room for a path buffer
/// of `exec_path`'s search and the frames around it (a debug build's
/// frames are several times larger).
pub const SHARED_CHILD_STACK: usize = if cfg!(debug_assertions) { 65536 } else { 8192 };

/// Starts a process that runs `child` in this process's memory until it
/// execs or exits: clone(CLONE_VM | CLONE_VFORK), posix_spawn's way, which
/// neither copies the page tables nor leaves copy-on-write faults behind,
/// about half fork's cost even for a small program. This process sleeps
/// until the child has exec'ed or exited. `child` (typed to return
/// `Infallible`: stable Rust's `!`) must end in exec or exit
/// and must not change what this process relies on: it may read what it
/// captured; it runs on its own stack (a buffer in this frame), never on
/// this process's frames. The closure is never dropped in this process,
/// so it should capture references only. x86_64 only; elsewhere a plain fork.
#[inline(never)]
pub fn spawn_shared<F: FnOnce() -> core::convert::Infallible>(child: F) -> Result<Pid> {
    let f = core::mem::ManuallyDrop::new(child);
    let mut stack = core::mem::MaybeUninit::<[u8; SHARED_CHILD_STACK]>::uninit();
    let r = clone_shared(stack.as_mut_ptr() as usize + SHARED_CHILD_STACK, run_child::<F>, &f as *const _ as usize);
    if r.is_err() {
        // No child took the closure: drop it here (dropping returns nothing to check).
        let _ = core::mem::ManuallyDrop::into_inner(f);
    }
    r
}

/// Entered on the child's stack with the address of the closure.
extern "C" fn run_child<F: FnOnce() -> core::convert::Infallible>(f: usize) -> ! {
    // SAFETY: `f` is the address of spawn_shared's ManuallyDrop<F>, whose
    // frame lives (its process asleep) until this child execs or exits, and
    // which the parent neither drops nor reads again after a successful clone.
    let f = unsafe { core::ptr::read(f as *const F) };
    match f() {}
}

#[cfg(target_arch = "x86_64")]
fn clone_shared(stack_top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> Result<Pid> {
    const FLAGS: usize = 0x100 /* CLONE_VM */ | 0x4000 /* CLONE_VFORK */ | 17 /* SIGCHLD */;
    let r: isize;
    // SAFETY: the child starts on its own 16-byte aligned stack (a buffer
    // of the parent's frame, unused while the parent sleeps in vfork) and
    // calls `entry(arg)`, which never returns; r12 and r13 carry entry and
    // arg through clone, which copies the registers. The parent resumes
    // with its own registers and stack.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "ud2",
            "2:",
            inlateout("rax") 56isize /* clone */ => r,
            in("rdi") FLAGS,
            in("rsi") stack_top & !15,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") entry as usize,
            in("r13") arg,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret(r as usize).map(|p| p as Pid)
}

#[cfg(not(target_arch = "x86_64"))]
fn clone_shared(_stack_top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> Result<Pid> {
    match fork()? {
        0 => entry(arg),
        p => Ok(p),
    }
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

/// Like `exec`, but a name without `/` is looked up in `$PATH` (default
/// `/usr/bin:/bin:/usr/sbin:/sbin`).
pub fn exec_path(name: &CStr, argv: Argv, env: Option<Argv>) -> Errno {
    let n = name.to_bytes();
    if n.contains(&b'/') {
        return exec(name, argv, env);
    }
    let path = match getenv(b"PATH") {
        Some(p) => p.to_bytes(),
        None => b"/usr/bin:/bin:/usr/sbin:/sbin",
    };
    exec_search(name, path, argv, env)
}

/// Like `exec_path`, with the search list given (e.g. the PATH of the
/// environment about to be handed to the program, not this process's).
pub fn exec_search(name: &CStr, path: &[u8], argv: Argv, env: Option<Argv>) -> Errno {
    let n = name.to_bytes();
    if n.contains(&b'/') {
        return exec(name, argv, env);
    }
    let mut last = errno::ENOENT;
    for dir in path.split(|&c| c == b':') {
        let mut buf = crate::path::PathBuf::new();
        let d = if dir.is_empty() { &b"."[..] } else { dir };
        if buf.push(d).and_then(|b| b.push(b"/")).and_then(|b| b.push(n)).is_err() {
            last = errno::ENAMETOOLONG;
            continue;
        }
        let e = exec(buf.as_cstr(), argv, env);
        if e != errno::ENOENT && e != errno::ENOTDIR {
            last = e;
        }
    }
    last
}

/// How a child ended, in wait(2)'s encoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    pub fn exited(self) -> Option<u8> {
        if self.0 & 0x7f == 0 { Some(((self.0 >> 8) & 0xff) as u8) } else { None }
    }
    pub fn signaled(self) -> Option<u8> {
        let s = self.0 & 0x7f;
        if s != 0 && s != 0x7f { Some(s as u8) } else { None }
    }
    /// s6's "exit code": the code, or 256 when killed by a signal.
    pub fn code_or_256(self) -> u16 {
        match self.exited() {
            Some(c) => c as u16,
            None => 256,
        }
    }
}

/// Reaps one child without blocking: Ok(None) when none has ended yet,
/// Err(ECHILD) when there are no children at all.
pub fn wait_any_nohang() -> Result<Option<(Pid, WaitStatus)>> {
    wait4(-1, 1 /* WNOHANG */)
}

/// Waits for `pid` (blocking).
pub fn wait_pid(pid: Pid) -> Result<WaitStatus> {
    loop {
        match wait4(pid, 0) {
            Ok(Some((_, st))) => return Ok(st),
            Ok(None) => continue,
            Err(errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reaps `pid` if it has ended.
pub fn wait_pid_nohang(pid: Pid) -> Result<Option<WaitStatus>> {
    wait4(pid, 1).map(|o| o.map(|(_, s)| s))
}

fn wait4(pid: Pid, options: usize) -> Result<Option<(Pid, WaitStatus)>> {
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

pub fn getpid() -> Pid {
    rustix::process::getpid().as_raw_nonzero().get()
}

pub fn getppid() -> Pid {
    rustix::process::getppid().map(|p| p.as_raw_nonzero().get()).unwrap_or(0)
}

pub fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

pub fn getgid() -> u32 {
    rustix::process::getgid().as_raw()
}

/// The effective user id (owner of what this process creates).
pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The effective group id (owner group of what this process creates).
pub fn getegid() -> u32 {
    rustix::process::getegid().as_raw()
}

pub fn setsid() -> Result<Pid> {
    Ok(rustix::process::setsid()?.as_raw_nonzero().get())
}

pub fn setpgid(pid: Pid, pgid: Pid) -> Result<()> {
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(SETPGID, pid as usize, pgid as usize) }).map(|_| ())
}

pub fn getpgid(pid: Pid) -> Result<Pid> {
    // SAFETY: plain integer argument.
    ret(unsafe { syscall!(GETPGID, pid as usize) }).map(|p| p as Pid)
}

/// Makes this process a subreaper: orphans below it are reparented to it.
pub fn set_child_subreaper() -> Result<()> {
    Ok(rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?)
}

pub fn umask(mask: u32) -> u32 {
    rustix::process::umask(Mode::from_bits_retain(mask)).bits()
}

pub fn chdir(path: &CStr) -> Result<()> {
    Ok(rustix::process::chdir(path)?)
}

pub fn fchdir(fd: Fd) -> Result<()> {
    Ok(rustix::process::fchdir(bfd(fd))?)
}

/// The working directory into `buf`; returns its length (no NUL counted).
pub fn getcwd(buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = ret(unsafe { syscall!(GETCWD, buf.as_mut_ptr() as usize, buf.len()) })?;
    Ok(n.saturating_sub(1))
}

/// RLIMIT_NOFILE / RLIMIT_NPROC etc., raw resource numbers.
pub const RLIMIT_NPROC: u32 = 6;
pub const RLIMIT_NOFILE: u32 = 7;

pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    let lim = [soft, hard];
    // SAFETY: lim is a valid struct rlimit64 for the call; old is NULL.
    ret(unsafe { syscall!(PRLIMIT64, 0, resource as usize, lim.as_ptr() as usize, 0) }).map(|_| ())
}

/// Raises the soft limit of `resource` to its hard limit (e.g. RLIMIT_NOFILE
/// for a scanner that holds two pipe ends per logged service).
pub fn raise_rlimit(resource: u32) -> Result<()> {
    let mut old = [0u64; 2];
    // SAFETY: old is a valid out struct rlimit64; new is NULL (read only).
    ret(unsafe { syscall!(PRLIMIT64, 0, resource as usize, 0, old.as_mut_ptr() as usize) })?;
    let [_, hard] = old;
    setrlimit(resource, hard, hard)
}

/// Raises the soft limit of `resource` to at least `want` (capped by the
/// hard limit), never lowering it: children inherit a modest limit, not
/// the hard one.
pub fn raise_rlimit_to(resource: u32, want: u64) -> Result<()> {
    let mut old = [0u64; 2];
    // SAFETY: old is a valid out struct rlimit64; new is NULL (read only).
    ret(unsafe { syscall!(PRLIMIT64, 0, resource as usize, 0, old.as_mut_ptr() as usize) })?;
    let [soft, hard] = old;
    if soft >= want {
        return Ok(());
    }
    setrlimit(resource, want.min(hard), hard)
}

// ---------------------------------------------------------------- signals

pub mod sig {
    pub const HUP: i32 = 1;
    pub const INT: i32 = 2;
    pub const QUIT: i32 = 3;
    pub const ABRT: i32 = 6;
    pub const KILL: i32 = 9;
    pub const USR1: i32 = 10;
    pub const USR2: i32 = 12;
    pub const PIPE: i32 = 13;
    pub const ALRM: i32 = 14;
    pub const TERM: i32 = 15;
    pub const CHLD: i32 = 17;
    pub const CONT: i32 = 18;
    pub const STOP: i32 = 19;
    pub const TSTP: i32 = 20;
    pub const WINCH: i32 = 28;
    pub const PWR: i32 = 30;

    /// Signal names as s6 spells them in files (`down-signal`) and scripts (`SIGTERM`).
    pub const NAMES: &[(&[u8], i32)] = &[
        (b"HUP", HUP), (b"INT", INT), (b"QUIT", QUIT), (b"ILL", 4), (b"TRAP", 5), (b"ABRT", ABRT),
        (b"BUS", 7), (b"FPE", 8), (b"KILL", KILL), (b"USR1", USR1), (b"SEGV", 11), (b"USR2", USR2),
        (b"PIPE", PIPE), (b"ALRM", ALRM), (b"TERM", TERM), (b"STKFLT", 16), (b"CHLD", CHLD),
        (b"CONT", CONT), (b"STOP", STOP), (b"TSTP", TSTP), (b"TTIN", 21), (b"TTOU", 22),
        (b"URG", 23), (b"XCPU", 24), (b"XFSZ", 25), (b"VTALRM", 26), (b"PROF", 27),
        (b"WINCH", WINCH), (b"IO", 29), (b"PWR", PWR), (b"SYS", 31),
    ];

    /// "TERM", "SIGTERM" or "15" → 15.
    pub fn parse(s: &[u8]) -> Option<i32> {
        let s = s.strip_prefix(b"SIG").unwrap_or(s);
        if let Some(n) = crate::fmt::parse_u64(s) {
            return if (1..=64).contains(&n) { Some(n as i32) } else { None };
        }
        // BY_NUMBER rather than NAMES: ~150 bytes in a binary instead of ~750.
        BY_NUMBER.split(|&c| c == b' ').position(|n| n == s).map(|i| i as i32 + 1)
    }

    /// The name of signal `n` (1 to 31), without `SIG`.
    pub fn name(n: i32) -> Option<&'static [u8]> {
        // A string rather than NAMES: a binary that only names signals
        // carries ~150 bytes instead of NAMES' ~750 (a slice per entry).
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        BY_NUMBER.split(|&c| c == b' ').nth(i)
    }

    /// The names of signals 1 to 31, in order (the same as NAMES).
    const BY_NUMBER: &[u8] = b"HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT \
        CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS";

    #[cfg(test)]
    #[test]
    fn names_agree_with_numbers() {
        for &(name, n) in NAMES {
            assert_eq!(self::name(n), Some(name));
            assert_eq!(parse(name), Some(n));
        }
        assert_eq!(parse(b"SIGTERM"), Some(TERM));
        assert_eq!(parse(b"9"), Some(KILL));
        assert_eq!(parse(b"NOPE"), None);
        assert_eq!(parse(b"TERM KILL"), None);
        assert_eq!(self::name(0), None);
        assert_eq!(self::name(32), None);
    }
}

/// A set of signals, as the kernel's 64-bit mask.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const fn of(sigs: &[i32]) -> SigSet {
        let mut m = 0u64;
        let mut i = 0;
        while i < sigs.len() {
            m |= 1 << (sigs[i] - 1);
            i += 1;
        }
        SigSet(m)
    }
}

/// Blocks `set` (adds to the mask).
pub fn sig_block(set: SigSet) -> Result<()> {
    sigprocmask(0, set)
}

/// Sets the mask to exactly `set` (empty: everything delivered again, as
/// children must have before exec).
pub fn sig_setmask(set: SigSet) -> Result<()> {
    sigprocmask(2, set)
}

fn sigprocmask(how: usize, set: SigSet) -> Result<()> {
    // SAFETY: set is a valid 8-byte mask; oldset NULL.
    ret(unsafe { syscall!(RT_SIGPROCMASK, how, &set.0 as *const u64 as usize, 0, 8) }).map(|_| ())
}

/// A signalfd for `set` (which must be blocked), non-blocking and close-on-exec.
pub fn signalfd(set: SigSet) -> Result<Fd> {
    let flags = 0o2000000 | 0o4000; // SFD_CLOEXEC | SFD_NONBLOCK
    // SAFETY: set is a valid 8-byte mask.
    ret(unsafe { syscall!(SIGNALFD4, (-1isize) as usize, &set.0 as *const u64 as usize, 8, flags) })
        .map(|f| Fd(f as i32))
}

/// Reads one pending signal number from a signalfd; Ok(None) when none.
pub fn signalfd_read(fd: Fd) -> Result<Option<i32>> {
    let mut info = [0u8; 128];
    match read(fd, &mut info) {
        Ok(128) => Ok(Some(u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as i32)),
        Ok(_) => Ok(None),
        Err(errno::EAGAIN) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets the disposition of `sig` to default (true) or ignore (false).
pub fn sig_default(sig: i32, default: bool) -> Result<()> {
    // struct kernel_sigaction { handler, flags, restorer, mask }
    let mut act = [0usize; raw::SIGACTION_WORDS];
    act[0] = if default { 0 } else { 1 };
    // SAFETY: act is a valid kernel sigaction with SIG_DFL/SIG_IGN; oldact NULL.
    ret(unsafe { syscall!(RT_SIGACTION, sig as usize, act.as_ptr() as usize, 0, 8) }).map(|_| ())
}

// ---------------------------------------------------------------- files

pub use rustix::fs::OFlags as Open;

pub fn open(path: &CStr, flags: Open, mode: u32) -> Result<Fd> {
    Ok(own(rustix::fs::openat(CWD, path, flags | Open::CLOEXEC, Mode::from_bits_retain(mode))?))
}

/// Opens relative to a directory descriptor.
pub fn open_at(dir: Fd, path: &CStr, flags: Open, mode: u32) -> Result<Fd> {
    Ok(own(rustix::fs::openat(bfd(dir), path, flags | Open::CLOEXEC, Mode::from_bits_retain(mode))?))
}

/// Opens a file to read that must be a regular file: a FIFO put in its
/// place must not block the reader for ever (ENOTREG instead).
pub fn open_read(path: &CStr) -> Result<Fd> {
    regular(open(path, Open::RDONLY | Open::NONBLOCK, 0)?)
}

/// Opens `name` in `dir`, where others may have written: a symlink is not
/// followed, a FIFO does not block, anything but a regular file is ENOTREG.
pub fn open_regular_at(dir: Fd, name: &CStr, flags: Open, mode: u32) -> Result<Fd> {
    open_regular_in(bfd(dir), name, flags, mode)
}

/// `open_regular_at` for a path (its last component is not followed).
pub fn open_regular(path: &CStr, flags: Open, mode: u32) -> Result<Fd> {
    open_regular_in(CWD, path, flags, mode)
}

fn open_regular_in(dir: BorrowedFd<'static>, name: &CStr, flags: Open, mode: u32) -> Result<Fd> {
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
fn regular(fd: Fd) -> Result<Fd> {
    // The raw mode bits, not `fstat`'s Stat: a few hundred bytes less in
    // every binary that reads a file.
    let kind = rustix::fs::fstat(bfd(fd)).map(|st| st.st_mode as u32 & FileType::Unknown.as_raw_mode() as u32);
    match kind {
        Ok(k) if k == FileType::RegularFile.as_raw_mode() as u32 => Ok(fd),
        r => {
            close(fd);
            Err(r.err().map_or(errno::ENOTREG, Errno::from))
        }
    }
}

pub fn close(fd: Fd) {
    // EBADF or EINTR: either way the number is no longer ours to use.
    // SAFETY: plain integer argument; closing an unknown number gives EBADF.
    let _ = unsafe { syscall!(CLOSE, fd.0 as usize) };
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
    let fd = open_read(path)?;
    let r = read_full(fd, buf);
    let extra = if matches!(r, Ok(n) if n == buf.len()) {
        let mut one = [0u8; 1];
        read(fd, &mut one).unwrap_or(0)
    } else {
        0
    };
    close(fd);
    let n = r?;
    match buf.get(..n) {
        Some(got) if extra == 0 => Ok(got),
        _ => Err(errno::EOVERFLOW),
    }
}

pub fn dup2(old: Fd, new: Fd) -> Result<()> {
    if old == new {
        return set_cloexec(new, false);
    }
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(DUP3, old.0 as usize, new.0 as usize, 0) }).map(|_| ())
}

pub fn dup(fd: Fd) -> Result<Fd> {
    // F_DUPFD_CLOEXEC from 3 up, so stdio is never taken by accident.
    // SAFETY: plain integer arguments.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, 1030, 3) }).map(|f| Fd(f as i32))
}

pub fn set_cloexec(fd: Fd, on: bool) -> Result<()> {
    // SAFETY: F_SETFD with an integer flag.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, 2, on as usize) }).map(|_| ())
}

pub fn set_nonblock(fd: Fd, on: bool) -> Result<()> {
    // SAFETY: F_GETFL/F_SETFL with integer flags.
    let fl = ret(unsafe { syscall!(FCNTL, fd.0 as usize, 3) })?;
    let fl = if on { fl | 0o4000 } else { fl & !0o4000 };
    // SAFETY: as above.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, 4, fl) }).map(|_| ())
}

/// A pipe, both ends close-on-exec: (read end, write end).
pub fn pipe() -> Result<(Fd, Fd)> {
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

/// readlink(2) into `buf`; ENAMETOOLONG when the target does not fit.
pub fn readlink<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a [u8]> {
    // SAFETY: buf is a valid writable buffer of buf.len() bytes.
    let n = ret(unsafe {
        syscall!(READLINKAT, (-100isize) as usize, path.as_ptr() as usize, buf.as_mut_ptr() as usize, buf.len())
    })?;
    if n >= buf.len() {
        return Err(errno::ENAMETOOLONG);
    }
    Ok(&buf[..n])
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
    open(path, Open::PATH | Open::DIRECTORY, 0).map(close).is_ok()
}

/// Does `name` exist inside the directory `dir` (a symlink counts, even
/// dangling)? As `is_dir`, an O_PATH open.
pub fn exists_in(dir: Fd, name: &CStr) -> bool {
    open_at(dir, name, Open::PATH | Open::NOFOLLOW, 0).map(close).is_ok()
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

/// The watchdog driver's requests (<linux/watchdog.h>; the asm-generic
/// ioctl encoding of x86_64, aarch64 and riscv64).
pub mod wdioc {
    pub const GETSUPPORT: u32 = 0x8028_5700;
    pub const KEEPALIVE: u32 = 0x8004_5705;
    pub const SETTIMEOUT: u32 = 0xc004_5706;
    pub const GETTIMEOUT: u32 = 0x8004_5707;
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

/// struct flock64 for fcntl record locks (`raw` checks its layout against
/// the kernel's on each architecture).
#[repr(C)]
struct Flock {
    l_type: i16,
    l_whence: i16,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
}

/// Exclusive POSIX record lock (fcntl F_SETLK, F_WRLCK, whole file),
/// non-blocking: the kind skalibs takes on `supervise/lock`, so s6's tools
/// (s6-svok, s6-svstat: F_GETLK) see it. `fd` must be open for writing.
/// Ok(false) when another process holds it. Not inherited by children; it
/// goes when this process closes any descriptor of the file.
pub fn lock_record_nb(fd: Fd) -> Result<bool> {
    let mut fl = Flock { l_type: 1 /* F_WRLCK */, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
    // SAFETY: fl is a valid struct flock for the call.
    match ret(unsafe { syscall!(FCNTL, fd.0 as usize, raw::F_SETLK, &mut fl as *mut Flock as usize) }) {
        Ok(_) => Ok(true),
        Err(errno::EAGAIN) | Err(Errno(13)) => Ok(false), // EAGAIN or EACCES: held
        Err(e) => Err(e),
    }
}

/// Does another process hold a POSIX record lock on the file (s6-svok's
/// test: F_GETLK for a write lock)? `fd` may be read-only.
pub fn record_locked(fd: Fd) -> Result<bool> {
    let mut fl = Flock { l_type: 1 /* F_WRLCK */, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
    // SAFETY: fl is a valid struct flock the kernel fills in.
    ret(unsafe { syscall!(FCNTL, fd.0 as usize, raw::F_GETLK, &mut fl as *mut Flock as usize) })?;
    Ok(fl.l_type != 2 /* F_UNLCK */)
}

/// Reads directory entries from `dir` (an fd opened with O_DIRECTORY),
/// calling `f(name, type)` for each except `.` and `..`. `buf` is the
/// getdents buffer; the caller's fixed capacity.
pub fn read_dir(dir: Fd, f: &mut dyn FnMut(&CStr, FileType)) -> Result<()> {
    read_dir_with(dir, &mut [core::mem::MaybeUninit::<u8>::uninit(); 2048], f)
}

/// `read_dir` through the caller's getdents buffer: a small one for a
/// process that must keep its stack to one page (the supervisor).
pub fn read_dir_with(dir: Fd, buf: &mut [core::mem::MaybeUninit<u8>], f: &mut dyn FnMut(&CStr, FileType)) -> Result<()> {
    let mut it = rustix::fs::RawDir::new(bfd(dir), buf);
    while let Some(e) = it.next() {
        let e = e?;
        let n = e.file_name();
        let b = n.to_bytes();
        if b == b"." || b == b".." {
            continue;
        }
        f(n, e.file_type());
    }
    Ok(())
}

pub fn open_dir(path: &CStr) -> Result<Fd> {
    open(path, Open::RDONLY | Open::DIRECTORY, 0)
}

/// Maps the first `len` bytes of the file `fd` read-only and for the rest of
/// the process (never unmapped), e.g. a compiled database read in place.
/// The file must not shrink while mapped (write it once, rename it in).
pub fn map_file(fd: Fd, len: usize) -> Result<&'static [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: a fresh PROT_READ, MAP_PRIVATE mapping chosen by the kernel;
    // nothing else aliases it and it is never unmapped, so 'static holds.
    let r = unsafe { syscall!(MMAP, 0, len, 1 /* PROT_READ */, 2 /* MAP_PRIVATE */, fd.0 as usize, 0) };
    let p = ret(r)?;
    // SAFETY: the kernel mapped `len` readable bytes at `p`.
    Ok(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// A static value handed out once as `&'static mut`: how a program gets big
/// fixed tables in .bss without a heap and without `unsafe` of its own.
pub struct StaticCell<T> {
    taken: core::sync::atomic::AtomicBool,
    cell: core::cell::UnsafeCell<T>,
}

// SAFETY: `take` hands out the only reference, at most once (atomic flag).
unsafe impl<T> Sync for StaticCell<T> {}

impl<T> StaticCell<T> {
    pub const fn new(v: T) -> Self {
        StaticCell { taken: core::sync::atomic::AtomicBool::new(false), cell: core::cell::UnsafeCell::new(v) }
    }
    /// The value, the first time only; None afterwards.
    // The one `&mut` comes out of a shared static by design: the atomic
    // flag makes it unique, as a cell's `get_mut` would.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the flag guarantees this is the one and only reference.
        Some(unsafe { &mut *self.cell.get() })
    }
}

// ---------------------------------------------------------------- sockets

/// Room for a unix socket's path in `struct sockaddr_un`, its NUL included.
pub const UNIX_PATH_MAX: usize = 108;

/// A unix datagram socket bound to `path` (close-on-exec, non-blocking),
/// whose every datagram comes with its sender's credentials (SO_PASSCRED).
/// ENAMETOOLONG when `path` does not fit a `sockaddr_un`.
pub fn unix_dgram_bind(path: &CStr) -> Result<Fd> {
    let (sa, len) = sockaddr_un(path)?;
    // SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC.
    // SAFETY: plain integer arguments.
    let fd = Fd(ret(unsafe { syscall!(SOCKET, 1, 2 | 0o4000 | 0o2000000, 0) })? as i32);
    let one: i32 = 1;
    // SAFETY: `one` is a valid int option value; `sa` a valid sockaddr_un
    // of the length given.
    let r = ret(unsafe { syscall!(SETSOCKOPT, fd.0 as usize, 1 /* SOL_SOCKET */, 16 /* SO_PASSCRED */, &one as *const i32 as usize, 4) })
        .and_then(|_| ret(unsafe { syscall!(BIND, fd.0 as usize, sa.as_ptr() as usize, len) }));
    match r {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

/// `struct sockaddr_un` for `path`, and its length.
fn sockaddr_un(path: &CStr) -> Result<([u8; 2 + UNIX_PATH_MAX], usize)> {
    let p = path.to_bytes_with_nul();
    let mut sa = [0u8; 2 + UNIX_PATH_MAX];
    sa.get_mut(2..2 + p.len()).ok_or(errno::ENAMETOOLONG)?.copy_from_slice(p);
    sa[..2].copy_from_slice(&1u16.to_ne_bytes()); // AF_UNIX
    Ok((sa, 2 + p.len()))
}

/// SOCK_SEQPACKET | SOCK_CLOEXEC: messages keep their boundaries, and a
/// peer's end is seen as end of file.
const SEQPACKET_CLOEXEC: usize = 5 | 0o2000000;

/// A unix seqpacket socket listening at `path` (non-blocking,
/// close-on-exec), with room for `backlog` waiting connections. The
/// socket file gets the umask's mode: bind it inside a private directory.
pub fn unix_seqpacket_listen(path: &CStr, backlog: u32) -> Result<Fd> {
    let (sa, len) = sockaddr_un(path)?;
    // SAFETY: plain integer arguments.
    let fd = Fd(ret(unsafe { syscall!(SOCKET, 1, SEQPACKET_CLOEXEC | 0o4000, 0) })? as i32);
    // SAFETY: `sa` is a valid sockaddr_un of the length given.
    let r = ret(unsafe { syscall!(BIND, fd.0 as usize, sa.as_ptr() as usize, len) })
        // SAFETY: plain integer arguments.
        .and_then(|_| ret(unsafe { syscall!(LISTEN, fd.0 as usize, backlog as usize) }));
    match r {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

/// A unix seqpacket socket connected to `path` (blocking, close-on-exec).
pub fn unix_seqpacket_connect(path: &CStr) -> Result<Fd> {
    let (sa, len) = sockaddr_un(path)?;
    // SAFETY: plain integer arguments.
    let fd = Fd(ret(unsafe { syscall!(SOCKET, 1, SEQPACKET_CLOEXEC, 0) })? as i32);
    loop {
        // SAFETY: `sa` is a valid sockaddr_un of the length given.
        match ret(unsafe { syscall!(CONNECT, fd.0 as usize, sa.as_ptr() as usize, len) }) {
            Ok(_) => return Ok(fd),
            Err(errno::EINTR) => continue,
            Err(e) => {
                close(fd);
                return Err(e);
            }
        }
    }
}

/// The next connection waiting on a listening socket (non-blocking,
/// close-on-exec); EAGAIN when none is.
pub fn accept(fd: Fd) -> Result<Fd> {
    // SAFETY: no address wanted (NULL, NULL); flags SOCK_NONBLOCK | SOCK_CLOEXEC.
    ret(unsafe { syscall!(ACCEPT4, fd.0 as usize, 0, 0, 0o4000 | 0o2000000) }).map(|r| Fd(r as i32))
}

/// MSG_DONTWAIT: this call does not block, whatever the socket's mode.
const MSG_DONTWAIT: usize = 0x40;

/// Sends one message on a connected socket; EPIPE (never SIGPIPE) when the
/// peer is gone. `wait`: block while the peer's queue is full (else EAGAIN).
pub fn send_msg(fd: Fd, buf: &[u8], wait: bool) -> Result<usize> {
    let flags = 0x4000 /* MSG_NOSIGNAL */ | if wait { 0 } else { MSG_DONTWAIT };
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
        match ret(unsafe { syscall!(RECVFROM, fd.0 as usize, buf.as_mut_ptr() as usize, buf.len(), MSG_DONTWAIT, 0, 0) }) {
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
    let len = ret(unsafe { syscall!(RECVMSG, fd.0 as usize, &mut msg as *mut MsgHdr as usize, 0x20) })?;
    let mut bytes = [0u8; 32];
    for (b, w) in bytes.chunks_exact_mut(8).zip(control) {
        b.copy_from_slice(&w.to_ne_bytes());
    }
    let int = |i: usize| i32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    // One cmsg: its length (a size_t), SOL_SOCKET (1), SCM_CREDENTIALS (2),
    // then the ucred, whose pid is at CMSG_DATA: byte 16 on 64-bit targets,
    // 12 on 32-bit ones.
    const W: usize = core::mem::size_of::<usize>();
    const DATA: usize = (W + 8).next_multiple_of(W);
    let pid = if msg.controllen >= DATA + 12 && int(W) == 1 && int(W + 4) == 2 { int(DATA) } else { 0 };
    Ok(Datagram { len, pid })
}

/// The session id of process `pid`.
pub fn getsid(pid: Pid) -> Result<Pid> {
    // SAFETY: plain integer argument.
    ret(unsafe { syscall!(GETSID, pid as usize) }).map(|p| p as Pid)
}

// ---------------------------------------------------------------- time and waiting

/// clock_gettime(2) as a plain syscall: rustix's vDSO lookup costs ~2 KB of
/// code in every binary that reads the clock, for ~100 ns saved per call.
fn clock_gettime(id: usize) -> (u64, u32) {
    let mut ts = [0i64; 2];
    // CLOCK_MONOTONIC and CLOCK_REALTIME with a valid buffer cannot fail.
    // SAFETY: ts is a valid struct timespec (two 64-bit fields) for the call.
    let _ = unsafe { syscall!(CLOCK_GETTIME, id, ts.as_mut_ptr() as usize) };
    (ts[0] as u64, ts[1] as u32)
}

/// Monotonic clock in nanoseconds.
pub fn now_mono_ns() -> u64 {
    let (s, ns) = clock_gettime(1 /* CLOCK_MONOTONIC */);
    s * 1_000_000_000 + ns as u64
}

/// Wall clock (seconds since the epoch, nanoseconds).
pub fn now_real() -> (u64, u32) {
    clock_gettime(0 /* CLOCK_REALTIME */)
}

/// What to wait for on one descriptor.
#[derive(Clone, Copy)]
pub struct PollFd {
    pub fd: Fd,
    pub read: bool,
    pub write: bool,
    /// Set by `poll`: the descriptor is ready (or hung up / in error).
    pub ready: bool,
}

impl PollFd {
    pub const fn read(fd: Fd) -> PollFd {
        PollFd { fd, read: true, write: false, ready: false }
    }
    pub const fn write(fd: Fd) -> PollFd {
        PollFd { fd, read: false, write: true, ready: false }
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
    let n = fds.len().min(POLL_MAX);
    let mut raw = [RawPollFd { fd: -1, events: 0, revents: 0 }; POLL_MAX];
    for (r, p) in raw.iter_mut().zip(fds.iter()) {
        *r = RawPollFd { fd: p.fd.0, events: (p.read as i16) | ((p.write as i16) << 2), revents: 0 }; // POLLIN 1, POLLOUT 4
    }
    let ts = [timeout_ms / 1000, (timeout_ms % 1000) * 1_000_000];
    let tp = if timeout_ms < 0 { 0 } else { ts.as_ptr() as usize };
    // SAFETY: raw holds n valid struct pollfd; tp is NULL or a valid
    // timespec; no signal mask is passed.
    let r = unsafe { syscall!(PPOLL, raw.as_mut_ptr() as usize, n, tp, 0, 8) };
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

/// Sleeps for `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    // Only EINTR (a signal): the sleep is a pause, never a deadline.
    let _ = poll(&mut [], ms as i64);
}

/// An epoll instance (close-on-exec), for watching more descriptors than `poll` takes.
pub fn epoll_create() -> Result<Fd> {
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

// ---------------------------------------------------------------- system

pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: u64, data: Option<&CStr>) -> Result<()> {
    Ok(rustix::mount::mount(
        source,
        target,
        fstype,
        rustix::mount::MountFlags::from_bits_retain(flags as _),
        data,
    )?)
}

pub fn umount(target: &CStr, detach: bool) -> Result<()> {
    let f = if detach { rustix::mount::UnmountFlags::DETACH } else { rustix::mount::UnmountFlags::empty() };
    Ok(rustix::mount::unmount(target, f)?)
}

/// The `reboot(2)` actions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RebootAction {
    Halt,
    PowerOff,
    Reboot,
    /// Ctrl-Alt-Del sends SIGINT to pid 1 (the probe for "is this the initial pid namespace").
    CadOff,
}

pub fn reboot(a: RebootAction) -> Result<()> {
    use rustix::system::RebootCommand as R;
    let c = match a {
        RebootAction::Halt => R::Halt,
        RebootAction::PowerOff => R::PowerOff,
        RebootAction::Reboot => R::Restart,
        RebootAction::CadOff => R::CadOff,
    };
    Ok(rustix::system::reboot(c)?)
}

#[cfg(test)]
mod spawn_shared_tests {
    use super::*;

    #[test]
    fn spawn_shared_child_runs_its_closure_and_the_parent_resumes_intact() {
        let code = 7;
        let before = [1u64, 2, 3];
        let pid = spawn_shared(|| exit(code + before.len() as i32)).expect("clone");
        assert!(pid > 0);
        assert_eq!(before, [1, 2, 3]);
        assert_eq!(wait_pid(pid).expect("wait").exited(), Some(10));
    }

    #[test]
    fn spawn_shared_child_can_exec() {
        let path = c"/bin/true";
        let mut argv = ArgvBuf::<2>::new();
        argv.push(path);
        let pid = spawn_shared(|| {
            // A failed exec ends in the exit below, which the test sees.
            let _ = exec(path, argv.as_argv(), None);
            exit(127)
        })
        .expect("clone");
        assert_eq!(wait_pid(pid).expect("wait").exited(), Some(0));
    }
}
