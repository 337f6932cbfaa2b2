//! From the services as read to a checked graph: names sorted (so the
//! output is the same whatever the directory order), duplicates refused,
//! names resolved, bundles expanded to atomic services, pipelines checked,
//! dependency cycles found with their whole path.

use crate::db::{self, Kind, NONE, SvcIn};
use crate::source::{Error, F_PIPELINE_BUNDLE, MAX_REFS, MAX_SERVICES, Source, Span};
use base::fmt::Buf;

/// Entries of all expanded lists together (dependencies, bundle contents,
/// consumer lists).
pub const MAX_ATOMS: usize = 1 << 20;

/// The fixed tables of the graph stage (zero-initialised: a static in .bss).
pub struct Graph {
    /// Service index of each ref of `Source::refs`.
    pub resolved: [u32; MAX_REFS],
    /// Direct atomic dependencies (for a bundle: expanded contents), in `atoms`.
    pub deps: [Span; MAX_SERVICES],
    /// Producers feeding each consumer, in `atoms`.
    pub consumers: [Span; MAX_SERVICES],
    /// The service each one feeds (`producer-for`), NONE when none.
    pub producer: [u32; MAX_SERVICES],
    pub atoms: [u32; MAX_ATOMS],
    pub natoms: usize,
    mark: [u32; MAX_SERVICES],
    stamp: u32,
    state: [u8; MAX_SERVICES],
    stack: [u32; MAX_SERVICES],
    edge: [u32; MAX_SERVICES],
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl Graph {
    pub const fn new() -> Graph {
        Graph {
            resolved: [0; MAX_REFS],
            deps: [Span { start: 0, len: 0 }; MAX_SERVICES],
            consumers: [Span { start: 0, len: 0 }; MAX_SERVICES],
            producer: [0; MAX_SERVICES],
            atoms: [0; MAX_ATOMS],
            natoms: 0,
            mark: [0; MAX_SERVICES],
            stamp: 0,
            state: [0; MAX_SERVICES],
            stack: [0; MAX_SERVICES],
            edge: [0; MAX_SERVICES],
        }
    }

    pub fn list(&self, s: Span) -> &[u32] {
        self.atoms.get(s.range()).unwrap_or(&[])
    }

    fn atom(&self, i: usize) -> u32 {
        self.atoms.get(i).copied().unwrap_or(NONE)
    }

    fn begin_set(&mut self) -> usize {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark = [0; MAX_SERVICES];
            self.stamp = 1;
        }
        self.natoms
    }

    /// Adds `x` to the set being built unless already there.
    fn add(&mut self, x: u32) -> Result<(), Error> {
        let Some(m) = self.mark.get_mut(x as usize) else {
            return Ok(());
        };
        if *m == self.stamp {
            return Ok(());
        }
        *m = self.stamp;
        let Some(slot) = self.atoms.get_mut(self.natoms) else {
            return Err(Error::new(&[
                b"expanded dependency lists too large (capacity MAX_ATOMS = 1048576)",
            ]));
        };
        *slot = x;
        self.natoms += 1;
        Ok(())
    }

    fn end_set(&mut self, start: usize) -> Span {
        if let Some(s) = self.atoms.get_mut(start..self.natoms) {
            heapsort(s, &|a, b| a < b);
        }
        Span {
            start: start as u32,
            len: (self.natoms - start) as u32,
        }
    }
}

/// In-place heapsort: O(n log n), no allocation, and a fraction of the
/// code of core's sort (the compiler's size budget is 32 KiB).
pub fn heapsort<T>(v: &mut [T], less: &dyn Fn(&T, &T) -> bool) {
    let n = v.len();
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    for i in (0..n / 2).rev() {
        sift(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

fn kind(src: &Source, i: u32) -> Kind {
    src.svcs
        .get(i as usize)
        .map(|s| s.kind)
        .unwrap_or(Kind::Bundle)
}

fn find(src: &Source, name: &[u8]) -> Option<u32> {
    let (mut lo, mut hi) = (0usize, src.n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match src.name(mid).cmp(name) {
            core::cmp::Ordering::Equal => return Some(mid as u32),
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
        }
    }
    None
}

/// Sorts, resolves, expands and checks. On success `g` describes every
/// service of `src` (in sorted order) for `svc_in`.
pub fn build(src: &mut Source, g: &mut Graph) -> Result<(), Error> {
    src.add_pipeline_bundles()?;
    let n = src.n;
    {
        let (svcs, text) = (&mut src.svcs, &src.text);
        let name = |s: &crate::source::SrcSvc| text.get(s.name.range()).unwrap_or(b"");
        if let Some(v) = svcs.get_mut(..n) {
            heapsort(v, &|a, b| name(a) < name(b));
        }
    }
    for i in 1..n {
        if src.name(i - 1) == src.name(i) {
            return Err(Error::new(&[
                b"duplicate service name ",
                src.name(i),
                b": ",
                src.file_of(i - 1, b"").as_bytes(),
                b" and ",
                src.file_of(i, b"").as_bytes(),
            ]));
        }
    }
    resolve(src, g)?;
    for i in 0..n {
        g.state[i] = 0;
        g.producer[i] = NONE;
    }
    pipelines(src, g)?;
    pipeline_bundles(src, g)?;
    for i in 0..n {
        if src.svcs[i].kind == Kind::Bundle && g.state[i] == 0 {
            expand_bundle(src, g, i as u32, 0)?;
        }
    }
    for i in 0..n {
        if src.svcs[i].kind == Kind::Bundle {
            continue;
        }
        let start = g.begin_set();
        add_expanded(src, g, src.svcs[i].deps)?;
        // A producer needs its consumer up first, so nothing it writes is lost.
        if g.producer[i] != NONE {
            g.add(g.producer[i])?;
        }
        g.deps[i] = g.end_set(start);
    }
    find_cycle(src, g)
}

fn resolve(src: &Source, g: &mut Graph) -> Result<(), Error> {
    for i in 0..src.n {
        let s = &src.svcs[i];
        for (span, file) in [
            (s.deps, &b""[..]),
            (s.producer_for, b"producer-for"),
            (s.consumer_for, b"consumer-for"),
        ] {
            for r in span.range() {
                let name = src.text(src.refs[r]);
                match find(src, name) {
                    Some(x) => g.resolved[r] = x,
                    None => {
                        // A name from `contents.d/` is a file of its own.
                        let f = if file.is_empty() { src.deps_file(i, name) } else { src.file_of(i, file) };
                        return Err(Error::new(&[b"unknown service name ", name, b" in ", f.as_bytes()]));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Adds the services named by the refs in `refs` to the set being built,
/// a bundle as its (already expanded) atomic contents.
fn add_expanded(src: &Source, g: &mut Graph, refs: Span) -> Result<(), Error> {
    for r in refs.range() {
        let c = g.resolved.get(r).copied().unwrap_or(NONE);
        if kind(src, c) == Kind::Bundle {
            for k in g.deps.get(c as usize).map_or(0..0, |sp| sp.range()) {
                let a = g.atom(k);
                g.add(a)?;
            }
        } else {
            g.add(c)?;
        }
    }
    Ok(())
}

/// Bytes of a cycle's path (`a -> b -> a`) shown in its message; a longer
/// one is cut, ending in `...`.
pub const CYCLE_TEXT_MAX: usize = 900;

/// The cycle that `last` closes among the first `depth` entries of the
/// stack, as `a -> b -> a`.
fn cycle_text(src: &Source, g: &Graph, depth: usize, last: u32) -> Buf<CYCLE_TEXT_MAX> {
    let on_stack = g.stack.get(..depth).unwrap_or(&[]);
    let from = on_stack.iter().position(|&x| x == last).unwrap_or(0);
    let mut b = Buf::new();
    for &k in on_stack.get(from..).unwrap_or(&[]) {
        b.push(src.name(k as usize)).push(b" -> ");
    }
    b.push(src.name(last as usize)).mark_cut();
    b
}

fn expand_bundle(src: &Source, g: &mut Graph, b: u32, depth: usize) -> Result<(), Error> {
    g.state[b as usize] = 1;
    g.stack[depth] = b;
    let span = src.svcs[b as usize].deps;
    for r in span.range() {
        let c = g.resolved[r];
        if kind(src, c) != Kind::Bundle {
            continue;
        }
        match g.state[c as usize] {
            1 => {
                let path = cycle_text(src, g, depth + 1, c);
                return Err(Error::new(&[
                    b"bundle ",
                    src.name(c as usize),
                    b" contains itself: ",
                    path.as_bytes(),
                    b" (see ",
                    src.deps_file(b as usize, src.name(c as usize)).as_bytes(),
                    b")",
                ]));
            }
            0 => expand_bundle(src, g, c, depth + 1)?,
            _ => {}
        }
    }
    let start = g.begin_set();
    add_expanded(src, g, span)?;
    g.deps[b as usize] = g.end_set(start);
    g.state[b as usize] = 2;
    Ok(())
}

fn pipelines(src: &Source, g: &mut Graph) -> Result<(), Error> {
    let n = src.n;
    for i in 0..n {
        let s = &src.svcs[i];
        for r in s.producer_for.range() {
            let p = g.resolved[r];
            if kind(src, p) != Kind::Longrun {
                return Err(Error::new(&[
                    b"producer-for names ",
                    src.name(p as usize),
                    b", which is not a longrun, in ",
                    src.file_of(i, b"producer-for").as_bytes(),
                ]));
            }
            g.producer[i] = p;
        }
    }
    // Each consumer's list must match the producers' producer-for, and a
    // producer may feed one consumer only.
    for i in 0..n {
        let s = src.svcs[i];
        let start = g.begin_set();
        for r in s.consumer_for.range() {
            let x = g.resolved[r];
            if g.producer.get(x as usize).copied() != Some(i as u32) {
                let other = g.producer.get(x as usize).copied().unwrap_or(NONE);
                if other != NONE && other != i as u32 {
                    return Err(Error::new(&[
                        b"pipeline forks: ",
                        src.name(x as usize),
                        b" feeds ",
                        src.name(other as usize),
                        b" but is also listed in ",
                        src.file_of(i, b"consumer-for").as_bytes(),
                    ]));
                }
                return Err(Error::new(&[
                    b"",
                    src.file_of(i, b"consumer-for").as_bytes(),
                    b" names ",
                    src.name(x as usize),
                    b", whose producer-for does not name ",
                    src.name(i),
                ]));
            }
            g.add(x)?;
        }
        g.consumers[i] = g.end_set(start);
    }
    for i in 0..n {
        let p = g.producer[i];
        if p == NONE {
            continue;
        }
        if !g.list(g.consumers[p as usize]).contains(&(i as u32)) {
            return Err(Error::new(&[
                b"",
                src.file_of(i, b"producer-for").as_bytes(),
                b" names ",
                src.name(p as usize),
                b", whose consumer-for does not name ",
                src.name(i),
            ]));
        }
    }
    // Loops: follow producer-for from every service.
    for i in 0..n {
        g.begin_set();
        let mut depth = 0usize;
        let mut x = i as u32;
        while x != NONE {
            if g.mark[x as usize] == g.stamp {
                let path = cycle_text(src, g, depth, x);
                return Err(Error::new(&[
                    b"pipeline loops: ",
                    path.as_bytes(),
                    b" (see ",
                    src.file_of(x as usize, b"producer-for").as_bytes(),
                    b")",
                ]));
            }
            g.mark[x as usize] = g.stamp;
            if depth >= MAX_SERVICES {
                break;
            }
            g.stack[depth] = x;
            depth += 1;
            x = g.producer[x as usize];
        }
    }
    Ok(())
}

/// The contents of each pipeline's bundle: its last consumer and every
/// service whose `producer-for` chain leads there (funnels included).
fn pipeline_bundles(src: &Source, g: &mut Graph) -> Result<(), Error> {
    for b in 0..src.n {
        if src.svcs[b].flags & F_PIPELINE_BUNDLE == 0 {
            continue;
        }
        let Some(last) = find(src, src.text(src.svcs[b].pipeline)) else {
            continue;
        };
        let start = g.begin_set();
        for i in 0..src.n {
            // Chains are loop-free (checked by `pipelines`) and at most n long.
            let mut x = i as u32;
            let mut steps = 0;
            while x != NONE && x != last && steps < src.n {
                x = g.producer.get(x as usize).copied().unwrap_or(NONE);
                steps += 1;
            }
            if x == last {
                g.add(i as u32)?;
            }
        }
        g.deps[b] = g.end_set(start);
        g.state[b] = 2;
    }
    Ok(())
}

fn find_cycle(src: &Source, g: &mut Graph) -> Result<(), Error> {
    let n = src.n;
    for i in 0..n {
        g.state[i] = 0;
    }
    for root in 0..n {
        if src.svcs[root].kind == Kind::Bundle || g.state[root] != 0 {
            continue;
        }
        let mut depth = 1usize;
        g.stack[0] = root as u32;
        g.state[root] = 1;
        g.edge[root] = 0;
        while depth > 0 {
            let v = g.stack[depth - 1] as usize;
            let sp = g.deps[v];
            let e = g.edge[v] as usize;
            if e < sp.len as usize {
                g.edge[v] += 1;
                let w = g.atom(sp.start as usize + e);
                let Some(&st) = g.state.get(w as usize) else {
                    continue;
                };
                if st == 1 {
                    let path = cycle_text(src, g, depth, w);
                    return Err(Error::new(&[
                        b"dependency cycle: ",
                        path.as_bytes(),
                        b" (see ",
                        src.deps_file(v, b"").as_bytes(),
                        b")",
                    ]));
                }
                if st == 0 {
                    g.state[w as usize] = 1;
                    g.edge[w as usize] = 0;
                    g.stack[depth] = w;
                    depth += 1;
                }
            } else {
                g.state[v] = 2;
                depth -= 1;
            }
        }
    }
    Ok(())
}

/// Service i as the database writer wants it.
pub fn svc_in<'a>(src: &'a Source, g: &'a Graph, i: usize) -> SvcIn<'a> {
    let s = &src.svcs[i.min(MAX_SERVICES - 1)];
    SvcIn {
        kind: s.kind,
        flags: s.flags & !F_PIPELINE_BUNDLE,
        name: src.text(s.name),
        timeout_up: s.timeout_up,
        timeout_down: s.timeout_down,
        deps: g.list(g.deps[i.min(MAX_SERVICES - 1)]),
        up: src.text(s.up),
        down: src.text(s.down),
        producer_for: g.producer.get(i).copied().unwrap_or(NONE),
        consumer_for: g.list(g.consumers[i.min(MAX_SERVICES - 1)]),
        pipeline_name: if s.flags & F_PIPELINE_BUNDLE != 0 {
            b""
        } else {
            src.text(s.pipeline)
        },
    }
}

/// Writes the database of a built graph into `out`; returns its length.
pub fn write_db(src: &Source, g: &mut Graph, out: &mut [u8]) -> Result<usize, db::WriteError> {
    let n = src.n;
    // The writer's scratch: the cycle-search stack is free again by now.
    let mut rcount = core::mem::replace(&mut g.edge, [0; MAX_SERVICES]);
    let r = {
        let gg: &Graph = g;
        db::write(n, &|i| svc_in(src, gg, i), &mut rcount, out)
    };
    g.edge = rcount;
    r
}

#[cfg(test)]
mod tests {
    use super::heapsort;

    #[test]
    fn heapsort_sorts_like_std() {
        let mut seed = 99u64;
        for len in 0..200 {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut w = v.clone();
            w.sort();
            heapsort(&mut v, &|a, b| a < b);
            assert_eq!(v, w);
        }
    }
}
