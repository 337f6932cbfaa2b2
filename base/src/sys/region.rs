//! One region of address space for a long-lived process. The kernel gives
//! every process, beside its binary, an initial stack near the top of the
//! address space and the vDSO with its data pages: regions so far from the
//! binary that each costs the process page-table pages of its own (on
//! x86_64 12 KiB: one page at each of three levels), more than the
//! supervisor's own memory. `run_in_one_region` moves the arguments, the
//! environment and the stack into a buffer in the binary's zeroed data,
//! then unmaps the kernel's stack and, the programs never calling into it,
//! the vDSO: one set of page tables serves the whole process.
//!
//! x86_64 only for now (the vDSO is needed on i686, where rustix makes its
//! system calls through it; the other architectures keep the stack move of
//! `run_in_strings_page`), see docs/architectures.md.

// Part of the unsafe floor of the syscall layer, start-up code as `start`
// is: the stack and the strings move under the program's feet.
#![allow(unsafe_code)]
// Elsewhere than x86_64 the move is the fallback's: the plan is never made.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables))]

use super::raw::syscall;
use super::start::ENVIRON;
use super::Args;
use linux_raw_sys::auxvec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Memory in the binary's zeroed data for `run_in_one_region`: the copied
/// strings at its top, the argument and environment arrays below them, then
/// the stack, down to a guard page (its first whole page, made
/// inaccessible: a stack that outgrows the region faults, never writes over
/// other data). Only the pages touched are ever resident: the linker script
/// ends the region 512 bytes short of a page boundary and puts the
/// program's other zeroed data right after it, so the strings, the usual
/// frames and the statics every run writes take one page.
#[repr(C, align(16))]
pub struct Region<const N: usize> {
    mem: UnsafeCell<[u8; N]>,
}

/// `region!(NAME, BYTES)` declares the static `Region` of a program that
/// runs in one region (BYTES: a multiple of 4 KiB), in the zeroed-data
/// section the linker script puts first (`.bss.~region`), under the name
/// `rinit_region` that tells the script it is there: the program's other
/// zeroed data then shares the stack's top page instead of taking a page
/// of its own.
#[macro_export]
macro_rules! region {
    ($name:ident, $bytes:expr) => {
        // SAFETY: a `.bss.` section holds zeroed data, which is what
        // `Region::new()` is; the section's name places it first, and the
        // symbol's name, one per program, tells the linker script it is
        // there.
        #[unsafe(link_section = ".bss.~region")]
        #[unsafe(export_name = "rinit_region")]
        static $name: $crate::sys::Region<{ $bytes }> = $crate::sys::Region::new();
    };
}

/// A process has one stack: the first `run_in_one_region` takes its region.
static TAKEN: AtomicBool = AtomicBool::new(false);

// SAFETY: the buffer is handed out once (`TAKEN`), to the one thread.
unsafe impl<const N: usize> Sync for Region<N> {}

impl<const N: usize> Region<N> {
    pub const fn new() -> Self {
        Region { mem: UnsafeCell::new([0; N]) }
    }
}

impl<const N: usize> Default for Region<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `main` in `region`, as the module says; when the strings do not
/// fit (with `frames` bytes of stack below them) or the kernel's layout is
/// not the one expected, falls back to `run_in_strings_page`. Whatever
/// the start-up code kept of the strings (the program's name in `err`)
/// is moved with them.
pub fn run_in_one_region<const N: usize>(args: Args, region: &'static Region<N>, frames: usize, main: fn(Args) -> !) -> ! {
    #[cfg(target_arch = "x86_64")]
    if !TAKEN.swap(true, Ordering::Relaxed) {
        if let Some(plan) = plan(args, region.mem.get() as usize, N, frames) {
            // SAFETY: `plan` checked that the strings, arrays and Resume fit
            // in the region, which nothing else uses (`TAKEN`).
            unsafe { move_and_switch(args, plan, main) }
        }
    }
    super::run_in_strings_page(args, frames, main)
}

/// What the move copies and where, and what it then unmaps.
struct Plan {
    /// The kernel's strings [lo, hi): every argument and variable.
    lo: usize,
    hi: usize,
    /// Where the strings go, where the arrays go (argc + 1 + envc + 1
    /// pointers), where the Resume goes (the new stack's top).
    to: usize,
    arrays: usize,
    nptr: usize,
    ctx: usize,
    /// The region's first whole page, the stack's guard.
    guard: (usize, usize),
    exec: Exec,
}

/// What exec laid out that the move leaves behind or tells the kernel again.
#[derive(Clone, Copy)]
struct Exec {
    /// The kernel's stack mapping lies within [stack_lo, stack_hi).
    stack_lo: usize,
    stack_hi: usize,
    /// The vDSO with the data pages below it; len 0: none.
    vdso: usize,
    vdso_len: usize,
    /// The binary's text and initialised data.
    code: (usize, usize),
    data: (usize, usize),
}

/// Stack the region keeps beyond the program's `frames`: a child of
/// `spawn_shared` runs below its parent's frames until it execs,
/// and a margin, since below the region's stack is a guard page, not a
/// stack the kernel grows.
const ROOM: usize = super::SHARED_CHILD_STACK + (16 << 10);

/// auxv entry types (linux/auxvec.h).
const AT_NULL: usize = auxvec::AT_NULL as usize;
const AT_PHDR: usize = auxvec::AT_PHDR as usize;
const AT_PHNUM: usize = auxvec::AT_PHNUM as usize;
const AT_PAGESZ: usize = auxvec::AT_PAGESZ as usize;
const AT_EXECFN: usize = auxvec::AT_EXECFN as usize;
const AT_SYSINFO_EHDR: usize = auxvec::AT_SYSINFO_EHDR as usize;

/// Room below the vDSO for its data pages (`[vvar]`, `[vvar_vclock]`: 24 KiB
/// on Linux 6.13 x86_64). Nothing else is mapped there when a static binary
/// starts: the binary is at its fixed address, and the vDSO is the first
/// mapping the kernel places.
const VVAR_ROOM: usize = 64 << 10;

/// Below the stack pointer, how far the kernel's stack mapping may reach:
/// exec makes it 128 KiB larger than what the arrays use. The guard gap
/// below a stack (1 MiB) keeps every other mapping out of this range.
const STACK_BELOW: usize = 256 << 10;

fn strlen(p: usize) -> usize {
    let mut n = 0;
    // SAFETY: `p` is one of the kernel's NUL-terminated strings.
    while unsafe { *((p + n) as *const u8) } != 0 {
        n += 1;
    }
    n
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn plan(args: Args, base: usize, size: usize, frames: usize) -> Option<Plan> {
    let envp = ENVIRON.load(Ordering::Relaxed) as *const usize;
    if envp.is_null() {
        return None;
    }
    let (mut lo, mut hi, mut envc) = (usize::MAX, 0, 0);
    let mut see = |p: usize| {
        lo = lo.min(p);
        hi = hi.max(p + strlen(p) + 1);
    };
    // SAFETY: argv[..argc] and envp up to its NULL are the kernel's arrays
    // of string pointers (Args::from_stack); auxv follows envp's NULL, as
    // (type, value) pairs up to AT_NULL.
    let aux = unsafe {
        for i in 0..args.argc {
            see(*(args.argv as *const usize).add(i));
        }
        while *envp.add(envc) != 0 {
            see(*envp.add(envc));
            envc += 1;
        }
        envp.add(envc + 1)
    };
    let (mut page, mut execfn, mut vdso, mut phdr, mut phnum) = (0, 0, 0, 0, 0);
    let mut i = 0;
    loop {
        // SAFETY: as above, up to and including the AT_NULL pair.
        let (t, v) = unsafe { (*aux.add(i), *aux.add(i + 1)) };
        match t {
            AT_NULL => break,
            AT_PAGESZ => page = v,
            AT_EXECFN => execfn = v,
            AT_SYSINFO_EHDR => vdso = v,
            AT_PHDR => phdr = v,
            AT_PHNUM => phnum = v,
            _ => {}
        }
        i += 2;
    }
    // The file name is the last string the kernel copies, 8 bytes below the
    // top of the stack mapping.
    if lo == usize::MAX || execfn < hi || !page.is_power_of_two() {
        return None;
    }
    let stack_hi = (execfn + strlen(execfn) + 1 + 8 + page - 1) & !(page - 1);
    let here = &lo as *const usize as usize;
    let stack_lo = (here & !(page - 1)).checked_sub(STACK_BELOW)?;
    let nptr = args.argc + 1 + envc + 1;
    let need = (hi - lo) + nptr * core::mem::size_of::<usize>() + core::mem::size_of::<Resume>() + 32 + frames + ROOM;
    // The stack's top is the region's end, which the linker script puts
    // 512 bytes short of a page boundary, before the program's other
    // zeroed data: the strings, the frames of a usual depth and the
    // statics every run writes then share one page.
    let top = base + size;
    let guard = (base + page - 1) & !(page - 1);
    if top < guard + page + need {
        return None;
    }
    let to = top - (hi - lo);
    let arrays = (to - nptr * core::mem::size_of::<usize>()) & !15;
    let ctx = (arrays - core::mem::size_of::<Resume>()) & !15;
    let vdso_len = if vdso == 0 { 0 } else { vdso_size(vdso, page)? };
    let vdso_lo = vdso.saturating_sub(VVAR_ROOM);
    let (code, data) = segments(phdr, phnum)?;
    let exec = Exec { stack_lo, stack_hi, vdso: vdso_lo, vdso_len: vdso_len + (vdso - vdso_lo), code, data };
    Some(Plan { lo, hi, to, arrays, nptr, ctx, guard: (guard, page), exec })
}

/// The vDSO's size from its ELF program headers: the end of its highest
/// loaded segment (it is linked at address 0).
fn vdso_size(at: usize, page: usize) -> Option<usize> {
    // SAFETY: AT_SYSINFO_EHDR is the address of the vDSO's ELF header, in
    // memory the kernel mapped readable; the program headers it points to
    // lie within the vDSO.
    unsafe {
        if *(at as *const [u8; 4]) != *b"\x7fELF" || *((at + 4) as *const u8) != 2 {
            return None;
        }
        let phoff = *((at + 32) as *const u64) as usize;
        let phentsize = *((at + 54) as *const u16) as usize;
        let phnum = *((at + 56) as *const u16) as usize;
        let mut end = 0;
        for i in 0..phnum {
            let ph = at + phoff + i * phentsize;
            if *(ph as *const u32) == 1 {
                end = end.max(*((ph + 16) as *const u64) as usize + *((ph + 40) as *const u64) as usize);
            }
        }
        if end == 0 || end > 1 << 20 {
            return None;
        }
        Some((end + page - 1) & !(page - 1))
    }
}

/// The binary's executable and writable loaded segments (their file
/// part), from its program headers (AT_PHDR), for `tell_ps`.
fn segments(phdr: usize, phnum: usize) -> Option<((usize, usize), (usize, usize))> {
    let (mut code, mut data) = ((0, 0), (0, 0));
    for i in 0..phnum {
        let ph = phdr + i * 56;
        // SAFETY: AT_PHDR and AT_PHNUM describe the binary's Elf64_Phdr
        // array, mapped with its text.
        let (t, flags, vaddr, filesz) =
            unsafe { (*(ph as *const u32), *((ph + 4) as *const u32), *((ph + 16) as *const u64), *((ph + 32) as *const u64)) };
        let seg = (vaddr as usize, (vaddr + filesz) as usize);
        match (t, flags & 3) {
            (1, 1) | (1, 3) if code.0 == 0 => code = seg,
            (1, 2) if data.0 == 0 => data = seg,
            _ => {}
        }
    }
    (code.0 < code.1 && data.0 <= data.1 && data.0 != 0).then_some((code, data))
}

/// What the move hands over to the new stack.
struct Resume {
    args: Args,
    main: fn(Args) -> !,
    exec: Exec,
    /// The copies' [arg_start, arg_end) and [env_start, env_end), for `ps`.
    arg: (usize, usize),
    env: (usize, usize),
}

/// Copies the strings and arrays into the region and goes on on its stack.
///
/// # Safety
/// `p` comes from `plan` for this process's arguments, just now.
#[cfg(target_arch = "x86_64")]
unsafe fn move_and_switch(args: Args, p: Plan, main: fn(Args) -> !) -> ! {
    // PROT_NONE (0) on the region's first page, ours alone; without it
    // (ENOMEM only) the region is not used.
    // SAFETY: mprotect of a page of our own zeroed data that nothing uses.
    if super::errno::ret(unsafe { syscall!(MPROTECT, p.guard.0, p.guard.1, 0) }).is_err() {
        super::run_in_strings_page(args, 0, main)
    }
    let delta = p.to.wrapping_sub(p.lo);
    let moved = |q: usize| if q == 0 { 0 } else { q.wrapping_add(delta) };
    // SAFETY: [to, to + hi - lo) and [arrays, arrays + nptr words) lie in the
    // region (plan), apart from each other and from the kernel's stack; the
    // kernel's array (argv, NULL, envp, NULL) is nptr words long.
    unsafe {
        core::ptr::copy_nonoverlapping(p.lo as *const u8, p.to as *mut u8, p.hi - p.lo);
        let old = args.argv as *const usize;
        let new = p.arrays as *mut usize;
        for i in 0..p.nptr {
            *new.add(i) = moved(*old.add(i));
        }
        let envp = new.add(args.argc + 1);
        ENVIRON.store(envp as *mut *const u8, Ordering::Relaxed);
        crate::err::strings_moved(p.lo, p.hi, delta);
        let argv = Args { argc: args.argc, argv: new as *const *const u8 };
        let span = |from: *const usize, n: usize| match n {
            0 => (0, 0),
            _ => (*from, *from.add(n - 1) + strlen(*from.add(n - 1)) + 1),
        };
        let envc = p.nptr - args.argc - 2;
        let r = Resume {
            args: argv,
            main,
            exec: p.exec,
            arg: span(new, args.argc),
            env: span(envp, envc),
        };
        (p.ctx as *mut Resume).write(r);
        core::arch::asm!("mov rsp, {sp}", "call {f}", "ud2", sp = in(reg) p.ctx, f = sym resume,
            in("rdi") p.ctx, options(noreturn))
    }
}

extern "C" fn resume(ctx: *const u8) -> ! {
    // SAFETY: `ctx` is the Resume written just above this frame.
    let r = unsafe { (ctx as *const Resume).read() };
    // SAFETY: munmap of the kernel's stack mapping, which no frame, string or
    // array is used from any more (all copied into the region, and nothing
    // below keeps a pointer into it), and of the vDSO, which nothing calls
    // (`sys` makes its system calls itself; no signal handler returns
    // through it on x86_64).
    unsafe {
        let e = r.exec;
        // Failing (EINVAL only, for a range the plan computed), the stack stays, unused.
        let _ = syscall!(MUNMAP, e.stack_lo, e.stack_hi - e.stack_lo);
        if e.vdso_len != 0 {
            // As above: the vDSO only stays mapped, unused, on failure.
            let _ = syscall!(MUNMAP, e.vdso, e.vdso_len);
        }
    }
    tell_ps(&r);
    (r.main)(r.args)
}

/// Points /proc/PID/cmdline and environ (what `ps` shows) at the copies:
/// the kernel reads them from the process's memory at the addresses exec
/// chose. PR_SET_MM_MAP needs no privilege, but a kernel built with
/// CONFIG_CHECKPOINT_RESTORE (Debian's, Fedora's, Alpine's); without it
/// `ps` shows the program's bracketed name.
fn tell_ps(r: &Resume) {
    use linux_raw_sys::prctl::{PR_SET_MM, PR_SET_MM_MAP};
    // struct prctl_mm_map: code, data and brk as exec set them (the kernel
    // sets every field at once), the new stack, arguments and environment.
    #[repr(C)]
    struct MmMap {
        fields: [u64; 11],
        auxv: u64,
        auxv_size: u32,
        exe_fd: u32,
    }
    // SAFETY: brk(0) only reads the current break.
    let brk = unsafe { syscall!(BRK, 0) } as u64;
    let (code, data) = (r.exec.code, r.exec.data);
    let env = if r.env.0 == 0 { (r.arg.1, r.arg.1) } else { r.env };
    let m = MmMap {
        fields: [
            code.0 as u64, code.1 as u64, data.0 as u64, data.1 as u64, brk, brk, r.args.argv as u64,
            r.arg.0 as u64, r.arg.1 as u64, env.0 as u64, env.1 as u64,
        ],
        auxv: 0,
        auxv_size: 0,
        exe_fd: u32::MAX,
    };
    // Failing (no CONFIG_CHECKPOINT_RESTORE), `ps` shows the bracketed name.
    // SAFETY: `m` is a valid struct prctl_mm_map for the call's duration.
    let _ = unsafe { syscall!(PRCTL, PR_SET_MM, PR_SET_MM_MAP, &m as *const MmMap as usize, core::mem::size_of::<MmMap>(), 0) };
}
