//! Just enough of ELF to say how big a program is, the way binutils' `size`
//! (Berkeley format) does: text = allocated read-only sections (code and
//! constants), data = allocated writable sections with file contents,
//! bss = allocated sections without file contents. A file stripped of its
//! section headers is measured from its program headers instead.

/// What one binary costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    pub text: u64,
    pub data: u64,
    pub bss: u64,
    /// No PT_INTERP: the kernel runs it without a dynamic loader.
    pub is_static: bool,
}

const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHT_NOBITS: u32 = 8;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PF_W: u32 = 2;

/// Field reader for one ELF class and byte order; every read is bounds-checked.
struct Reader<'a> {
    b: &'a [u8],
    wide: bool,
    little: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: u64) -> Result<[u8; N], String> {
        let at = usize::try_from(at).map_err(|_| "offset out of range".to_string())?;
        let s = self
            .b
            .get(at..at.saturating_add(N))
            .ok_or_else(|| format!("truncated: {N} bytes wanted at offset {at}"))?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        if !self.little {
            a.reverse();
        }
        Ok(a)
    }
    fn u16(&self, at: u64) -> Result<u64, String> {
        Ok(u16::from_le_bytes(self.bytes(at)?) as u64)
    }
    fn u32(&self, at: u64) -> Result<u64, String> {
        Ok(u32::from_le_bytes(self.bytes(at)?) as u64)
    }
    fn u64(&self, at: u64) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes(at)?))
    }
    /// A field that is 4 bytes in ELF32 and 8 in ELF64.
    fn word(&self, at32: u64, at64: u64) -> Result<u64, String> {
        if self.wide { self.u64(at64) } else { self.u32(at32) }
    }
}

/// Measures the ELF image `b`.
pub fn sizes(b: &[u8]) -> Result<Sizes, String> {
    if b.get(0..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    let wide = match b.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err("unknown ELF class".into()),
    };
    let little = match b.get(5) {
        Some(1) => true,
        Some(2) => false,
        _ => return Err("unknown ELF byte order".into()),
    };
    let r = Reader { b, wide, little };
    let phoff = r.word(0x1c, 0x20)?;
    let shoff = r.word(0x20, 0x28)?;
    let (phentsize, phnum) = if wide { (r.u16(0x36)?, r.u16(0x38)?) } else { (r.u16(0x2a)?, r.u16(0x2c)?) };
    let (shentsize, shnum) = if wide { (r.u16(0x3a)?, r.u16(0x3c)?) } else { (r.u16(0x2e)?, r.u16(0x30)?) };

    let mut s = Sizes { is_static: true, ..Sizes::default() };
    let mut loads = Vec::new();
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        let ty = r.u32(p)? as u32;
        let flags = if wide { r.u32(p + 4)? } else { r.u32(p + 24)? } as u32;
        let filesz = r.word(p + 16, p + 32)?;
        let memsz = r.word(p + 20, p + 40)?;
        if ty == PT_INTERP {
            s.is_static = false;
        }
        if ty == PT_LOAD {
            loads.push((flags, filesz, memsz));
        }
    }

    if shnum == 0 || shoff == 0 {
        for (flags, filesz, memsz) in loads {
            if flags & PF_W == 0 {
                s.text += filesz;
            } else {
                s.data += filesz;
                s.bss += memsz.saturating_sub(filesz);
            }
        }
        return Ok(s);
    }
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let ty = r.u32(h + 4)? as u32;
        let flags = r.word(h + 8, h + 8)?;
        let size = r.word(h + 20, h + 32)?;
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if ty == SHT_NOBITS {
            s.bss += size;
        } else if flags & SHF_WRITE != 0 {
            s.data += size;
        } else {
            s.text += size;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 little-endian image: one RX and one RW PT_LOAD,
    /// optionally a PT_INTERP, and no section headers.
    fn image(interp: bool) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        let n: u16 = if interp { 3 } else { 2 };
        b[0x38..0x3a].copy_from_slice(&n.to_le_bytes());
        let mut ph = |ty: u32, flags: u32, filesz: u64, memsz: u64| {
            let mut p = [0u8; 56];
            p[0..4].copy_from_slice(&ty.to_le_bytes());
            p[4..8].copy_from_slice(&flags.to_le_bytes());
            p[32..40].copy_from_slice(&filesz.to_le_bytes());
            p[40..48].copy_from_slice(&memsz.to_le_bytes());
            b.extend_from_slice(&p);
        };
        ph(PT_LOAD, 5, 1000, 1000);
        ph(PT_LOAD, 6, 48, 64);
        if interp {
            ph(PT_INTERP, 4, 20, 20);
        }
        b
    }

    #[test]
    fn measures_segments_when_there_are_no_section_headers() {
        let s = sizes(&image(false)).unwrap();
        assert_eq!(s, Sizes { text: 1000, data: 48, bss: 16, is_static: true });
    }

    #[test]
    fn a_program_interpreter_means_dynamic() {
        assert!(!sizes(&image(true)).unwrap().is_static);
    }

    #[test]
    fn refuses_what_is_not_elf_and_truncated_headers() {
        assert!(sizes(b"#!/bin/sh\n").is_err());
        let mut b = image(false);
        b.truncate(80);
        assert!(sizes(&b).is_err());
    }

    #[test]
    fn agrees_with_its_own_executable() {
        // The host test binary has section headers: text must dominate.
        let b = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let s = sizes(&b).unwrap();
        assert!(s.text > s.data && s.text > 0);
    }
}
