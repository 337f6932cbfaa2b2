//! What the kernel hands a new program: its arguments and environment,
//! read in place, and the stack they sit on (`run_in_strings_page`).
// Part of the unsafe floor of the syscall layer: the argument and
// environment arrays are raw pointers into the initial stack, and the stack
// move switches stacks.
#![allow(unsafe_code)]

use super::raw::{self, syscall};
use core::ffi::CStr;
use core::sync::atomic::{AtomicPtr, Ordering};
use linux_raw_sys::general as k;

/// The process's arguments and environment, as the kernel laid them out.
#[derive(Clone, Copy)]
pub struct Args {
    pub(super) argc: usize,
    pub(super) argv: *const *const u8,
}

pub(super) static ENVIRON: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

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
    pub(super) ptr: *const *const u8,
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

pub(super) extern "C" fn resume(ctx: *const u8) -> ! {
    // SAFETY: `ctx` is the Resume written just above this frame.
    let r = unsafe { (ctx as *const Resume).read() };
    // Only EINVAL/ENOMEM, for a range the move computed: the pages then stay, unused.
    // SAFETY: MADV_DONTNEED on pages of our own stack mapping that no
    // frame uses any more; a later touch would get a zero page.
    let _ = unsafe { syscall!(MADVISE, r.release, r.len, k::MADV_DONTNEED) };
    (r.main)(r.args)
}
