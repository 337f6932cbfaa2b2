//! A status record as s6-svstat words it: the human line
//! (`up (pid 123) 5 seconds, normally down, ready 5 seconds`) and the
//! `-o` fields (`up wantedup normallyup ready paused pid exitcode signal
//! signum updownsince readysince updownfor readyfor`), same text as s6.

use base::fmt::Buf;
use base::status::Status;
use base::sys::sig;
use base::tai64n::Tai64n;

/// Longest line printed (a human line, or every field asked for).
pub const LINE_MAX: usize = 1024;

pub type Line = Buf<LINE_MAX>;

/// What is printed about one service: its record, whether `down` exists,
/// and the time it is printed at.
pub struct View {
    pub st: Status,
    pub normally_up: bool,
    pub now: Tai64n,
}

/// The `-o` field names, in s6's order, comma-separated as `-o` takes them.
pub const FIELDS: &[u8] = b"up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor";

/// The index in `FIELDS` of a field name.
pub fn field_index(name: &[u8]) -> Option<u8> {
    FIELDS.split(|&c| c == b',').position(|f| f == name).map(|i| i as u8)
}

/// The field a short option stands for (`-uwNrpest`), as an index in `FIELDS`.
pub fn short_field(c: u8) -> Option<u8> {
    let i = b"uwNrpest".iter().position(|&l| l == c)?;
    [0, 1, 2, 3, 5, 6, 7, 11].get(i).copied()
}

/// The signal that ended `run`, if it was one (wait(2)'s encoding: low 7
/// bits, neither 0, exited, nor 0x7f, stopped).
fn signal_of(wstat: u16) -> Option<u8> {
    let s = (wstat & 0x7f) as u8;
    if s != 0 && s != 0x7f { Some(s) } else { None }
}

/// `SIGTERM`, or `SIG???` for a number without a name.
pub fn push_signame(out: &mut Line, n: u8) {
    out.push(b"SIG");
    // Signal 29 is SIGIO in Linux's headers, SIGPOLL in s6's words.
    let name: &[u8] = match n {
        29 => b"POLL",
        1..=31 => sig::name(n as i32).unwrap_or(b"???"),
        _ => b"???",
    };
    out.push(name);
}

fn push_bool(out: &mut Line, v: bool) {
    out.push(if v { b"true" } else { b"false" });
}

/// Whole seconds from `then` to `now` (0 if `then` is later).
fn push_secs(out: &mut Line, now: &Tai64n, then: &Tai64n) {
    let borrow = (now.nano < then.nano) as u64;
    out.u64(now.label.saturating_sub(then.label).saturating_sub(borrow));
}

impl View {
    /// The human line, without the newline; `numeric` (`-n`) prints a
    /// signal as its number.
    pub fn human(&self, numeric: bool, out: &mut Line) {
        let st = &self.st;
        let up = st.is_up();
        if up {
            out.push(b"up (pid ").u64(st.pid).push(b") ");
        } else {
            out.push(b"down (");
            match signal_of(st.wstat) {
                Some(s) if numeric => {
                    out.push(b"signal ").u64(s as u64);
                }
                Some(s) => {
                    out.push(b"signal ");
                    push_signame(out, s);
                }
                None => {
                    out.push(b"exitcode ").u64((st.wstat >> 8) as u64 & 0xff);
                }
            }
            out.push(b") ");
        }
        push_secs(out, &self.now, &st.stamp);
        out.push(b" seconds");
        if up && !self.normally_up {
            out.push(b", normally down");
        }
        if !up && self.normally_up {
            out.push(b", normally up");
        }
        if up && st.paused {
            out.push(b", paused");
        }
        if up && !st.want_up {
            out.push(b", want down");
        }
        if !up && st.want_up {
            out.push(b", want up");
        }
        if st.ready {
            out.push(b", ready ");
            push_secs(out, &self.now, &st.readystamp);
            out.push(b" seconds");
        }
    }

    /// The value of field `FIELDS[i]`.
    pub fn field(&self, i: u8, out: &mut Line) {
        let st = &self.st;
        let up = st.is_up();
        let sig = if up { None } else { signal_of(st.wstat) };
        match i {
            0 => push_bool(out, up),
            1 => push_bool(out, st.want_up),
            2 => push_bool(out, self.normally_up),
            3 => push_bool(out, st.pid != 0 && st.ready),
            4 => push_bool(out, st.paused),
            5 if up => {
                out.u64(st.pid);
            }
            6 if !up && st.wstat & 0x7f == 0 => {
                out.u64((st.wstat >> 8) as u64 & 0xff);
            }
            7 => match sig {
                Some(s) => push_signame(out, s),
                None => {
                    out.push(b"NA");
                }
            },
            8 => match sig {
                Some(s) => {
                    out.u64(s as u64);
                }
                None => {
                    out.push(b"-1");
                }
            },
            9 => st.stamp.write_text(out),
            10 => st.readystamp.write_text(out),
            11 => push_secs(out, &self.now, &st.stamp),
            12 => push_secs(out, &self.now, &st.readystamp),
            // pid when down, exitcode when up or killed.
            _ => {
                out.push(b"-1");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(pid: u64, wstat: u16, flags: u8, normally_up: bool) -> View {
        let now = Tai64n::from_unix(1_000_000, 500);
        let st = Status {
            stamp: Tai64n::from_unix(1_000_000 - 5, 0),
            readystamp: Tai64n::from_unix(1_000_000 - 3, 900),
            pid,
            wstat,
            paused: flags & 1 != 0,
            finishing: flags & 2 != 0,
            want_up: flags & 4 != 0,
            ready: flags & 8 != 0,
        };
        View { st, normally_up, now }
    }

    fn human(v: &View, numeric: bool) -> Line {
        let mut l = Line::new();
        v.human(numeric, &mut l);
        l
    }

    #[test]
    fn words_states_as_s6_svstat() {
        let l = human(&view(123, 0, 1 | 8, false), false);
        assert_eq!(l.as_bytes(), b"up (pid 123) 5 seconds, normally down, paused, want down, ready 2 seconds");
        let l = human(&view(0, 15, 4, true), false);
        assert_eq!(l.as_bytes(), b"down (signal SIGTERM) 5 seconds, normally up, want up");
        let l = human(&view(0, 15, 0, false), true);
        assert_eq!(l.as_bytes(), b"down (signal 15) 5 seconds");
        let l = human(&view(77, 0x0300, 2 | 4, false), false);
        assert_eq!(l.as_bytes(), b"down (exitcode 3) 5 seconds, want up", "finishing is down");
    }

    #[test]
    fn fields_as_s6_svstat() {
        let v = view(0, 29, 8, true);
        let mut l = Line::new();
        for i in 0..13u8 {
            v.field(i, &mut l);
            l.byte(b' ');
        }
        let mut want = Line::new();
        want.push(b"false false true false false -1 -1 SIGPOLL 29 ");
        v.st.stamp.write_text(&mut want);
        want.byte(b' ');
        v.st.readystamp.write_text(&mut want);
        want.push(b" 5 2 ");
        assert_eq!(l.as_bytes(), want.as_bytes());
        assert_eq!(field_index(b"readyfor"), Some(12));
        assert_eq!(field_index(b"ready"), Some(3));
        assert_eq!(field_index(b"pgid"), None);
        assert_eq!(short_field(b't'), Some(11));
    }
}
