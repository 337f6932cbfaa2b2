//! Signals: their names, masks, and the descriptor that reads them
//! (rinit installs no handler: a signal is blocked and read, or left to
//! its default, or ignored).

use super::{Fd, Result, errno, read, sigprocmask};
use linux_raw_sys::general as k;

pub mod sig {
    //! Signal numbers, and their names as s6 spells them.
    use linux_raw_sys::general as k;

    pub const HUP: i32 = k::SIGHUP as i32;
    pub const INT: i32 = k::SIGINT as i32;
    pub const QUIT: i32 = k::SIGQUIT as i32;
    pub const ABRT: i32 = k::SIGABRT as i32;
    pub const KILL: i32 = k::SIGKILL as i32;
    pub const USR1: i32 = k::SIGUSR1 as i32;
    pub const USR2: i32 = k::SIGUSR2 as i32;
    pub const PIPE: i32 = k::SIGPIPE as i32;
    pub const ALRM: i32 = k::SIGALRM as i32;
    pub const TERM: i32 = k::SIGTERM as i32;
    pub const CHLD: i32 = k::SIGCHLD as i32;
    pub const CONT: i32 = k::SIGCONT as i32;
    pub const STOP: i32 = k::SIGSTOP as i32;
    pub const TSTP: i32 = k::SIGTSTP as i32;
    pub const WINCH: i32 = k::SIGWINCH as i32;
    pub const PWR: i32 = k::SIGPWR as i32;

    /// Signal names as s6 spells them in files (`down-signal`) and scripts (`SIGTERM`).
    pub const NAMES: &[(&[u8], i32)] = &[
        (b"HUP", HUP), (b"INT", INT), (b"QUIT", QUIT), (b"ILL", k::SIGILL as i32), (b"TRAP", k::SIGTRAP as i32), (b"ABRT", ABRT),
        (b"BUS", k::SIGBUS as i32), (b"FPE", k::SIGFPE as i32), (b"KILL", KILL), (b"USR1", USR1), (b"SEGV", k::SIGSEGV as i32), (b"USR2", USR2),
        (b"PIPE", PIPE), (b"ALRM", ALRM), (b"TERM", TERM), ARCH_ONLY, (b"CHLD", CHLD),
        (b"CONT", CONT), (b"STOP", STOP), (b"TSTP", TSTP), (b"TTIN", k::SIGTTIN as i32), (b"TTOU", k::SIGTTOU as i32),
        (b"URG", k::SIGURG as i32), (b"XCPU", k::SIGXCPU as i32), (b"XFSZ", k::SIGXFSZ as i32), (b"VTALRM", k::SIGVTALRM as i32), (b"PROF", k::SIGPROF as i32),
        (b"WINCH", WINCH), (b"IO", k::SIGIO as i32), (b"PWR", PWR), (b"SYS", k::SIGSYS as i32),
    ];
    /// The one name of 1 to 31 that is not everywhere: MIPS has EMT where
    /// the others have STKFLT (and its numbers are not the others' order).
    #[cfg(not(target_arch = "mips"))]
    const ARCH_ONLY: (&[u8], i32) = (b"STKFLT", k::SIGSTKFLT as i32);
    #[cfg(target_arch = "mips")]
    const ARCH_ONLY: (&[u8], i32) = (b"EMT", k::SIGEMT as i32);

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
        Some(crate::fmt::nth_word(BY_NUMBER, i)).filter(|w| !w.is_empty())
    }

    /// The names of signals 1 to 31 in order, space-separated: NAMES
    /// sorted by this architecture's numbers when compiling (a number
    /// without a name fails the build).
    const BY_NUMBER: &[u8] = &BY_NUMBER_BYTES;
    const BY_NUMBER_BYTES: [u8; by_number_len()] = by_number();

    const fn by_number_len() -> usize {
        let (mut len, mut i) = (30, 0);
        while i < NAMES.len() {
            len += NAMES[i].0.len();
            i += 1;
        }
        len
    }

    const fn by_number() -> [u8; by_number_len()] {
        let mut out = [b' '; by_number_len()];
        let (mut at, mut n) = (0, 1);
        while n <= 31 {
            let mut i = 0;
            while NAMES[i].1 != n {
                i += 1; // past the end: no name for n, a compile-time error
            }
            let mut j = 0;
            while j < NAMES[i].0.len() {
                out[at] = NAMES[i].0[j];
                at += 1;
                j += 1;
            }
            at += 1;
            n += 1;
        }
        out
    }

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
    sigprocmask(k::SIG_BLOCK, set)
}

/// Sets the mask to exactly `set` (empty: everything delivered again, as
/// children must have before exec).
pub fn sig_setmask(set: SigSet) -> Result<()> {
    sigprocmask(k::SIG_SETMASK, set)
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
