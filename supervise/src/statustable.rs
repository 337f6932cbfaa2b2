//! The rows as rinit-status (and `rinit-rc-db status`) prints them: an
//! aligned table under a header, or one JSON object per line (`-j`). A
//! column is one `Column`: its header, its JSON key and how a row's cell
//! reads; a new column is one more variant and its arms.

use crate::statusrow::{Row, Rows, State};
use crate::statustext::{self, Line};
use base::err;
use base::fmt::{nth_word, Buf};
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
    Memory,
    Pids,
}

/// Every column, in the order printed; which are shown depends on the
/// tree (`Shown`).
const ALL: [Column; 12] = [
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
    Column::Memory,
    Column::Pids,
];

/// Which optional columns a table has: rinit-rc's two with a live
/// rinit-rc state, the cgroup's two with a cgroup per service.
#[derive(Clone, Copy)]
pub struct Shown {
    pub rc: bool,
    pub cgroup: bool,
}

impl Shown {
    fn has(self, c: Column) -> bool {
        match c {
            Column::Type | Column::Rc => self.rc,
            Column::Memory | Column::Pids => self.cgroup,
            _ => true,
        }
    }
}

/// Longest line written (a row and its padding): statustext's, one
/// buffer type for every line and cell.
pub const LINE_MAX: usize = statustext::LINE_MAX;
type Out = Line;

/// What a cell holds, for JSON: text is quoted, a number is not, nothing
/// is null; an error (a bad row's reason, in place of its third column)
/// ends the row.
#[derive(PartialEq, Eq)]
enum Value {
    Text,
    Number,
    Nothing,
    Error,
}

/// Headers and JSON keys, in `Column` order.
const HEADERS: &[u8] = b"NAME STATE PID FOR READY RESTARTS LAST WANT TYPE RC MEMORY PIDS";
const KEYS: &[u8] = b"name state pid for_ms ready_for_ms restarts last wanted type rc memory_current pids_current";

impl Column {
    fn header(self) -> &'static [u8] {
        nth_word(HEADERS, self as usize)
    }

    fn key(self) -> &'static [u8] {
        nth_word(KEYS, self as usize)
    }

    /// Writes the cell of `r` into `out`; durations as milliseconds for
    /// JSON, in words for people.
    fn cell(self, rows: &Rows, r: &Row, now: &Tai64n, json: bool, out: &mut Line) -> Value {
        let st = &r.st;
        let sup = r.state.supervised();
        let since = match self {
            Column::For if sup => Some(st.stamp),
            Column::Ready => State::ready_since(r),
            _ => None,
        };
        if let Some(t) = since {
            let ns = now.since(&t);
            if json {
                out.u64(ns / 1_000_000);
            } else {
                push_duration(out, ns);
            }
            return Value::Number;
        }
        match self {
            Column::Name => text(out, rows.name(r)),
            Column::State => text(out, r.state.word()),
            Column::Pid if sup && st.pid != 0 && r.state != State::Finishing => number(out, st.pid),
            Column::Restarts if sup => number(out, r.tally.deaths),
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
            // Bytes for tools, KiB for people.
            Column::Memory if r.memory.is_some() => {
                let m = r.memory.unwrap_or(0);
                if json {
                    out.u64(m);
                } else {
                    out.u64(m.div_ceil(1024)).push(b"K");
                }
                Value::Number
            }
            Column::Pids if r.pids.is_some() => {
                out.u64(r.pids.unwrap_or(0));
                Value::Number
            }
            _ => Value::Nothing,
        }
    }
}

fn text(out: &mut Line, s: &[u8]) -> Value {
    out.push(s);
    Value::Text
}

fn number(out: &mut Line, n: u64) -> Value {
    out.u64(n);
    Value::Number
}

/// `250ms`, `12s`, `5m6s`, `3h4m`, `2d3h`: two units at most.
pub fn push_duration<const N: usize>(out: &mut Buf<N>, ns: u64) {
    let ms = ns / 1_000_000;
    if ms < 1000 {
        out.u64(ms).push(b"ms");
        return;
    }
    // Each unit and how many of the one below it make one.
    // (u16: a table of four bytes a unit, not sixteen.)
    const UNITS: [(u8, u16); 4] = [(b's', 1000), (b'm', 60), (b'h', 60), (b'd', 24)];
    let (mut big, mut small) = (ms, 0);
    let mut unit = 0;
    for (i, &(_, per)) in UNITS.iter().enumerate() {
        let per = per as u64;
        if big < per {
            break;
        }
        small = big % per;
        big /= per;
        unit = i;
    }
    let name = |i: usize| UNITS.get(i).map_or(b's', |u| u.0);
    out.u64(big).byte(name(unit));
    if unit > 0 {
        out.u64(small).byte(name(unit - 1));
    }
}

/// Prints the rows: with `json`, one JSON object per row and line, keys
/// in column order, a bad row with its name, its state and an `error`;
/// else the aligned table, a header then a row per line, columns two
/// spaces apart, a bad row's reason after its state.
pub fn print(rows: &Rows, shown: Shown, now: &Tai64n, json: bool) {
    let mut p = Printer { rows, shown, now, json, widths: [0; ALL.len()], out: Out::new(), cell: Line::new() };
    // Two passes for the table (the widths of the header's and every row's
    // cells, then the lines), the second alone for JSON.
    for measure in [true, false] {
        if measure && json {
            continue;
        }
        if !json {
            p.line(None, measure);
        }
        for r in rows.as_slice() {
            p.line(Some(r), measure);
        }
    }
}

/// Sorts the rows, prints them (`print`, at this instant), then warns if
/// some did not fit the table, and exits 0.
pub fn show(rows: &mut Rows, shown: Shown, json: bool) -> ! {
    rows.sort();
    print(rows, shown, &Tai64n::now(), json);
    if rows.dropped > 0 {
        err::too_many(b"services in the table", crate::statusrow::MAX_ROWS);
    }
    sys::exit(0)
}

struct Printer<'a> {
    rows: &'a Rows,
    shown: Shown,
    now: &'a Tai64n,
    json: bool,
    widths: [usize; ALL.len()],
    out: Out,
    cell: Line,
}

impl Printer<'_> {
    /// The line of row `r`, or the header (None); `measure` only widens
    /// the columns to its cells.
    fn line(&mut self, r: Option<&Row>, measure: bool) {
        let json = self.json;
        let cell = &mut self.cell;
        let mut pad = 0;
        if json {
            self.out.byte(b'{');
        }
        for c in ALL {
            if !self.shown.has(c) {
                continue;
            }
            // Name and State are always shown: a column's place in `ALL`
            // tells the first and those after State.
            let i = c as usize;
            cell.clear();
            let v = match r {
                None => text(cell, c.header()),
                Some(r) if r.state == State::Bad && i >= 2 => {
                    if let Some((what, e)) = r.error {
                        cell.push(what).push(b": ").push(err::strerror(e));
                    }
                    Value::Error
                }
                Some(r) => c.cell(self.rows, r, self.now, json, cell),
            };
            if v == Value::Nothing && !json {
                cell.byte(b'-');
            }
            let Some(w) = self.widths.get_mut(i) else {
                break;
            };
            let out = &mut self.out;
            if measure {
                if v != Value::Error {
                    *w = (*w).max(cell.len());
                }
            } else if json {
                if i > 0 {
                    out.byte(b',');
                }
                json_str(out, if v == Value::Error { b"error" } else { c.key() });
                out.byte(b':');
                match v {
                    Value::Number => {
                        out.push(cell.as_bytes());
                    }
                    Value::Nothing => {
                        out.push(b"null");
                    }
                    _ => json_str(out, cell.as_bytes()),
                }
            } else {
                for _ in 0..pad {
                    out.byte(b' ');
                }
                out.push(cell.as_bytes());
                pad = w.saturating_sub(cell.len()) + 2;
            }
            if v == Value::Error {
                break;
            }
        }
        if measure {
            return;
        }
        if json {
            self.out.byte(b'}');
        }
        let out = &mut self.out;
        out.mark_cut().byte(b'\n');
        if let Err(e) = sys::write_all(sys::STDOUT, out.as_bytes()) {
            err::fatal_unable(err::EXIT_SYS, &[b"write to stdout"], e);
        }
        out.clear();
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
