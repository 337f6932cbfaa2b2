//! TAI64N timestamps as skalibs writes them: 8-byte big-endian label
//! `2^62 + unix seconds + 37` (skalibs' TAI-UTC offset), then a 4-byte
//! big-endian nanosecond count. Text form: `@` + 24 lowercase hex digits.

use crate::fmt::{hex_val, Buf};
use crate::sys;

/// TAI64 label of the Unix epoch, with skalibs' 37-second TAI-UTC offset.
pub const UNIX_EPOCH_LABEL: u64 = (1 << 62) + 37;

/// Length of the packed form.
pub const PACKED_LEN: usize = 12;
/// Length of the text form, `@` included.
pub const TEXT_LEN: usize = 25;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Tai64n {
    pub label: u64,
    pub nano: u32,
}

impl Tai64n {
    pub fn now() -> Tai64n {
        let (s, ns) = sys::now_real();
        Tai64n::from_unix(s, ns)
    }
    pub const fn from_unix(secs: u64, nano: u32) -> Tai64n {
        Tai64n { label: secs + UNIX_EPOCH_LABEL, nano }
    }
    /// Seconds since the Unix epoch (0 for labels before it).
    pub fn unix_secs(&self) -> u64 {
        self.label.saturating_sub(UNIX_EPOCH_LABEL)
    }
    pub fn pack(&self) -> [u8; PACKED_LEN] {
        // Array patterns, not slice ranges: no panic path in the binaries.
        let [l0, l1, l2, l3, l4, l5, l6, l7] = self.label.to_be_bytes();
        let [n0, n1, n2, n3] = self.nano.to_be_bytes();
        [l0, l1, l2, l3, l4, l5, l6, l7, n0, n1, n2, n3]
    }
    pub fn unpack(b: &[u8; PACKED_LEN]) -> Tai64n {
        let [l0, l1, l2, l3, l4, l5, l6, l7, n0, n1, n2, n3] = *b;
        Tai64n {
            label: u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]),
            nano: u32::from_be_bytes([n0, n1, n2, n3]),
        }
    }
    /// Appends `@` + 24 hex digits.
    pub fn write_text<const N: usize>(&self, out: &mut Buf<N>) {
        out.byte(b'@').hex(self.label, 16).hex(self.nano as u64, 8);
    }
    /// Parses the text form (exactly 25 bytes).
    pub fn parse_text(s: &[u8]) -> Option<Tai64n> {
        if s.len() != TEXT_LEN || s[0] != b'@' {
            return None;
        }
        let mut v: u128 = 0;
        for &c in &s[1..] {
            v = (v << 4) | hex_val(c)? as u128;
        }
        Some(Tai64n { label: (v >> 32) as u64, nano: v as u32 })
    }
    /// Nanoseconds from `earlier` to `self` (0 if negative).
    pub fn since(&self, earlier: &Tai64n) -> u64 {
        let a = self.label as u128 * 1_000_000_000 + self.nano as u128;
        let b = earlier.label as u128 * 1_000_000_000 + earlier.nano as u128;
        a.saturating_sub(b).min(u64::MAX as u128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn packs_and_parses() {
        let t = Tai64n::from_unix(1_700_000_000, 123_456_789);
        assert_eq!(Tai64n::unpack(&t.pack()), t);
        let mut b = Buf::<32>::new();
        t.write_text(&mut b);
        assert_eq!(b.len(), TEXT_LEN);
        assert_eq!(Tai64n::parse_text(b.as_bytes()), Some(t));
        assert_eq!(&b.as_bytes()[..3], b"@40");
        assert_eq!(t.unix_secs(), 1_700_000_000);
    }
}
