//! New processes: fork, and a child that shares this process's memory
//! until it execs (`spawn_shared`). The raw calls are `unsafe fn`, each
//! with the contract its caller keeps; the safe ones, `fork_process` and
//! `spawn_set_up` (for the spawn builder, `crate::spawn`), are what the
//! programs call.
// Part of the unsafe floor of the syscall layer: a child that runs on a
// stack of ours, in our memory, is beyond what the compiler checks.
#![allow(unsafe_code)]

use super::errno::ret;
use super::raw::syscall;
use super::{Pid, Result};
use linux_raw_sys::general as k;

/// fork(2): Ok(0) in the child, the child's pid in the parent.
///
/// # Safety
/// The process must have one thread: the child is a copy of this thread
/// alone, and whatever another thread was doing (a lock held, a value half
/// written) stays so in the child for ever.
pub unsafe fn fork() -> Result<Pid> {
    // SAFETY: plain integer arguments; the caller keeps the one-thread rule.
    let r = unsafe { syscall!(CLONE, k::SIGCHLD, 0, 0, 0, 0) };
    ret(r).map(|p| p as Pid)
}

/// fork(2) for rinit's programs: Ok(0) in the child. Safe where `fork` is
/// not because nothing in rinit takes a lock or allocates: a child forked
/// while another thread (a test harness's) was inside `base` finds at
/// worst a `OnceBytes` still empty, never memory in an undefined state;
/// and the programs themselves have one thread (nothing starts another).
pub fn fork_process() -> Result<Pid> {
    // SAFETY: see above: no lock or allocator state can be caught half-way.
    unsafe { fork() }
}

/// Does a `spawn_shared` child write into this process's memory (x86_64),
/// or into a copy (a plain fork elsewhere)?
pub const SPAWN_SHARED_SHARES_MEMORY: bool = cfg!(target_arch = "x86_64");

/// Bytes of stack a `spawn_shared` child may use below its parent's stack
/// pointer: room for a path buffer of `exec_path`'s search and the frames
/// around it (a debug build's frames are several times larger).
pub const SHARED_CHILD_STACK: usize = if cfg!(debug_assertions) { 65536 } else { 8192 };

/// Starts a process that runs `child` in this process's memory until it
/// execs or exits: clone(CLONE_VM | CLONE_VFORK), posix_spawn's way, which
/// neither copies the page tables nor leaves copy-on-write faults behind,
/// about half fork's cost even for a small program. This thread sleeps
/// until the child has exec'ed or exited. `child` (typed to return
/// `Infallible`: stable Rust's `!`) ends in exec or exit; it runs on this
/// thread's stack below the frames of the caller (which sleep meanwhile),
/// so it touches only the pages its own frames need: a buffer for it in
/// this frame would make the stack probes touch every page of it, pages the
/// process then keeps. The closure is never dropped in this process, so it
/// should capture references only. x86_64 only; elsewhere a plain fork.
///
/// # Safety
/// - `child` needs no more than `SHARED_CHILD_STACK` bytes of stack below
///   the caller's frames, and the stack has that room (a region's stack
///   ends in a guard page, not a stack the kernel grows).
/// - The process has one thread: only the calling thread sleeps, and any
///   other would share memory with the child, unsynchronised.
/// - What `child` writes in memory, this process finds when it resumes:
///   it writes nothing this process relies on.
#[inline(never)]
pub unsafe fn spawn_shared<F: FnOnce() -> core::convert::Infallible>(child: F) -> Result<Pid> {
    let f = core::mem::ManuallyDrop::new(child);
    let r = clone_shared(run_child::<F>, &f as *const _ as usize);
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

/// Below the stack pointer, what the child leaves alone: the red zone (128
/// bytes a function may use below rsp without moving it) and as much again.
#[cfg(target_arch = "x86_64")]
const BELOW_SP: usize = 256;

#[cfg(target_arch = "x86_64")]
fn clone_shared(entry: extern "C" fn(usize) -> !, arg: usize) -> Result<Pid> {
    const FLAGS: usize = (k::CLONE_VM | k::CLONE_VFORK | k::SIGCHLD) as usize;
    let r: isize;
    // SAFETY: the child starts below this frame's stack pointer, past the
    // red zone, 16-byte aligned (memory nothing of the parent's uses while
    // it sleeps in vfork), and calls `entry(arg)`, which never returns; r12
    // and r13 carry entry and arg through clone, which copies the registers.
    // The parent resumes with its own registers and stack, its frames above
    // the child's untouched.
    unsafe {
        core::arch::asm!(
            "lea rsi, [rsp - {below}]",
            "and rsi, -16",
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "ud2",
            "2:",
            below = const BELOW_SP,
            inlateout("rax") k::__NR_clone as isize => r,
            in("rdi") FLAGS,
            out("rsi") _,
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
fn clone_shared(entry: extern "C" fn(usize) -> !, arg: usize) -> Result<Pid> {
    // SAFETY: `spawn_shared`'s caller keeps the one-thread rule.
    match unsafe { fork() }? {
        0 => entry(arg),
        p => Ok(p),
    }
}

/// `spawn_shared` for the spawn builder (`crate::spawn`), its only caller:
/// `child` runs the builder's set-up steps (syscalls on values of its own
/// frame, the caller's step documented as syscalls only), stores its
/// report in an atomic of the parent's frame or writes it to a pipe, and
/// execs or exits. Crate-private: the contract below is kept by that one
/// closure, not by any a caller could pass.
pub(crate) fn spawn_set_up<F: FnOnce() -> core::convert::Infallible>(child: F) -> Result<Pid> {
    // SAFETY: the builder's child makes a few syscalls, from buffers no
    // larger than exec_search's path buffer: within SHARED_CHILD_STACK;
    // the one value it writes in this process's memory is the report the
    // parent reads after resuming (an atomic); rinit's programs have one
    // thread, and the tests' other threads never touch the builder's values.
    unsafe { spawn_shared(child) }
}

#[cfg(test)]
mod spawn_shared_tests {
    use super::*;
    use crate::sys::{exec, exit, wait_pid, ArgvBuf};

    #[test]
    fn spawn_shared_child_runs_its_closure_and_the_parent_resumes_intact() {
        let code = 7;
        let before = [1u64, 2, 3];
        // SAFETY: the child exits with a few words of stack, reading values
        // nobody writes.
        let pid = unsafe { spawn_shared(|| exit(code + before.len() as i32)) }.expect("clone");
        assert!(pid > 0);
        assert_eq!(before, [1, 2, 3]);
        assert_eq!(wait_pid(pid).expect("wait").exited(), Some(10));
    }

    #[test]
    fn spawn_shared_child_can_exec() {
        let path = c"/bin/true";
        let mut argv = ArgvBuf::<2>::new();
        argv.push(path);
        // SAFETY: the child execs or exits with a few words of stack,
        // reading values nobody writes.
        let pid = unsafe {
            spawn_shared(|| {
                // A failed exec ends in the exit below, which the test sees.
                let _ = exec(path, argv.as_argv(), None);
                exit(127)
            })
        }
        .expect("clone");
        assert_eq!(wait_pid(pid).expect("wait").exited(), Some(0));
    }
}
