//! Command-line options the way getopt(3) reads them, without allocation:
//! `-ab`, `-T 100`, `-T100`, `--` ends the options, the first word that is
//! not an option ends them too.

use crate::sys::Args;

/// One option read from the command line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Opt {
    /// A letter without a value.
    Flag(u8),
    /// A letter that takes a value, with it.
    Value(u8, &'static [u8]),
    /// A letter not in the spec, or one missing its value.
    Bad(u8),
}

/// The options of `args`, by a spec such as `b"w:T:abc"` (`:` after a
/// letter: it takes a value).
pub struct Options {
    args: Args,
    spec: &'static [u8],
    /// Index of the word being read.
    word: usize,
    /// Position in that word (0: not started).
    pos: usize,
}

impl Options {
    pub fn new(args: Args, spec: &'static [u8]) -> Options {
        Options { args, spec, word: 1, pos: 0 }
    }

    /// The options from word `word` on: those of a subcommand, after its name.
    pub fn from_word(args: Args, spec: &'static [u8], word: usize) -> Options {
        Options { args, spec, word, pos: 0 }
    }

    /// Index of the first operand, once `next` has returned None.
    pub fn operands(&self) -> usize {
        self.word
    }

    fn takes_value(&self, c: u8) -> Option<bool> {
        let i = self.spec.iter().position(|&s| s == c && c != b':')?;
        Some(self.spec.get(i + 1) == Some(&b':'))
    }
}

impl Iterator for Options {
    type Item = Opt;

    fn next(&mut self) -> Option<Opt> {
        let w = self.args.get(self.word)?.to_bytes();
        if self.pos == 0 {
            if w == b"--" {
                self.word += 1;
                return None;
            }
            if w.len() < 2 || w.first() != Some(&b'-') {
                return None;
            }
            self.pos = 1;
        }
        let c = *w.get(self.pos)?;
        self.pos += 1;
        let at_end = self.pos >= w.len();
        let opt = match self.takes_value(c) {
            None => Opt::Bad(c),
            Some(false) => Opt::Flag(c),
            Some(true) => {
                let v = if !at_end {
                    w.get(self.pos..).unwrap_or(&[])
                } else {
                    self.word += 1;
                    match self.args.get(self.word) {
                        Some(v) => v.to_bytes(),
                        None => return Some(Opt::Bad(c)),
                    }
                };
                self.word += 1;
                self.pos = 0;
                return Some(Opt::Value(c, v));
            }
        };
        if at_end {
            self.word += 1;
            self.pos = 0;
        }
        Some(opt)
    }
}
