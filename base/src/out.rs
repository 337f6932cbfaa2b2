//! Buffered output to a descriptor for programs that print a lot (a
//! picture, a table of thousands of lines): one fixed buffer, written out
//! when full and at the end. A failed write ends the program with one
//! `fatal:` line (stdout gone: nothing more to say).

use crate::err;
use crate::fmt::Buf;
use crate::sys::{self, Fd};

/// Bytes gathered before a write.
pub const OUT_BUF: usize = 4096;

pub struct Out {
    fd: Fd,
    buf: Buf<OUT_BUF>,
}

impl Out {
    pub const fn stdout() -> Out {
        Out { fd: sys::STDOUT, buf: Buf::new() }
    }

    /// Appends `s`, writing the buffer out first when `s` does not fit.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        if self.buf.len() + s.len() > OUT_BUF {
            self.flush();
        }
        if s.len() > OUT_BUF {
            write(self.fd, s);
        } else {
            self.buf.push(s);
        }
        self
    }

    pub fn byte(&mut self, c: u8) -> &mut Self {
        self.push(&[c])
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        self.push(crate::fmt::u64_dec(v, &mut tmp))
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        write(self.fd, self.buf.as_bytes());
        self.buf.clear();
    }
}

fn write(fd: Fd, b: &[u8]) {
    if let Err(e) = sys::write_all(fd, b) {
        err::fatal_unable(err::EXIT_SYS, &[b"write to stdout"], e);
    }
}
