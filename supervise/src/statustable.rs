//! The rows as rinit-status prints them: an aligned table under a header,
//! or one JSON object per line (`-j`). A column is one `Column`: its
//! header, its JSON key and how a row's cell reads; a new column is one
//! more variant and its arms.

use crate::statusrow::{Row, Rows, State};
use crate::statustext::{self, Line};
use base::err;
use base::fmt::Buf;
use base::sys;
use base::tai64n::Tai64n;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    State,
    Pid,
    For,
    Ready,
    Restarts,
    Last,
    Want,
    Type,
    Rc,
}

/// The columns of every table.
pub const SUPERVISION: &[Column] = &[
    Column::Name,
    Column::State,
    Column::Pid,
    Column::For,
    Column::Ready,
    Column::Restarts,
    Column::Last,
    Column::Want,
];
/// The columns with a live rinit-rc state.
pub const WITH_RC: &[Column] = &[
    Column::Name,
    Column::State,
    Column::Pid,
    Column::For,
    Column::Ready,
    Column::Restarts,
    Column::Last,
    Column::Want,
    Column::Type,
    Column::Rc,
];
/// Most columns a table has.
pub const MAX_COLUMNS: usize = 16;

/// Longest line written (a row and its padding): statustext's, one
/// buffer type for every line and cell.
pub const LINE_MAX: usize = statustext::LINE_MAX;
type Out = Line;

/// What a cell holds, for JSON: text is quoted, a number is not, nothing is null.
#[derive(PartialEq, Eq)]
enum Value {
    Text,
    Number,
    Nothing,
}

impl Column {
    fn header(self) -> &'static [u8] {
        match self {
            Column::Name => b"NAME",
            Column::State => b"STATE",
            Column::Pid => b"PID",
            Column::For => b"FOR",
            Column::Ready => b"READY",
            Column::Restarts => b"RESTARTS",
            Column::Last => b"LAST",
            Column::Want => b"WANT",
            Column::Type => b"TYPE",
            Column::Rc => b"RC",
        }
    }

    fn key(self) -> &'static [u8] {
        match self {
            Column::Name => b"name",
            Column::State => b"state",
            Column::Pid => b"pid",
            Column::For => b"for_ms",
            Column::Ready => b"ready_for_ms",
            Column::Restarts => b"restarts",
            Column::Last => b"last",
            Column::Want => b"wanted",
            Column::Type => b"type",
            Column::Rc => b"rc",
        }
    }

    /// Writes the cell of `r` into `out`; durations as milliseconds for
    /// JSON, in words for people.
    fn cell(self, rows: &Rows, r: &Row, now: &Tai64n, json: bool, out: &mut Line) -> Value {
        let st = &r.st;
        let sup = r.state.supervised();
        let duration = |out: &mut Line, ns: u64| {
            if json {
                out.u64(ns / 1_000_000);
            } else {
                push_duration(out, ns);
            }
            Value::Number
        };
        match self {
            Column::Name => text(out, rows.name(r)),
            Column::State => text(out, r.state.word()),
            Column::Pid if sup && st.pid != 0 && r.state != State::Finishing => {
                out.u64(st.pid);
                Value::Number
            }
            Column::For if sup => duration(out, now.since(&st.stamp)),
            Column::Ready => match State::ready_since(r) {
                Some(t) => duration(out, now.since(&t)),
                None => Value::Nothing,
            },
            Column::Restarts if sup => {
                out.u64(r.tally.deaths);
                Value::Number
            }
            Column::Last if sup => match r.tally.last {
                Some((_, sig)) if sig != 0 => {
                    statustext::push_signame(out, sig);
                    Value::Text
                }
                Some((code, _)) => {
                    out.push(b"exit ").u64(code as u64);
                    Value::Text
                }
                None => Value::Nothing,
            },
            Column::Want if sup => text(out, if st.want_up { b"up" } else { b"down" }),
            Column::Type => match r.rc.kind {
                Some(k) => text(out, k),
                None => Value::Nothing,
            },
            Column::Rc if r.rc.kind.is_some() => text(out, if r.rc.up { b"up" } else { b"down" }),
            _ => Value::Nothing,
        }
    }
}

fn text(out: &mut Line, s: &[u8]) -> Value {
    out.push(s);
    Value::Text
}

/// `250ms`, `12s`, `5m6s`, `3h4m`, `2d3h`: two units at most.
pub fn push_duration<const N: usize>(out: &mut Buf<N>, ns: u64) {
    let ms = ns / 1_000_000;
    let s = ms / 1000;
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    if ms < 1000 {
        out.u64(ms).push(b"ms");
    } else if s < 60 {
        out.u64(s).byte(b's');
    } else if m < 60 {
        out.u64(m).byte(b'm').u64(s % 60).byte(b's');
    } else if h < 24 {
        out.u64(h).byte(b'h').u64(m % 60).byte(b'm');
    } else {
        out.u64(d).byte(b'd').u64(h % 24).byte(b'h');
    }
}

/// The reason of a bad row: `unable to read supervise/status: Protocol error`.
fn push_error(out: &mut Line, r: &Row) {
    if let Some((what, e)) = r.error {
        out.push(what).push(b": ").push(err::strerror(e));
    }
}

fn emit(out: &mut Out) {
    out.mark_cut().byte(b'\n');
    if let Err(e) = sys::write_all(sys::STDOUT, out.as_bytes()) {
        err::fatal_sys(err::EXIT_SYS, &[b"unable to write to stdout"], e);
    }
    out.clear();
}

/// The aligned table: a header, then a row per line, columns two spaces
/// apart. A bad row gives its reason after its state.
#[inline(never)]
pub fn print_table(rows: &Rows, cols: &[Column], now: &Tai64n) {
    let mut widths = [0usize; MAX_COLUMNS];
    let mut cell = Line::new();
    for (w, c) in widths.iter_mut().zip(cols) {
        *w = c.header().len();
        for r in rows.as_slice() {
            cell.clear();
            if r.state != State::Bad || matches!(c, Column::Name | Column::State) {
                c.cell(rows, r, now, false, &mut cell);
            }
            *w = (*w).max(cell.len().max(1));
        }
    }
    let mut out = Out::new();
    let line = |out: &mut Out, cells: &mut dyn FnMut(usize, Column, &mut Line) -> bool| {
        let mut pad = 0;
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let mut cell = Line::new();
            if !cells(i, *c, &mut cell) {
                break;
            }
            for _ in 0..pad {
                out.byte(b' ');
            }
            out.push(cell.as_bytes());
            pad = w.saturating_sub(cell.len()) + 2;
        }
        emit(out);
    };
    line(&mut out, &mut |_, c, cell| {
        cell.push(c.header());
        true
    });
    for r in rows.as_slice() {
        line(&mut out, &mut |i, c, cell| {
            if r.state == State::Bad && i >= 2 {
                if i == 2 {
                    push_error(cell, r);
                }
                return i == 2;
            }
            if c.cell(rows, r, now, false, cell) == Value::Nothing {
                cell.byte(b'-');
            }
            true
        });
    }
}

/// One JSON object per row and line, keys in column order; a bad row has
/// its name, its state and an `error`.
#[inline(never)]
pub fn print_json(rows: &Rows, cols: &[Column], now: &Tai64n) {
    let mut out = Out::new();
    let mut cell = Line::new();
    for r in rows.as_slice() {
        out.byte(b'{');
        for (i, c) in cols.iter().enumerate() {
            if r.state == State::Bad && i >= 2 {
                break;
            }
            cell.clear();
            let v = c.cell(rows, r, now, true, &mut cell);
            if i > 0 {
                out.byte(b',');
            }
            json_str(&mut out, c.key());
            out.byte(b':');
            match v {
                Value::Text => json_str(&mut out, cell.as_bytes()),
                Value::Number => {
                    out.push(cell.as_bytes());
                }
                Value::Nothing => {
                    out.push(b"null");
                }
            }
        }
        if r.state == State::Bad {
            cell.clear();
            push_error(&mut cell, r);
            out.push(b",\"error\":");
            json_str(&mut out, cell.as_bytes());
        }
        out.byte(b'}');
        emit(&mut out);
    }
}

/// `s` as a JSON string: quotes, backslashes and control bytes escaped.
fn json_str(out: &mut Out, s: &[u8]) {
    out.byte(b'"');
    for &c in s {
        match c {
            b'"' | b'\\' => {
                out.byte(b'\\').byte(c);
            }
            0..=0x1f => {
                out.push(b"\\u00").hex(c as u64, 2);
            }
            _ => {
                out.byte(c);
            }
        }
    }
    out.byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_two_units_at_most() {
        let f = |ns: u64| {
            let mut b = Buf::<32>::new();
            push_duration(&mut b, ns);
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(f(250_000_000), "250ms");
        assert_eq!(f(12_300_000_000), "12s");
        assert_eq!(f(306_000_000_000), "5m6s");
        assert_eq!(f((3 * 3600 + 4 * 60) * 1_000_000_000), "3h4m");
        assert_eq!(f((2 * 86400 + 3 * 3600 + 59) * 1_000_000_000), "2d3h");
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut o = Out::new();
        json_str(&mut o, b"a\"b\\c\nd");
        assert_eq!(o.as_bytes(), br#""a\"b\\c\u000ad""#);
    }
}
