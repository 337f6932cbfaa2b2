//! Tokenizing `up`/`down` scripts as execlineb does, at compile time, so
//! that nothing is parsed when a service changes state.
//!
//! Rules: words are separated by whitespace; a `#` that starts a word
//! begins a comment to the end of the line (so a `#!/bin/sh` first line is
//! ignored); `"..."` quotes (with `\"`, `\\`, `\n`, `\t`, `\r`, `\a`, `\b`,
//! `\v`, `\f`, `\0`, and backslash-newline removed); outside quotes `\c` is a
//! literal `c`; a `{` word opens a block and a `}` word closes it. As in
//! execlineb, a word inside a block of depth d is prefixed with d spaces and
//! a block ends with a word of d-1 spaces, which is what execline's `if`,
//! `foreground` and friends expect.
//!
//! Output: each word followed by a NUL.

/// Most words in one command line (the compiler refuses more).
pub const MAX_WORDS: usize = 1024;
/// Deepest block nesting accepted.
pub const MAX_DEPTH: usize = 32;

/// Why a script was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    UnterminatedQuote,
    UnmatchedClose,
    UnclosedBlock,
    TooDeep,
    NulByte,
    /// The output buffer is full.
    TooLong,
    Empty,
}

impl Error {
    pub fn text(self) -> &'static [u8] {
        match self {
            Error::UnterminatedQuote => b"unterminated quoted string",
            Error::UnmatchedClose => b"unmatched }",
            Error::UnclosedBlock => b"unclosed { block",
            Error::TooDeep => b"blocks nested too deeply",
            Error::NulByte => b"NUL byte in script",
            Error::TooLong => b"script too long",
            Error::Empty => b"empty command line",
        }
    }
}

struct Out<'a> {
    b: &'a mut [u8],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, c: u8) -> Result<(), Error> {
        let s = self.b.get_mut(self.len).ok_or(Error::TooLong)?;
        *s = c;
        self.len += 1;
        Ok(())
    }
}

/// Tokenizes `src` into `out`; returns (bytes used, number of words).
pub fn tokenize(src: &[u8], out: &mut [u8]) -> Result<(usize, usize), Error> {
    let mut o = Out { b: out, len: 0 };
    let mut words = 0usize;
    let mut depth = 0usize;
    let mut i = 0usize;
    let at = |i: usize| src.get(i).copied();
    loop {
        // Skip blanks and comments.
        while let Some(c) = at(i) {
            if c.is_ascii_whitespace() {
                i += 1;
            } else if c == b'#' {
                while let Some(c) = at(i) {
                    i += 1;
                    if c == b'\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        let Some(first) = at(i) else { break };
        // A lone `{` or `}` word is a block delimiter.
        let lone = at(i + 1).is_none_or(|c| c.is_ascii_whitespace());
        if lone && first == b'{' {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            i += 1;
            continue;
        }
        if lone && first == b'}' {
            if depth == 0 {
                return Err(Error::UnmatchedClose);
            }
            depth -= 1;
            for _ in 0..depth {
                o.byte(b' ')?;
            }
            o.byte(0)?;
            words += 1;
            i += 1;
            continue;
        }
        for _ in 0..depth {
            o.byte(b' ')?;
        }
        let mut quoted = false;
        while let Some(c) = at(i) {
            if !quoted && c.is_ascii_whitespace() {
                break;
            }
            i += 1;
            match c {
                0 => return Err(Error::NulByte),
                b'"' => quoted = !quoted,
                b'\\' => {
                    let Some(e) = at(i) else {
                        if quoted {
                            return Err(Error::UnterminatedQuote);
                        }
                        o.byte(b'\\')?;
                        break;
                    };
                    i += 1;
                    if quoted {
                        match e {
                            b'\n' => {}
                            b'n' => o.byte(b'\n')?,
                            b't' => o.byte(b'\t')?,
                            b'r' => o.byte(b'\r')?,
                            b'a' => o.byte(7)?,
                            b'b' => o.byte(8)?,
                            b'v' => o.byte(11)?,
                            b'f' => o.byte(12)?,
                            b'0' => return Err(Error::NulByte),
                            _ => o.byte(e)?,
                        }
                    } else if e != 0 {
                        o.byte(e)?;
                    } else {
                        return Err(Error::NulByte);
                    }
                }
                _ => o.byte(c)?,
            }
        }
        if quoted {
            return Err(Error::UnterminatedQuote);
        }
        o.byte(0)?;
        words += 1;
    }
    if depth != 0 {
        return Err(Error::UnclosedBlock);
    }
    if words == 0 {
        return Err(Error::Empty);
    }
    Ok((o.len, words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Result<Vec<String>, Error> {
        let mut out = vec![0u8; 4096];
        let (n, w) = tokenize(s.as_bytes(), &mut out)?;
        let v: Vec<String> = out[..n]
            .split(|&c| c == 0)
            .take(w)
            .map(|x| String::from_utf8_lossy(x).into_owned())
            .collect();
        assert_eq!(v.len(), w);
        Ok(v)
    }

    #[test]
    fn shebang_line_is_a_comment() {
        assert_eq!(
            tok("#!/bin/sh\necho demo-oneshot-1 is up\n").unwrap(),
            ["echo", "demo-oneshot-1", "is", "up"]
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            tok(r#"echo "a b" c\ d "x\ny" "" e"f"g"#).unwrap(),
            ["echo", "a b", "c d", "x\ny", "", "efg"]
        );
    }

    #[test]
    fn blocks_are_quoted_like_execlineb() {
        assert_eq!(
            tok("foreground { echo 1 } if { foreground { true } } echo 2").unwrap(),
            [
                "foreground",
                " echo",
                " 1",
                "",
                "if",
                " foreground",
                "  true",
                " ",
                "",
                "echo",
                "2"
            ]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(tok("echo \"abc"), Err(Error::UnterminatedQuote));
        assert_eq!(tok("echo }"), Err(Error::UnmatchedClose));
        assert_eq!(tok("if { true"), Err(Error::UnclosedBlock));
        assert_eq!(tok("# only a comment\n"), Err(Error::Empty));
        assert_eq!(tok("a\0b"), Err(Error::NulByte));
    }

    /// Fuzz-style: any input either tokenizes or fails cleanly, and the word
    /// count matches the NULs written.
    #[test]
    fn never_panics_on_random_input() {
        let alphabet = b"ab \t\n#\"\\{}x0";
        let mut seed = 42u64;
        for _ in 0..20000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 59) as usize;
            let mut s = Vec::new();
            let mut x = seed;
            for _ in 0..len {
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
                x = x.rotate_left(7).wrapping_mul(31).wrapping_add(17);
            }
            let mut out = vec![0u8; 64];
            if let Ok((n, w)) = tokenize(&s, &mut out) {
                assert_eq!(out[..n].iter().filter(|&&c| c == 0).count(), w);
            }
        }
    }
}
