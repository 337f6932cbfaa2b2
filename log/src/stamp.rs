//! The timestamp prefixes of the `t` and `T` directives, written as s6-log
//! writes them: `@` + TAI64N in hex + one space, or the UTC date and time
//! `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` + two spaces.

use crate::script::Stamp;
use base::fmt::Buf;
use base::tai64n::Tai64n;

/// Length of the `t` prefix.
pub const TAI_LEN: usize = 26;
/// Length of the `T` prefix.
pub const ISO_LEN: usize = 31;

/// Both prefixes for one instant, made once per batch of lines, one after
/// the other: `@<tai64n> YYYY-MM-DD HH:MM:SS.nnnnnnnnn  `.
pub struct Prefixes {
    both: Buf<64>,
}

impl Prefixes {
    pub fn new(t: Tai64n) -> Prefixes {
        let mut b = Buf::new();
        t.write_text(&mut b);
        b.byte(b' ');
        let secs = t.unix_secs();
        let (y, mo, d) = civil_from_days(secs / 86400);
        let s = secs % 86400;
        b.u64_pad(y, 4).byte(b'-').u64_pad(mo, 2).byte(b'-').u64_pad(d, 2).byte(b' ');
        b.u64_pad(s / 3600, 2).byte(b':').u64_pad(s / 60 % 60, 2).byte(b':').u64_pad(s % 60, 2);
        b.byte(b'.').u64_pad(t.nano as u64, 9).push(b"  ");
        Prefixes { both: b }
    }

    /// The prefix a line gets for `stamp`.
    pub fn get(&self, stamp: Stamp) -> &[u8] {
        let b = self.both.as_bytes();
        let r = match stamp.0 & 3 {
            0 => 0..0,
            1 => 0..TAI_LEN,
            2 => TAI_LEN..TAI_LEN + ISO_LEN,
            _ => 0..TAI_LEN + ISO_LEN,
        };
        b.get(r).unwrap_or(b"")
    }
}

/// (year, month, day) of the day `days` after 1970-01-01, proleptic Gregorian.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_722), (2023, 12, 31));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
    }

    #[test]
    fn prefixes() {
        let p = Prefixes::new(Tai64n::from_unix(1_700_000_000, 5));
        assert_eq!(p.get(Stamp::ISO), b"2023-11-14 22:13:20.000000005  ");
        assert_eq!(p.get(Stamp::TAI), b"@400000006553f12500000005 ");
        assert_eq!(p.get(Stamp(3)), b"@400000006553f12500000005 2023-11-14 22:13:20.000000005  ");
        assert_eq!(p.get(Stamp::NONE), b"");
    }
}
