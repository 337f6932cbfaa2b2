//! Reading s6-rc source directories, unchanged: one subdirectory per
//! service with `type`, `dependencies[.d]`, `contents[.d]`, `up`/`down`,
//! `run`..., `timeout-up`/`timeout-down`, `flag-essential`,
//! `producer-for`/`consumer-for`/`pipeline-name`. Everything lands in fixed
//! tables (`Source`); names are resolved later by `graph`.

use crate::db::{self, Kind};
use crate::execline;
use base::fmt::{Buf, parse_u64, trim};
use base::path::PathBuf;
use base::sys::{self, FileType, errno};

/// Most services (bundles included) over all source directories.
pub const MAX_SERVICES: usize = db::MAX_SERVICES;
/// Longest service name, in bytes.
pub const MAX_NAME: usize = 128;
/// Most source directories given to one compilation.
pub const MAX_SOURCES: usize = 32;
/// Most names listed in all `dependencies`, `contents`, `producer-for` and
/// `consumer-for` files together.
pub const MAX_REFS: usize = 65536;
/// Bytes of names and tokenized scripts together.
pub const MAX_TEXT: usize = 4 << 20;
/// Largest single source file read (`up`, `dependencies`...).
pub const MAX_FILE: usize = 64 << 10;

/// `SrcSvc::flags` bit (never written to the database): the bundle that a
/// last consumer's `pipeline-name` defines; its `pipeline` span holds that
/// consumer's name.
pub const F_PIPELINE_BUNDLE: u32 = 1 << 31;

/// A piece of `Source::text` or of `Source::refs`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub fn range(self) -> core::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One service as read from its source directory.
#[derive(Clone, Copy)]
pub struct SrcSvc {
    pub kind: Kind,
    /// Index of the source directory it came from.
    pub src: u16,
    pub flags: u32,
    pub name: Span,
    pub timeout_up: u32,
    pub timeout_down: u32,
    /// `dependencies` (atomic) or `contents` (bundle): refs, from the `.d`
    /// directory when there is one, else from the file.
    pub deps: Span,
    /// `deps` come from the `.d` directory.
    pub deps_from_d: bool,
    /// Tokenized scripts (words each NUL-terminated): text.
    pub up: Span,
    pub down: Span,
    /// `producer-for` (0 or 1 ref) and `consumer-for`: refs.
    pub producer_for: Span,
    pub consumer_for: Span,
    /// `pipeline-name`: text.
    pub pipeline: Span,
}

// All zero, so that a `Source` in a static lives in .bss, not in the binary.
const EMPTY: SrcSvc = SrcSvc {
    kind: Kind::Oneshot,
    src: 0,
    flags: 0,
    name: Span { start: 0, len: 0 },
    timeout_up: 0,
    timeout_down: 0,
    deps: Span { start: 0, len: 0 },
    deps_from_d: false,
    up: Span { start: 0, len: 0 },
    down: Span { start: 0, len: 0 },
    producer_for: Span { start: 0, len: 0 },
    consumer_for: Span { start: 0, len: 0 },
    pipeline: Span { start: 0, len: 0 },
};

/// The fixed tables a compilation fills (about 5 MiB: keep it in a static).
pub struct Source {
    pub svcs: [SrcSvc; MAX_SERVICES],
    pub n: usize,
    pub text: [u8; MAX_TEXT],
    pub text_len: usize,
    /// Each ref is a service name (a text span) listed in some file.
    pub refs: [Span; MAX_REFS],
    pub nrefs: usize,
    /// The source directories, as given (text spans).
    pub dirs: [Span; MAX_SOURCES],
    pub ndirs: usize,
}

impl Default for Source {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes of a file name shown in a message; a longer one is cut, ending in `...`.
pub const SHOWN_PATH_MAX: usize = 512;

/// A compile error: one line, naming the file, of at most
/// `base::err::MSG_MAX` bytes (a longer one is cut, ending in `...`).
pub struct Error {
    pub msg: Buf<{ base::err::MSG_MAX }>,
}

impl Error {
    pub fn new(parts: &[&[u8]]) -> Error {
        let mut msg = Buf::new();
        for p in parts {
            msg.push(p);
        }
        msg.mark_cut();
        Error { msg }
    }
}

impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(core::str::from_utf8(self.msg.as_bytes()).unwrap_or("?"))
    }
}

/// Is `n` acceptable as a service name? (Also a file name in the scan dir.)
pub fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME
        && n[0] != b'.'
        && !n.iter().any(|&c| c == b'/' || c == 0 || c == b'\n')
}

impl Source {
    pub const fn new() -> Source {
        Source {
            svcs: [EMPTY; MAX_SERVICES],
            n: 0,
            text: [0; MAX_TEXT],
            text_len: 0,
            refs: [Span { start: 0, len: 0 }; MAX_REFS],
            nrefs: 0,
            dirs: [Span { start: 0, len: 0 }; MAX_SOURCES],
            ndirs: 0,
        }
    }

    pub fn text(&self, s: Span) -> &[u8] {
        self.text.get(s.range()).unwrap_or(b"")
    }

    pub fn name(&self, i: usize) -> &[u8] {
        match self.svcs.get(i) {
            Some(s) => self.text(s.name),
            None => b"",
        }
    }

    pub fn dir(&self, i: usize) -> &[u8] {
        self.text(self.dirs.get(i).copied().unwrap_or_default())
    }

    /// `DIR/NAME/file` of service i, for messages; for a pipeline's bundle,
    /// the `pipeline-name` file that defines it.
    pub fn file_of(&self, i: usize, file: &[u8]) -> Buf<SHOWN_PATH_MAX> {
        let mut b = Buf::new();
        let Some(s) = self.svcs.get(i) else {
            return b;
        };
        b.push(self.dir(s.src as usize)).byte(b'/');
        if s.flags & F_PIPELINE_BUNDLE != 0 {
            b.push(self.text(s.pipeline)).push(b"/pipeline-name").mark_cut();
            return b;
        }
        b.push(self.name(i));
        if !file.is_empty() {
            b.byte(b'/').push(file);
        }
        b.mark_cut();
        b
    }

    /// Adds, for each last consumer of a pipeline (`consumer-for` without
    /// `producer-for`) that has a `pipeline-name`, the bundle of that name;
    /// its contents are filled in by `graph`. (`pipeline-name` elsewhere is
    /// ignored with a warning, as s6-rc-compile does.)
    pub fn add_pipeline_bundles(&mut self) -> Result<(), Error> {
        for i in 0..self.n {
            let s = self.svcs[i];
            if s.kind != Kind::Longrun || s.pipeline.len == 0 {
                continue;
            }
            if s.producer_for.len != 0 || s.consumer_for.len == 0 {
                base::err::warn(&[
                    self.file_of(i, b"pipeline-name").as_bytes(),
                    b" is ignored: its service is not the last consumer of a pipeline",
                ]);
                continue;
            }
            if self.n >= MAX_SERVICES {
                return Err(Error::new(&[
                    b"too many services (capacity MAX_SERVICES = 4096) at ",
                    self.file_of(i, b"pipeline-name").as_bytes(),
                ]));
            }
            let mut b = EMPTY;
            b.kind = Kind::Bundle;
            b.src = s.src;
            b.flags = F_PIPELINE_BUNDLE;
            b.name = s.pipeline;
            b.pipeline = s.name;
            self.svcs[self.n] = b;
            self.n += 1;
        }
        Ok(())
    }

    /// The file or directory service i's `deps` came from, for messages:
    /// `DIR/NAME/dependencies` or `DIR/NAME/contents.d/ENTRY` (`entry`
    /// given) and so on.
    pub fn deps_file(&self, i: usize, entry: &[u8]) -> Buf<SHOWN_PATH_MAX> {
        let Some(s) = self.svcs.get(i) else {
            return Buf::new();
        };
        let list: &[u8] = if s.kind == Kind::Bundle { b"contents" } else { b"dependencies" };
        let mut f = self.file_of(i, list);
        if s.deps_from_d {
            f.push(b".d");
            if !entry.is_empty() {
                f.byte(b'/').push(entry);
            }
            f.mark_cut();
        }
        f
    }

    fn add_text(&mut self, s: &[u8]) -> Result<Span, Error> {
        let start = self.text_len;
        let end = start + s.len();
        let Some(dst) = self.text.get_mut(start..end) else {
            return Err(Error::new(&[
                b"too much text in the source (capacity MAX_TEXT = 4 MiB)",
            ]));
        };
        dst.copy_from_slice(s);
        self.text_len = end;
        Ok(Span {
            start: start as u32,
            len: s.len() as u32,
        })
    }

    fn add_ref(&mut self, name: &[u8], file: &[u8]) -> Result<(), Error> {
        if !valid_name(name) {
            return Err(Error::new(&[
                b"invalid or too long service name \"",
                cut(name),
                b"\" in ",
                file,
            ]));
        }
        let span = self.add_text(name)?;
        let Some(r) = self.refs.get_mut(self.nrefs) else {
            return Err(Error::new(&[
                b"too many dependency names (capacity MAX_REFS = 65536) at ",
                file,
            ]));
        };
        *r = span;
        self.nrefs += 1;
        Ok(())
    }

    /// Reads every service of the source directory `dir`.
    pub fn read_dir(&mut self, dir: &'static [u8]) -> Result<(), Error> {
        if self.ndirs >= MAX_SOURCES {
            return Err(Error::new(&[
                b"too many source directories (capacity MAX_SOURCES = 32)",
            ]));
        }
        let d = self.add_text(dir)?;
        let di = self.ndirs;
        self.dirs[di] = d;
        self.ndirs += 1;
        let path = PathBuf::join(dir, &[]).map_err(|_| too_long(dir))?;
        let fd = sys::open_dir(path.as_cstr())
            .map_err(|e| sys_err(b"unable to open source directory ", dir, e))?;
        let mut failed: Option<Error> = None;
        let r = sys::read_dir(fd.fd(), &mut |name, kind, _| {
            if failed.is_some() {
                return;
            }
            let n = name.to_bytes();
            if n.first() == Some(&b'.') {
                return;
            }
            if let Err(e) = self.read_service(di, dir, n, kind) {
                failed = Some(e);
            }
        });
        drop(fd);
        if let Some(e) = failed {
            return Err(e);
        }
        r.map_err(|e| sys_err(b"unable to read source directory ", dir, e))
    }

    fn read_service(
        &mut self,
        di: usize,
        dir: &[u8],
        name: &[u8],
        kind: FileType,
    ) -> Result<(), Error> {
        let mut p = PathBuf::join(dir, &[b"/", name]).map_err(|_| too_long(dir))?;
        let is_dir = match kind {
            FileType::Directory => true,
            FileType::Unknown | FileType::Symlink => sys::stat(p.as_cstr())
                .map(|s| s.kind == FileType::Directory)
                .unwrap_or(false),
            _ => false,
        };
        if !is_dir {
            return Ok(());
        }
        if !valid_name(name) {
            return Err(Error::new(&[
                b"invalid or too long service name (at most 128 bytes): ",
                p.as_bytes(),
            ]));
        }
        if self.n >= MAX_SERVICES {
            return Err(Error::new(&[
                b"too many services (capacity MAX_SERVICES = 4096) at ",
                p.as_bytes(),
            ]));
        }
        let base = p.len();
        let present = listing(&p)?;
        let mut buf = [0u8; MAX_FILE];
        let mut s = EMPTY;
        s.src = di as u16;
        s.name = self.add_text(name)?;

        let t = read_file(present, &mut p, base, b"/type", &mut buf)?
            .ok_or_else(|| Error::new(&[b"missing type file: ", p.as_bytes()]))?;
        s.kind = match trim(&buf[..t]) {
            b"oneshot" => Kind::Oneshot,
            b"longrun" => Kind::Longrun,
            b"bundle" => Kind::Bundle,
            _ => {
                return Err(Error::new(&[
                    b"bad type (want oneshot, longrun or bundle): ",
                    p.as_bytes(),
                ]));
            }
        };

        let (list, listd): (&[u8], &[u8]) = match s.kind {
            Kind::Bundle => (b"/contents", b"/contents.d"),
            _ => (b"/dependencies", b"/dependencies.d"),
        };
        let start = self.nrefs;
        // As s6-rc-compile: the `.d` directory, when there is one, and the
        // file is then ignored.
        s.deps_from_d = !absent(present, listd);
        if s.deps_from_d {
            self.read_names_d(present, &mut p, base, listd)?;
        } else {
            self.read_names(present, &mut p, base, list, &mut buf)?;
        }
        s.deps = Span {
            start: start as u32,
            len: (self.nrefs - start) as u32,
        };

        if s.kind != Kind::Bundle {
            s.timeout_up = read_ms(present, &mut p, base, b"/timeout-up", &mut buf)?;
            s.timeout_down = read_ms(present, &mut p, base, b"/timeout-down", &mut buf)?;
            if exists(present, &mut p, base, b"/flag-essential")? {
                s.flags |= db::F_ESSENTIAL;
            }
        }
        match s.kind {
            Kind::Oneshot => {
                s.up = self
                    .read_script(present, &mut p, base, b"/up", &mut buf)?
                    .ok_or_else(|| Error::new(&[b"oneshot without up script: ", p.as_bytes()]))?;
                if let Some(d) = self.read_script(present, &mut p, base, b"/down", &mut buf)? {
                    s.down = d;
                    s.flags |= db::F_HAS_DOWN;
                }
                if exists(present, &mut p, base, b"/data")? {
                    s.flags |= db::F_DATA;
                }
            }
            Kind::Longrun => {
                if !exists(present, &mut p, base, b"/run")? {
                    p.truncate(base);
                    // Fits: the same path with /run was just built by exists().
                    let _ = p.push(b"/run");
                    return Err(Error::new(&[
                        b"longrun without run: missing ",
                        p.as_bytes(),
                    ]));
                }
                if let Some(n) = read_file(present, &mut p, base, b"/notification-fd", &mut buf)? {
                    if parse_u64(trim(&buf[..n])).is_none_or(|v| v > 1 << 20) {
                        return Err(Error::new(&[b"malformed number in ", p.as_bytes()]));
                    }
                    s.flags |= db::F_NOTIFY;
                }
                // rinit's other readiness sources: wait for `U` as well.
                if exists(present, &mut p, base, b"/notify-socket")? || exists(present, &mut p, base, b"/check")? {
                    s.flags |= db::F_NOTIFY;
                }
                let st = self.nrefs;
                self.read_names(present, &mut p, base, b"/producer-for", &mut buf)?;
                s.producer_for = Span {
                    start: st as u32,
                    len: (self.nrefs - st) as u32,
                };
                if s.producer_for.len > 1 {
                    return Err(Error::new(&[
                        b"pipeline forks: producer-for names more than one service in ",
                        p.as_bytes(),
                    ]));
                }
                let st = self.nrefs;
                self.read_names(present, &mut p, base, b"/consumer-for", &mut buf)?;
                s.consumer_for = Span {
                    start: st as u32,
                    len: (self.nrefs - st) as u32,
                };
                if let Some(n) = read_file(present, &mut p, base, b"/pipeline-name", &mut buf)? {
                    let name = trim(&buf[..n]);
                    if !valid_name(name) {
                        return Err(Error::new(&[b"invalid pipeline name in ", p.as_bytes()]));
                    }
                    s.pipeline = self.add_text(name)?;
                }
            }
            Kind::Bundle => {}
        }
        self.svcs[self.n] = s;
        self.n += 1;
        Ok(())
    }

    /// Names one a line (blank lines and `#` lines skipped).
    fn read_names(
        &mut self,
        present: u32,
        p: &mut PathBuf,
        base: usize,
        file: &[u8],
        buf: &mut [u8],
    ) -> Result<(), Error> {
        let Some(n) = read_file(present, p, base, file, buf)? else {
            return Ok(());
        };
        let mut fname = Buf::<SHOWN_PATH_MAX>::new();
        fname.push(p.as_bytes()).mark_cut();
        for line in buf[..n].split(|&c| c == b'\n') {
            let l = trim(line);
            if l.is_empty() || l[0] == b'#' {
                continue;
            }
            self.add_ref(l, fname.as_bytes())?;
        }
        Ok(())
    }

    /// Names as the entries of a directory (`dependencies.d/`).
    fn read_names_d(
        &mut self,
        present: u32,
        p: &mut PathBuf,
        base: usize,
        dir: &[u8],
    ) -> Result<(), Error> {
        if absent(present, dir) {
            return Ok(());
        }
        p.truncate(base);
        if p.push(dir).is_err() {
            return Err(too_long(p.as_bytes()));
        }
        let fd = match sys::open_dir(p.as_cstr()) {
            Ok(fd) => fd,
            Err(errno::ENOENT) => return Ok(()),
            Err(e) => return Err(sys_err(b"unable to open ", p.as_bytes(), e)),
        };
        let mut fname = Buf::<SHOWN_PATH_MAX>::new();
        fname.push(p.as_bytes()).mark_cut();
        let mut failed = None;
        let r = sys::read_dir(fd.fd(), &mut |name, _, _| {
            let n = name.to_bytes();
            if failed.is_none()
                && n.first() != Some(&b'.')
                && let Err(e) = self.add_ref(n, fname.as_bytes())
            {
                failed = Some(e);
            }
        });
        drop(fd);
        if let Some(e) = failed {
            return Err(e);
        }
        r.map_err(|e| sys_err(b"unable to read ", fname.as_bytes(), e))
    }

    fn read_script(
        &mut self,
        present: u32,
        p: &mut PathBuf,
        base: usize,
        file: &[u8],
        buf: &mut [u8],
    ) -> Result<Option<Span>, Error> {
        let Some(n) = read_file(present, p, base, file, buf)? else {
            return Ok(None);
        };
        let start = self.text_len;
        let room = &mut self.text[start..];
        match execline::tokenize(&buf[..n], room) {
            Ok((_, words)) if words > execline::MAX_WORDS => Err(Error::new(&[
                b"too many words (capacity MAX_WORDS = 1024) in ",
                p.as_bytes(),
            ])),
            Ok((len, _)) => {
                self.text_len += len;
                Ok(Some(Span {
                    start: start as u32,
                    len: len as u32,
                }))
            }
            // An empty (or all-comment) `down` has nothing to run.
            Err(execline::Error::Empty) if file == b"/down" => Ok(None),
            Err(execline::Error::TooLong) => Err(Error::new(&[
                b"too much text in the source (capacity MAX_TEXT = 4 MiB) at ",
                p.as_bytes(),
            ])),
            Err(e) => Err(Error::new(&[
                b"bad execline script: ",
                e.text(),
                b" in ",
                p.as_bytes(),
            ])),
        }
    }
}

/// The files a service directory may hold that the compiler reads; one
/// listing of the directory tells which exist, which saves a failed open
/// for each missing one.
const KNOWN: &[&[u8]] = &[
    b"/type",
    b"/dependencies",
    b"/dependencies.d",
    b"/contents",
    b"/contents.d",
    b"/timeout-up",
    b"/timeout-down",
    b"/flag-essential",
    b"/up",
    b"/down",
    b"/run",
    b"/notification-fd",
    b"/producer-for",
    b"/consumer-for",
    b"/pipeline-name",
    b"/data",
    b"/notify-socket",
    b"/check",
];

fn bit(file: &[u8]) -> u32 {
    KNOWN
        .iter()
        .position(|&k| k == file)
        .map(|i| 1 << i)
        .unwrap_or(0)
}

/// Is `file` known to be missing from the listing `present`?
fn absent(present: u32, file: &[u8]) -> bool {
    let b = bit(file);
    b != 0 && present & b == 0
}

/// Which of `KNOWN` the directory `p` holds.
fn listing(p: &PathBuf) -> Result<u32, Error> {
    let fd =
        sys::open_dir(p.as_cstr()).map_err(|e| sys_err(b"unable to open ", p.as_bytes(), e))?;
    let mut present = 0u32;
    let r = sys::read_dir(fd.fd(), &mut |name, _, _| {
        let n = name.to_bytes();
        present |= KNOWN
            .iter()
            .position(|k| k.get(1..) == Some(n))
            .map(|i| 1 << i)
            .unwrap_or(0);
    });
    drop(fd);
    r.map_err(|e| sys_err(b"unable to read ", p.as_bytes(), e))?;
    Ok(present)
}

fn cut(n: &[u8]) -> &[u8] {
    &n[..n.len().min(MAX_NAME + 8)]
}

/// A path that `base::path::PATH_MAX` cannot hold.
fn too_long(path: &[u8]) -> Error {
    Error::new(&[b"unable to use path ", path, b": File name too long"])
}

fn sys_err(what: &[u8], file: &[u8], e: sys::Errno) -> Error {
    Error::new(&[what, file, b": ", base::err::strerror(e)])
}

/// Reads `base + file` into buf; None when absent. Leaves `p` naming the file.
fn read_file(
    present: u32,
    p: &mut PathBuf,
    base: usize,
    file: &[u8],
    buf: &mut [u8],
) -> Result<Option<usize>, Error> {
    if absent(present, file) {
        return Ok(None);
    }
    p.truncate(base);
    if p.push(file).is_err() {
        return Err(too_long(p.as_bytes()));
    }
    match sys::read_file(p.as_cstr(), buf) {
        Ok(s) => Ok(Some(s.len())),
        Err(errno::ENOENT) => Ok(None),
        Err(errno::EOVERFLOW) => Err(Error::new(&[
            b"file too large (capacity MAX_FILE = 64 KiB): ",
            p.as_bytes(),
        ])),
        Err(e) => Err(sys_err(b"unable to read ", p.as_bytes(), e)),
    }
}

fn exists(present: u32, p: &mut PathBuf, base: usize, file: &[u8]) -> Result<bool, Error> {
    if absent(present, file) {
        return Ok(false);
    }
    p.truncate(base);
    if p.push(file).is_err() {
        return Err(too_long(p.as_bytes()));
    }
    match sys::stat(p.as_cstr()) {
        Ok(_) => Ok(true),
        Err(errno::ENOENT) => Ok(false),
        Err(e) => Err(sys_err(b"unable to stat ", p.as_bytes(), e)),
    }
}

/// A millisecond count (u32); absent = 0 (no timeout).
fn read_ms(
    present: u32,
    p: &mut PathBuf,
    base: usize,
    file: &[u8],
    buf: &mut [u8],
) -> Result<u32, Error> {
    match read_file(present, p, base, file, buf)? {
        None => Ok(0),
        Some(n) => match parse_u64(trim(&buf[..n])) {
            Some(v) if v <= u32::MAX as u64 => Ok(v as u32),
            _ => Err(Error::new(&[b"malformed number in ", p.as_bytes()])),
        },
    }
}
