//! Formatting and parsing of numbers into fixed buffers, without core::fmt
//! (which would cost kilobytes in every binary).

/// A fixed-capacity byte buffer for building one message or one line.
/// Writes past the capacity are dropped and remembered in `overflowed`.
pub struct Buf<const N: usize> {
    buf: [u8; N],
    len: usize,
    pub overflowed: bool,
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { buf: [0; N], len: 0, overflowed: false }
    }
    // Out of line: a call is shorter than the bounds check each caller
    // would carry.
    #[inline(never)]
    pub fn as_bytes(&self) -> &[u8] {
        // len <= N always; get() keeps the panic path out of the binaries.
        self.buf.get(..self.len).unwrap_or(&[])
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }
    /// Keeps the first `len` bytes (e.g. drops a NUL added for a syscall).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let room = self.buf.get_mut(self.len..).unwrap_or(&mut []);
        let n = s.len().min(room.len());
        if let (Some(dst), Some(src)) = (room.get_mut(..n), s.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        if n < s.len() {
            self.overflowed = true;
        }
        self
    }
    /// If text was dropped, ends the buffer with `...` (over its last
    /// bytes), so that a cut message shows it was cut.
    pub fn mark_cut(&mut self) -> &mut Self {
        if self.overflowed {
            self.truncate(N.saturating_sub(3));
            self.push(b"...");
        }
        self
    }
    pub fn byte(&mut self, b: u8) -> &mut Self {
        self.push(&[b])
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let s = u64_dec(v, &mut tmp);
        self.push(s)
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.byte(b'-');
        }
        self.u64(v.unsigned_abs())
    }
    /// `v` as `width` lowercase hex digits (zero-padded).
    pub fn hex(&mut self, v: u64, width: usize) -> &mut Self {
        let mut i = width.min(16);
        while i > 0 {
            i -= 1;
            self.byte(HEX[((v >> (i * 4)) & 0xf) as usize]);
        }
        self
    }
    /// `s` between double quotes, as text safe on a terminal: `"` and `\\`
    /// escaped with a backslash, other bytes outside printable ASCII as `\\xNN`.
    pub fn quoted(&mut self, s: &[u8]) -> &mut Self {
        self.byte(b'"');
        for &c in s {
            match c {
                b'"' | b'\\' => self.byte(b'\\').byte(c),
                b' '..=b'~' => self.byte(c),
                _ => self.push(b"\\x").hex(c as u64, 2),
            };
        }
        self.byte(b'"')
    }
    /// `v` zero-padded to `width` decimal digits.
    pub fn u64_pad(&mut self, v: u64, width: usize) -> &mut Self {
        let mut tmp = [0u8; 20];
        let s = u64_dec(v, &mut tmp);
        for _ in s.len()..width {
            self.byte(b'0');
        }
        self.push(s)
    }
}

/// Word `i` of the space-separated `list` (empty past its end): one string
/// takes less room than a table of slices.
pub fn nth_word(list: &'static [u8], i: usize) -> &'static [u8] {
    list.split(|&b| b == b' ').nth(i).unwrap_or(b"")
}

/// Lowercase hex digits, by value.
pub const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decimal digits of `v`, written at the end of `tmp`.
pub fn u64_dec(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    for d in tmp.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
        i -= 1;
        if v == 0 {
            break;
        }
    }
    tmp.get(i..).unwrap_or(&[])
}

/// A whole decimal number, no sign, no blanks; None on anything else or overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// The content of a one-number file such as `notification-fd` or
/// `timeout-kill`: blanks and one trailing newline are allowed.
pub fn parse_u64_line(s: &[u8]) -> Option<u64> {
    parse_u64(trim(s))
}

/// `s` without leading and trailing ASCII whitespace.
pub fn trim(mut s: &[u8]) -> &[u8] {
    // Slice patterns: no index, so no panic path in the binaries.
    while let [c, rest @ ..] = s
        && c.is_ascii_whitespace()
    {
        s = rest;
    }
    while let [rest @ .., c] = s
        && c.is_ascii_whitespace()
    {
        s = rest;
    }
    s
}

pub fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn quotes_what_a_terminal_would_interpret() {
        let mut b = Buf::<64>::new();
        b.quoted(b"a \"b\" \\ \x1b[2J\n\xff");
        assert_eq!(b.as_bytes(), b"\"a \\\"b\\\" \\\\ \\x1b[2J\\x0a\\xff\"");
    }
    #[test]
    fn formats_numbers() {
        let mut b = Buf::<64>::new();
        b.u64(0).byte(b' ').u64(18446744073709551615).byte(b' ').i64(-42).byte(b' ').hex(0xbeef, 8);
        assert_eq!(b.as_bytes(), b"0 18446744073709551615 -42 0000beef");
    }
    #[test]
    fn parses_numbers() {
        assert_eq!(parse_u64(b"123"), Some(123));
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(parse_u64_line(b" 3\n"), Some(3));
        assert_eq!(trim(b" \t\n "), b"");
        assert_eq!(trim(b"  a b\n"), b"a b");
    }
    #[test]
    fn formats_zero_and_max_padded() {
        let mut b = Buf::<64>::new();
        b.u64_pad(0, 3).byte(b' ').u64_pad(u64::MAX, 3);
        assert_eq!(b.as_bytes(), b"000 18446744073709551615");
    }
    #[test]
    fn overflow_is_remembered() {
        let mut b = Buf::<4>::new();
        b.push(b"hello");
        assert!(b.overflowed);
        assert_eq!(b.as_bytes(), b"hell");
        b.mark_cut();
        assert_eq!(b.as_bytes(), b"h...");
        assert!(b.overflowed);
    }
}
