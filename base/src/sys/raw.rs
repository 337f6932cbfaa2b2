//! The part of the syscall layer that differs between architectures: the
//! system call instruction, the numbers of the calls `sys` makes itself
//! (those rustix keeps private or makes bigger than they need be), the
//! stack switch of `run_in_strings_page`, and compile-time checks that the
//! structures `sys` hands to the kernel have the kernel's layout here.
//!
//! 32-bit targets (arm, x86, mips) take the `*64` / `*_time64` calls: 64-bit file
//! offsets for record locks and 64-bit seconds for the clocks and timeouts,
//! so the status file's TAI64N stamps go on past 2038. Those calls need
//! Linux 5.1 or later (`clock_gettime64`, `ppoll_time64`).

// The bottom of the syscall layer: inline assembly and raw machine words,
// unsafe by nature; everything above reaches the kernel through here.
#![allow(unsafe_code)]
// Every `syscallN` has the one contract written on `syscall!`.
#![allow(clippy::missing_safety_doc)]

use core::arch::asm;
use linux_raw_sys::general as k;

/// `syscall!(NAME, args...)`: the system call `nr::NAME` with each
/// argument passed as a machine word; returns the raw result (a negated
/// errno from -4095 to -1 on failure, see `errno::ret`).
///
/// # Safety
/// The arguments must be what the call takes: an address must be valid for
/// what the kernel reads or writes there, and the call must not break what
/// the compiler assumes of this process's memory (as munmap or a clone
/// sharing it would, outside the functions made for them).
macro_rules! syscall {
    ($nr:ident) => { $crate::sys::raw::syscall0($crate::sys::raw::nr::$nr) };
    ($nr:ident, $a1:expr) => { $crate::sys::raw::syscall1($crate::sys::raw::nr::$nr, $a1 as usize) };
    ($nr:ident, $a1:expr, $a2:expr) => {
        $crate::sys::raw::syscall2($crate::sys::raw::nr::$nr, $a1 as usize, $a2 as usize)
    };
    ($nr:ident, $a1:expr, $a2:expr, $a3:expr) => {
        $crate::sys::raw::syscall3($crate::sys::raw::nr::$nr, $a1 as usize, $a2 as usize, $a3 as usize)
    };
    ($nr:ident, $a1:expr, $a2:expr, $a3:expr, $a4:expr) => {
        $crate::sys::raw::syscall4($crate::sys::raw::nr::$nr, $a1 as usize, $a2 as usize, $a3 as usize, $a4 as usize)
    };
    ($nr:ident, $a1:expr, $a2:expr, $a3:expr, $a4:expr, $a5:expr) => {
        $crate::sys::raw::syscall5(
            $crate::sys::raw::nr::$nr, $a1 as usize, $a2 as usize, $a3 as usize, $a4 as usize, $a5 as usize,
        )
    };
    ($nr:ident, $a1:expr, $a2:expr, $a3:expr, $a4:expr, $a5:expr, $a6:expr) => {
        $crate::sys::raw::syscall6(
            $crate::sys::raw::nr::$nr, $a1 as usize, $a2 as usize, $a3 as usize, $a4 as usize, $a5 as usize,
            $a6 as usize,
        )
    };
}
pub(super) use syscall;

/// The call numbers, by the names `syscall!` takes.
pub mod nr {
    use super::k;
    macro_rules! numbers {
        // A number only one architecture's code calls (region's, x86_64's) is unused elsewhere.
        ($($name:ident = $nr:ident),* $(,)?) => { $(#[allow(dead_code)] pub const $name: usize = k::$nr as usize;)* };
    }
    numbers! {
        CLONE = __NR_clone, CLOSE = __NR_close, DUP3 = __NR_dup3, EXECVE = __NR_execve,
        EXIT_GROUP = __NR_exit_group, GETCWD = __NR_getcwd, GETPGID = __NR_getpgid, KILL = __NR_kill,
        MADVISE = __NR_madvise, PRLIMIT64 = __NR_prlimit64, READLINKAT = __NR_readlinkat,
        RT_SIGACTION = __NR_rt_sigaction, RT_SIGPROCMASK = __NR_rt_sigprocmask, SETPGID = __NR_setpgid,
        SIGNALFD4 = __NR_signalfd4, WAIT4 = __NR_wait4, IOCTL = __NR_ioctl, SOCKET = __NR_socket,
        SETSOCKOPT = __NR_setsockopt, BIND = __NR_bind, RECVMSG = __NR_recvmsg, GETSID = __NR_getsid,
        MUNMAP = __NR_munmap, PRCTL = __NR_prctl, BRK = __NR_brk, MPROTECT = __NR_mprotect,
        LISTEN = __NR_listen, ACCEPT4 = __NR_accept4, CONNECT = __NR_connect, SENDTO = __NR_sendto,
        RECVFROM = __NR_recvfrom,
    }
    // 64-bit offsets and times on 32-bit targets: same arguments, wider
    // structures (flock64, __kernel_timespec); mmap2's offset is in pages,
    // and `map_file` maps from offset 0 only.
    #[cfg(target_pointer_width = "64")]
    numbers! { FCNTL = __NR_fcntl, MMAP = __NR_mmap, CLOCK_GETTIME = __NR_clock_gettime, PPOLL = __NR_ppoll }
    #[cfg(target_pointer_width = "32")]
    numbers! {
        FCNTL = __NR_fcntl64, MMAP = __NR_mmap2, CLOCK_GETTIME = __NR_clock_gettime64, PPOLL = __NR_ppoll_time64,
    }
}

/// MIPS's own `struct statfs64`, for `fstatfs` (`sys::fstatfs_type`).
#[cfg(target_arch = "mips")]
pub type StatFs = k::statfs64;

/// fstatfs64(2) into `buf`; the raw result.
///
/// # Safety
/// `buf` must be valid for writing a `StatFs`.
#[cfg(target_arch = "mips")]
pub unsafe fn fstatfs(fd: i32, buf: *mut StatFs) -> usize {
    // SAFETY: the caller gives a valid buffer of the size the kernel is told.
    unsafe { syscall3(k::__NR_fstatfs64 as usize, fd as usize, core::mem::size_of::<StatFs>(), buf as usize) }
}

/// fcntl's record-lock commands for `sys::Flock` (struct flock64).
#[cfg(target_pointer_width = "64")]
pub const F_GETLK: usize = k::F_GETLK as usize;
#[cfg(target_pointer_width = "64")]
pub const F_SETLK: usize = k::F_SETLK as usize;
#[cfg(target_pointer_width = "32")]
pub const F_GETLK: usize = k::F_GETLK64 as usize;
#[cfg(target_pointer_width = "32")]
pub const F_SETLK: usize = k::F_SETLK64 as usize;

/// Words of a kernel `struct sigaction` (handler, flags, restorer, mask).
#[cfg(not(target_arch = "mips"))]
pub const SIGACTION_WORDS: usize = 3 + SIGSET_WORDS;
/// The word of it that holds the handler.
#[cfg(not(target_arch = "mips"))]
pub const SIGACTION_HANDLER: usize = core::mem::offset_of!(k::kernel_sigaction, sa_handler_kernel) / W;
// MIPS keeps IRIX's order: the flags (an int) first, then the handler and the mask.
#[cfg(target_arch = "mips")]
pub const SIGACTION_WORDS: usize = core::mem::size_of::<k::sigaction>() / W;
#[cfg(target_arch = "mips")]
pub const SIGACTION_HANDLER: usize = core::mem::offset_of!(k::sigaction, sa_handler) / W;

const W: usize = core::mem::size_of::<usize>();

/// Words of the kernel's signal set: 64 signals, 128 on MIPS.
pub const SIGSET_WORDS: usize = core::mem::size_of::<k::kernel_sigset_t>() / W;
/// Its size, which the calls that take one are told.
pub const SIGSET_BYTES: usize = SIGSET_WORDS * W;

/// The 64-bit mask of `SigSet` as the kernel's signal set: words of the
/// lowest signals first, which on a big-endian 32-bit target (mips) is not
/// the u64's own layout.
#[inline(always)]
pub fn sigset(mask: u64) -> [usize; SIGSET_WORDS] {
    let mut set = [0usize; SIGSET_WORDS];
    set[0] = mask as usize;
    if let (4, Some(high)) = (W, set.get_mut(1)) {
        *high = (mask >> 32) as usize;
    }
    set
}

// The structures `sys` builds by hand, against the kernel's headers for
// this target: a wrong layout fails the build, on every architecture.
const _: () = {
    use core::mem::{offset_of, size_of};
    use crate::sys::calls::Flock;
    assert!(size_of::<Flock>() == size_of::<k::flock64>());
    assert!(offset_of!(Flock, l_type) == offset_of!(k::flock64, l_type));
    assert!(offset_of!(Flock, l_whence) == offset_of!(k::flock64, l_whence));
    assert!(offset_of!(Flock, l_start) == offset_of!(k::flock64, l_start));
    assert!(offset_of!(Flock, l_len) == offset_of!(k::flock64, l_len));
    assert!(offset_of!(Flock, l_pid) == offset_of!(k::flock64, l_pid));
    // timespecs are [i64; 2], rlimits [u64; 2], signal masks `sigset`'s words.
    assert!(size_of::<[i64; 2]>() == size_of::<k::__kernel_timespec>());
    assert!(size_of::<[u64; 2]>() == size_of::<k::rlimit64>());
    #[cfg(not(target_arch = "mips"))]
    assert!(size_of::<[usize; SIGACTION_WORDS]>() >= size_of::<k::kernel_sigaction>());
    #[cfg(target_arch = "mips")]
    assert!(size_of::<k::sigset_t>() == SIGSET_BYTES && offset_of!(k::sigaction, sa_flags) == 0);
    assert!(SIGSET_BYTES == size_of::<k::kernel_sigset_t>() && SIGSET_BYTES >= 8);
    assert!(size_of::<k::pollfd>() == 8);
};

// ---------------------------------------------------------------- x86_64

#[cfg(target_arch = "x86_64")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    #[inline(always)]
    pub unsafe fn syscall0(mut n: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe { asm!("syscall", inout("rax") n, out("rcx") _, out("r11") _, options(nostack)) };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall1(mut n: usize, a1: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe { asm!("syscall", inout("rax") n, in("rdi") a1, out("rcx") _, out("r11") _, options(nostack)) };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall2(mut n: usize, a1: usize, a2: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("syscall", inout("rax") n, in("rdi") a1, in("rsi") a2, out("rcx") _, out("r11") _, options(nostack))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall3(mut n: usize, a1: usize, a2: usize, a3: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("syscall", inout("rax") n, in("rdi") a1, in("rsi") a2, in("rdx") a3,
                out("rcx") _, out("r11") _, options(nostack))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall4(mut n: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("syscall", inout("rax") n, in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4,
                out("rcx") _, out("r11") _, options(nostack))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall5(mut n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("syscall", inout("rax") n, in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5,
                out("rcx") _, out("r11") _, options(nostack))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall6(mut n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("syscall", inout("rax") n, in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5,
                in("r9") a6, out("rcx") _, out("r11") _, options(nostack))
        };
        n
    }
    /// Switches to the stack `sp` (16-byte aligned) and calls `sys::resume(arg)`, never to return.
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe { asm!("mov rsp, {sp}", "call {f}", "ud2", sp = in(reg) sp, f = sym crate::sys::start::resume, in("rdi") arg, options(noreturn)) }
    }
}

// ---------------------------------------------------------------- aarch64, riscv64, arm

/// The system call functions of an architecture that takes the call number
/// in one register and six arguments in registers, the result in the first.
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64", target_arch = "arm"))]
macro_rules! register_syscalls {
    ($insn:literal, $nr:tt, $r0:tt, $r1:tt, $r2:tt, $r3:tt, $r4:tt, $r5:tt) => {
        #[inline(always)]
        pub unsafe fn syscall0(n: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe { asm!($insn, in($nr) n, lateout($r0) r, options(nostack)) };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall1(n: usize, a1: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe { asm!($insn, in($nr) n, inlateout($r0) a1 => r, options(nostack)) };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall2(n: usize, a1: usize, a2: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe { asm!($insn, in($nr) n, inlateout($r0) a1 => r, in($r1) a2, options(nostack)) };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall3(n: usize, a1: usize, a2: usize, a3: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe { asm!($insn, in($nr) n, inlateout($r0) a1 => r, in($r1) a2, in($r2) a3, options(nostack)) };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall4(n: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe {
                asm!($insn, in($nr) n, inlateout($r0) a1 => r, in($r1) a2, in($r2) a3, in($r3) a4, options(nostack))
            };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall5(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe {
                asm!($insn, in($nr) n, inlateout($r0) a1 => r, in($r1) a2, in($r2) a3, in($r3) a4, in($r4) a5,
                    options(nostack))
            };
            r
        }
        #[inline(always)]
        pub unsafe fn syscall6(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> usize {
            let r;
            // SAFETY: the caller vouches for the arguments of call `n`.
            unsafe {
                asm!($insn, in($nr) n, inlateout($r0) a1 => r, in($r1) a2, in($r2) a3, in($r3) a4, in($r4) a5,
                    in($r5) a6, options(nostack))
            };
            r
        }
    };
}

#[cfg(target_arch = "aarch64")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    register_syscalls!("svc 0", "x8", "x0", "x1", "x2", "x3", "x4", "x5");
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe { asm!("mov sp, {sp}", "bl {f}", "udf #0", sp = in(reg) sp, f = sym crate::sys::start::resume, in("x0") arg, options(noreturn)) }
    }
}

#[cfg(target_arch = "riscv64")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    register_syscalls!("ecall", "a7", "a0", "a1", "a2", "a3", "a4", "a5");
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe { asm!("mv sp, {sp}", "call {f}", "unimp", sp = in(reg) sp, f = sym crate::sys::start::resume, in("a0") arg, options(noreturn)) }
    }
}

/// EABI in ARM mode (armv7-unknown-linux-gnueabihf), where r7 is free (the
/// frame pointer is r11).
#[cfg(target_arch = "arm")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    register_syscalls!("svc 0", "r7", "r0", "r1", "r2", "r3", "r4", "r5");
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe { asm!("mov sp, {sp}", "bl {f}", "udf #0", sp = in(reg) sp, f = sym crate::sys::start::resume, in("r0") arg, options(noreturn)) }
    }
}

// ---------------------------------------------------------------- x86 (i686)

// `int 0x80`, not the vDSO's faster entry: no auxv lookup, and these calls
// are not on a hot path. esi and ebp cannot be asm operands (LLVM keeps
// them), so the fourth argument is swapped into esi and the sixth is read
// from memory into ebp around the call.
#[cfg(target_arch = "x86")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    #[inline(always)]
    pub unsafe fn syscall0(mut n: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe { asm!("int 0x80", inout("eax") n, options(nostack, preserves_flags)) };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall1(mut n: usize, a1: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe { asm!("int 0x80", inout("eax") n, in("ebx") a1, options(nostack, preserves_flags)) };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall2(mut n: usize, a1: usize, a2: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe { asm!("int 0x80", inout("eax") n, in("ebx") a1, in("ecx") a2, options(nostack, preserves_flags)) };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall3(mut n: usize, a1: usize, a2: usize, a3: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("int 0x80", inout("eax") n, in("ebx") a1, in("ecx") a2, in("edx") a3, options(nostack, preserves_flags))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall4(mut n: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("xchg esi, {a4}", "int 0x80", "xchg esi, {a4}", a4 = in(reg) a4,
                inout("eax") n, in("ebx") a1, in("ecx") a2, in("edx") a3, options(nostack, preserves_flags))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall5(mut n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("xchg esi, {a4}", "int 0x80", "xchg esi, {a4}", a4 = in(reg) a4,
                inout("eax") n, in("ebx") a1, in("ecx") a2, in("edx") a3, in("edi") a5, options(nostack, preserves_flags))
        };
        n
    }
    #[inline(always)]
    pub unsafe fn syscall6(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> usize {
        let r;
        let rest = [a4, a6, n];
        // SAFETY: the caller vouches for the arguments of call `n`.
        unsafe {
            asm!("push ebp", "push esi", "mov esi, [eax]", "mov ebp, [eax + 4]", "mov eax, [eax + 8]",
                "int 0x80", "pop esi", "pop ebp",
                inout("eax") rest.as_ptr() => r, in("ebx") a1, in("ecx") a2, in("edx") a3, in("edi") a5,
                options(preserves_flags))
        };
        r
    }
    /// cdecl: the argument goes on the new stack, which stays 16-byte
    /// aligned at the call.
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe {
            asm!("mov esp, {sp}", "sub esp, 12", "push {arg}", "call {f}", "ud2",
                sp = in(reg) sp, f = sym crate::sys::start::resume, arg = in(reg) arg, options(noreturn))
        }
    }
}

// ---------------------------------------------------------------- mips (o32)

/// o32, big- and little-endian: the number in $v0, the arguments in
/// $a0-$a3 and from the fifth on the stack (at 16($sp) and up: the callee's
/// home for $a0-$a3 comes first), the result in $v0 and a failure flagged
/// in $a3 (then $v0 holds the positive errno): turned here into the
/// negated errno `errno::ret` takes. The kernel may change $v1 and the
/// temporaries $t0-$t9 (glibc's list; $at is the assembler's, which
/// LLVM does not allocate).
#[cfg(target_arch = "mips")]
#[allow(dead_code)]
mod arch {
    use super::asm;
    /// `pre`, `syscall`, `post`, with the operands `ops`: the arguments
    /// (the stack ones named, in any register, $at included: hence
    /// `.set noat`) and $a3, the failure flag, out into `err`.
    macro_rules! mips_syscall {
        ($n:expr, $err:ident, [$($pre:literal),*], [$($post:literal),*], ($($opt:ident),*), $($ops:tt)*) => {{
            let (r, $err): (usize, usize);
            // SAFETY: the caller vouches for the arguments of call `n`; a
            // stack frame made for the fifth and sixth is given back.
            unsafe {
                asm!(
                    $($pre,)* "syscall", $($post,)*
                    $($ops)*
                    inlateout("$2") $n => r, lateout("$3") _,
                    lateout("$8") _, lateout("$9") _, lateout("$10") _, lateout("$11") _, lateout("$12") _,
                    lateout("$13") _, lateout("$14") _, lateout("$15") _, lateout("$24") _, lateout("$25") _,
                    options($($opt,)* preserves_flags)
                )
            };
            if $err != 0 { r.wrapping_neg() } else { r }
        }};
    }
    #[inline(always)]
    pub unsafe fn syscall0(n: usize) -> usize {
        mips_syscall!(n, err, [], [], (nostack), lateout("$7") err,)
    }
    #[inline(always)]
    pub unsafe fn syscall1(n: usize, a1: usize) -> usize {
        mips_syscall!(n, err, [], [], (nostack), lateout("$7") err, in("$4") a1,)
    }
    #[inline(always)]
    pub unsafe fn syscall2(n: usize, a1: usize, a2: usize) -> usize {
        mips_syscall!(n, err, [], [], (nostack), lateout("$7") err, in("$4") a1, in("$5") a2,)
    }
    #[inline(always)]
    pub unsafe fn syscall3(n: usize, a1: usize, a2: usize, a3: usize) -> usize {
        mips_syscall!(n, err, [], [], (nostack), lateout("$7") err, in("$4") a1, in("$5") a2, in("$6") a3,)
    }
    #[inline(always)]
    pub unsafe fn syscall4(n: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
        mips_syscall!(n, err, [], [], (nostack), inlateout("$7") a4 => err, in("$4") a1, in("$5") a2, in("$6") a3,)
    }
    #[inline(always)]
    pub unsafe fn syscall5(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
        mips_syscall!(n, err, [".set noat", "addiu $sp, $sp, -32", "sw {a5}, 16($sp)"], ["addiu $sp, $sp, 32", ".set at"], (),
            a5 = in(reg) a5, in("$4") a1, in("$5") a2, in("$6") a3, inlateout("$7") a4 => err,)
    }
    #[inline(always)]
    pub unsafe fn syscall6(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> usize {
        mips_syscall!(n, err, [".set noat", "addiu $sp, $sp, -32", "sw {a5}, 16($sp)", "sw {a6}, 20($sp)"],
            ["addiu $sp, $sp, 32", ".set at"], (),
            a5 = in(reg) a5, a6 = in(reg) a6, in("$4") a1, in("$5") a2, in("$6") a3, inlateout("$7") a4 => err,)
    }
    /// The callee finds its 16-byte home for $a0-$a3 above its stack
    /// pointer, below `sp`; position-independent code wants its own
    /// address in $t9 ($25).
    #[inline(always)]
    pub unsafe fn call_on_stack(sp: usize, arg: *const u8) -> ! {
        // SAFETY: `sp` is the top of memory the caller gives to the new stack.
        unsafe {
            asm!("move $sp, {sp}", "addiu $sp, $sp, -16", "jalr $25", "nop", "teq $0, $0",
                sp = in(reg) sp, in("$25") crate::sys::start::resume as extern "C" fn(*const u8) -> ! as usize, in("$4") arg, options(noreturn))
        }
    }
}

pub use arch::*;
