//! The boot timeline (`rinit-rc timeline`): each service's last transition
//! from the live `timeline`, in the order they started, time 0 being stage
//! 1's start (or, without rinit, the first start). Three forms: a
//! standalone SVG picture (one bar per service, oneshots, longruns and
//! failures in three colours, a longrun's wait for readiness lighter, a
//! thin line from each bar back to the end of the dependency it waited for
//! last, a time axis in ms, the total on top), the same as text, or one
//! summing-up line. Written as it goes, through a fixed buffer.

use crate::db::{Db, Kind, MAX_SERVICES};
use crate::live::{Stamp, T_FAILED};
use base::out::Out;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Svg,
    Text,
    /// `boot is up in X ms (slowest: NAME Y ms)` (`up in`, when time 0
    /// is not stage 1's start).
    Summary,
}

/// Scratch for `write`: the drawing order, and each service's row.
pub type Scratch = [[u32; MAX_SERVICES]; 2];

/// Width of the names' column, of the bars' area, of the right margin (px).
const LABEL_W: u64 = 220;
const CHART_W: u64 = 760;
const RIGHT_W: u64 = 120;
/// Height of a row and of its bar, and where the first row starts (px).
const ROW_H: u64 = 20;
const BAR_H: u64 = 14;
const TOP: u64 = 96;

const ONESHOT: &[u8] = b"#e0a030";
const LONGRUN: &[u8] = b"#3b82c4";
const FAILED: &[u8] = b"#d9453a";

/// What every form needs: the rows in start order, time 0, the end.
struct Plan<'a> {
    db: &'a Db<'a>,
    stamps: &'a [Stamp],
    order: &'a [u32],
    rows: &'a [u32],
    t0: u64,
    end: u64,
    from_stage1: bool,
}

impl Plan<'_> {
    fn stamp(&self, i: u32) -> Stamp {
        self.stamps.get(i as usize).copied().unwrap_or(Stamp::NEVER)
    }
    /// Nanoseconds since time 0.
    fn at(&self, t: u64) -> u64 {
        t.saturating_sub(self.t0)
    }
    fn failed(&self) -> usize {
        self.order.iter().filter(|&&i| self.stamp(i).flags & T_FAILED != 0).count()
    }
    /// The service whose transition took longest, and how long.
    fn slowest(&self) -> Option<(u32, u64)> {
        let mut best: Option<(u32, u64)> = None;
        for &i in self.order {
            let s = self.stamp(i);
            let d = s.ready.saturating_sub(s.start);
            if best.is_none_or(|(_, b)| d > b) {
                best = Some((i, d));
            }
        }
        best
    }
}

/// Writes the timeline of the services with a recorded transition;
/// `origin` is stage 1's start when known.
pub fn write(db: &Db, stamps: &[Stamp], origin: Option<u64>, scratch: &mut Scratch, form: Form, out: &mut Out) {
    let [order, rows] = scratch;
    let mut n = 0usize;
    for i in 0..db.len() as u32 {
        let s = stamps.get(i as usize).copied().unwrap_or(Stamp::NEVER);
        if s.start != 0 && db.svc(i).kind() != Kind::Bundle {
            if let Some(x) = order.get_mut(n) {
                *x = i;
            }
            n += 1;
        }
    }
    let order = order.get_mut(..n).unwrap_or(&mut []);
    let start = |i: &u32| stamps.get(*i as usize).map_or(0, |s| s.start);
    // Insertion sort by start (index order on a tie): no allocation, and
    // the stamps come nearly sorted already.
    for k in 1..order.len() {
        let mut j = k;
        while j > 0 && order.get(j).map(start) < order.get(j - 1).map(start) {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    for (row, &i) in order.iter().enumerate() {
        if let Some(r) = rows.get_mut(i as usize) {
            *r = row as u32;
        }
    }
    let first = order.first().map_or(0, start);
    // A start stamp older than every transition: this boot's. (One from
    // another boot, or none: the first transition is time 0.)
    let from_stage1 = origin.is_some_and(|o| o <= first && o != 0);
    let t0 = if from_stage1 { origin.unwrap_or(first) } else { first };
    let end = order.iter().map(|&i| stamps.get(i as usize).map_or(0, |s| s.ready)).max().unwrap_or(t0);
    let p = Plan { db, stamps, order, rows, t0, end, from_stage1 };
    match form {
        Form::Summary => summary(&p, out),
        Form::Text => text(&p, out),
        Form::Svg => svg(&p, out),
    }
}

/// `12.3` (ms with one decimal) for `ns`.
fn ms(out: &mut Out, ns: u64) {
    out.u64(ns / 1_000_000).byte(b'.').u64(ns / 100_000 % 10);
}

fn summary(p: &Plan, out: &mut Out) {
    summary_text(p, out);
    out.byte(b'\n');
}

/// `NAME  +3.0 ms  →  +7.1 ms  (4.1 ms, waited for DEP)`, names aligned.
fn text(p: &Plan, out: &mut Out) {
    let width = p.order.iter().map(|&i| p.db.svc(i).name().len()).max().unwrap_or(0);
    for &i in p.order {
        let s = p.stamp(i);
        let name = p.db.svc(i).name();
        out.push(name);
        for _ in name.len()..width + 2 {
            out.byte(b' ');
        }
        out.byte(b'+');
        ms(out, p.at(s.start));
        out.push(" ms  \u{2192}  +".as_bytes());
        ms(out, p.at(s.ready));
        out.push(b" ms  (");
        ms(out, s.ready.saturating_sub(s.start));
        out.push(b" ms");
        if s.ready.saturating_sub(s.up) >= 100_000 {
            out.push(b", up at +");
            ms(out, p.at(s.up));
            out.push(b" ms");
        }
        if s.flags & T_FAILED != 0 {
            out.push(b", failed");
        }
        if let Some(w) = s.waited_for() {
            out.push(b", waited for ").push(p.db.svc(w).name());
        }
        out.push(b")\n");
    }
    summary(p, out);
    out.push(if p.from_stage1 { b"time 0: stage 1's start\n" as &[u8] } else { b"time 0: the first start\n" });
}

/// A 1, 2 or 5 times a power of ten, in ns, giving at most 10 ticks.
fn tick_step(total: u64) -> u64 {
    let mut step = 1_000u64;
    loop {
        for m in [1, 2, 5] {
            if total / (step * m) <= 10 {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
    }
}

impl Plan<'_> {
    /// The x of time `t` (absolute ns).
    fn x(&self, t: u64) -> u64 {
        let total = self.at(self.end).max(1) as u128;
        LABEL_W + (self.at(t) as u128 * CHART_W as u128 / total) as u64
    }
    fn y(&self, i: u32) -> u64 {
        TOP + self.rows.get(i as usize).copied().unwrap_or(0) as u64 * ROW_H
    }
}

fn attr(out: &mut Out, name: &[u8], v: u64) {
    out.byte(b' ').push(name).push(b"=\"").u64(v).byte(b'"');
}

/// `s` with XML's special characters as entities.
fn xml(out: &mut Out, s: &[u8]) {
    for &c in s {
        match c {
            b'&' => out.push(b"&amp;"),
            b'<' => out.push(b"&lt;"),
            b'>' => out.push(b"&gt;"),
            b'"' => out.push(b"&quot;"),
            c => out.byte(c),
        };
    }
}

fn rect(out: &mut Out, x: u64, y: u64, w: u64, h: u64, fill: &[u8], extra: &[u8]) {
    out.push(b"<rect");
    attr(out, b"x", x);
    attr(out, b"y", y);
    attr(out, b"width", w);
    attr(out, b"height", h);
    out.push(b" fill=\"").push(fill).byte(b'"').push(extra).push(b"/>\n");
}

fn label(out: &mut Out, x: u64, y: u64, extra: &[u8]) {
    out.push(b"<text");
    attr(out, b"x", x);
    attr(out, b"y", y);
    out.push(extra).byte(b'>');
}

fn svg(p: &Plan, out: &mut Out) {
    let width = LABEL_W + CHART_W + RIGHT_W;
    let height = TOP + p.order.len() as u64 * ROW_H + 30;
    out.push(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"");
    attr(out, b"width", width);
    attr(out, b"height", height);
    out.push(b" viewBox=\"0 0 ").u64(width).byte(b' ').u64(height).push(b"\"");
    out.push(b" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
    rect(out, 0, 0, width, height, b"#ffffff", b"");

    label(out, 12, 24, b" font-size=\"16\" font-weight=\"bold\"");
    summary_text(p, out);
    out.push(b"</text>\n");
    label(out, 12, 44, b" fill=\"#555555\"");
    out.push(if p.from_stage1 { b"time 0: stage 1's start" as &[u8] } else { b"time 0: the first start" });
    out.push(b"; the thin lines go back to the dependency each service waited for last</text>\n");
    let legend: [(&[u8], &[u8], &[u8]); 4] = [
        (ONESHOT, b"", b"oneshot"),
        (LONGRUN, b"", b"longrun"),
        (LONGRUN, b" opacity=\"0.4\"", b"longrun, up, not yet ready"),
        (FAILED, b"", b"failed"),
    ];
    let mut x = 12;
    for (fill, extra, what) in legend {
        rect(out, x, 54, 12, 10, fill, extra);
        label(out, x + 16, 63, b"");
        out.push(what).push(b"</text>\n");
        x += 24 + what.len() as u64 * 7;
    }

    // The axis: a grid line and a label per tick.
    let total = p.at(p.end);
    let step = tick_step(total);
    let bottom = TOP + p.order.len() as u64 * ROW_H;
    let mut t = 0;
    while t <= total {
        let x = p.x(p.t0 + t);
        out.push(b"<line");
        attr(out, b"x1", x);
        attr(out, b"y1", TOP - 8);
        attr(out, b"x2", x);
        attr(out, b"y2", bottom);
        out.push(b" stroke=\"#e4e4e4\"/>\n");
        label(out, x, bottom + 16, b" text-anchor=\"middle\" fill=\"#555555\"");
        tick_label(out, t, step);
        out.push(b"</text>\n");
        t += step;
    }

    for &i in p.order {
        let s = p.stamp(i);
        let name = p.db.svc(i).name();
        let y = p.y(i);
        let (x0, x1, xr) = (p.x(s.start), p.x(s.up), p.x(s.ready));
        let fill = if s.flags & T_FAILED != 0 {
            FAILED
        } else if p.db.svc(i).kind() == Kind::Longrun {
            LONGRUN
        } else {
            ONESHOT
        };
        out.push(b"<g><title>");
        xml(out, name);
        out.push(b": +");
        ms(out, p.at(s.start));
        out.push(" ms \u{2192} +".as_bytes());
        ms(out, p.at(s.ready));
        out.push(b" ms</title>\n");
        label(out, LABEL_W - 8, y + BAR_H - 2, b" text-anchor=\"end\"");
        xml(out, name);
        out.push(b"</text>\n");
        rect(out, x0, y, (x1 - x0).max(1), BAR_H, fill, b" rx=\"2\"");
        if xr > x1 {
            rect(out, x1, y, xr - x1, BAR_H, fill, b" rx=\"2\" opacity=\"0.4\"");
        }
        label(out, xr.max(x0 + 1) + 4, y + BAR_H - 2, b" fill=\"#555555\"");
        ms(out, s.ready.saturating_sub(s.start));
        out.push(b" ms</text>\n</g>\n");
        if let Some(w) = s.waited_for().filter(|&w| p.stamp(w).start != 0) {
            let d = p.stamp(w);
            out.push(b"<line");
            attr(out, b"x1", p.x(d.ready));
            attr(out, b"y1", p.y(w) + BAR_H / 2);
            attr(out, b"x2", x0);
            attr(out, b"y2", y + BAR_H / 2);
            out.push(b" stroke=\"#777777\" stroke-width=\"1\"/>\n");
        }
    }
    out.push(b"</svg>\n");
}

/// The headline: the summary line's words, without its newline.
fn summary_text(p: &Plan, out: &mut Out) {
    out.push(if p.from_stage1 { b"boot is up in " as &[u8] } else { b"up in " });
    ms(out, p.at(p.end));
    out.push(b" ms");
    if let Some((i, d)) = p.slowest() {
        out.push(b" (slowest: ");
        // Names are plain words (the compiler refuses others); escaped
        // all the same, the text stays good XML.
        xml(out, p.db.svc(i).name());
        out.byte(b' ');
        ms(out, d);
        out.push(b" ms)");
    }
    let failed = p.failed();
    if failed > 0 {
        out.push(b", ").u64(failed as u64).push(b" failed");
    }
}

/// A tick's time in ms, with as many decimals as the step needs.
fn tick_label(out: &mut Out, t: u64, step: u64) {
    out.u64(t / 1_000_000);
    let mut unit = 100_000;
    if step < 1_000_000 {
        out.byte(b'.');
        while unit > 0 {
            out.u64(t / unit % 10);
            if step >= unit {
                break;
            }
            unit /= 10;
        }
    }
    out.push(b" ms");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_one_two_or_five_times_a_power_of_ten_and_at_most_ten() {
        assert_eq!(tick_step(0), 1_000);
        assert_eq!(tick_step(27_800_000), 5_000_000);
        assert_eq!(tick_step(266_900_000), 50_000_000);
        assert_eq!(tick_step(1_000_000_000), 100_000_000);
        for t in [1u64, 999, 12_345_678, 98_765_432_100] {
            assert!(t / tick_step(t) <= 10, "{t}");
        }
    }
}
