//! The dependency graph in Graphviz's DOT language (`rinit-rc-db graph`):
//! longruns, oneshots and bundles drawn differently, essential services
//! with a double border, an arrow from each service to what it depends on,
//! dashed arrows from a bundle to what it contains, bold green arrows
//! along pipes, and each named pipeline in a box. Services in database
//! order and lists in their order: the same database, the same bytes.

use crate::db::{Db, F_ESSENTIAL, Kind};
use base::out::Out;

/// Marks in `pick` the services named and everything they depend on (a
/// bundle: what it contains); Err(name) for an unknown name. No names: all.
pub fn select<'n>(
    db: &Db,
    names: &mut dyn Iterator<Item = &'n [u8]>,
    pick: &mut [u8],
    stack: &mut [u32],
) -> Result<(), &'n [u8]> {
    let mut top = 0usize;
    let mut any = false;
    for name in names {
        let s = db.find(name).ok_or(name)?;
        any = true;
        push(pick, stack, &mut top, s.index);
    }
    if !any {
        for i in 0..db.len() as u32 {
            push(pick, stack, &mut top, i);
        }
    }
    while top > 0 {
        top -= 1;
        let s = db.svc(stack.get(top).copied().unwrap_or(0));
        for d in s.deps().iter() {
            push(pick, stack, &mut top, d);
        }
    }
    Ok(())
}

/// Marks `i` and stacks it, once.
fn push(pick: &mut [u8], stack: &mut [u32], top: &mut usize, i: u32) {
    if let Some(m) = pick.get_mut(i as usize)
        && *m == 0
    {
        *m = 1;
        if let Some(x) = stack.get_mut(*top) {
            *x = i;
            *top += 1;
        }
    }
}

fn picked(pick: &[u8], i: u32) -> bool {
    pick.get(i as usize) == Some(&1)
}

/// Writes the graph of the services marked in `pick`; `stack` is scratch.
pub fn write(db: &Db, pick: &[u8], stack: &mut [u32], out: &mut Out) {
    out.push(b"digraph \"rinit-rc\" {\n")
        .push(b"  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10, shape=box];\n")
        .push(b"  edge [color=\"#555555\"];\n");
    let all = (0..db.len() as u32).filter(|&i| picked(pick, i));
    for i in all.clone() {
        let s = db.svc(i);
        out.push(b"  ");
        id(out, s.name());
        out.push(match s.kind() {
            Kind::Longrun => b" [style=\"rounded,filled\", fillcolor=\"#cfe3ff\"" as &[u8],
            Kind::Oneshot => b" [style=filled, fillcolor=\"#fff0c2\"",
            Kind::Bundle => b" [shape=folder, style=filled, fillcolor=\"#e8e8e8\"",
        });
        if s.flags() & F_ESSENTIAL != 0 {
            out.push(b", peripheries=2, penwidth=1.5");
        }
        out.push(b"];\n");
    }
    for i in all.clone() {
        let s = db.svc(i);
        let bundle = s.kind() == Kind::Bundle;
        // A producer depends on its consumer: the pipe's arrow says it.
        let pipe = s.producer_for();
        for d in s.deps().iter().filter(|&d| picked(pick, d) && Some(d) != pipe) {
            edge(out, s.name(), db.svc(d).name(), if bundle { b" [style=dashed, arrowhead=empty]" } else { b"" });
        }
        if let Some(c) = pipe.filter(|&c| picked(pick, c)) {
            edge(out, s.name(), db.svc(c).name(), b" [color=\"#2e7d32\", penwidth=2, style=bold]");
        }
    }
    for i in all {
        let s = db.svc(i);
        if let Some(p) = s.pipeline_name() {
            pipeline(db, i, p, pick, stack, out);
        }
    }
    out.push(b"}\n");
}

/// The box around a pipeline: its last consumer `last` and, back along
/// the pipes, every producer feeding it.
fn pipeline(db: &Db, last: u32, name: &[u8], pick: &[u8], stack: &mut [u32], out: &mut Out) {
    out.push(b"  subgraph ");
    let mut cluster = base::fmt::Buf::<300>::new();
    cluster.push(b"cluster_").push(name);
    id(out, cluster.as_bytes());
    out.push(b" {\n    label=");
    id(out, name);
    out.push(b";\n    style=dashed;\n    color=\"#2e7d32\";\n");
    let mut top = 0usize;
    if let Some(x) = stack.get_mut(0) {
        *x = last;
        top = 1;
    }
    // A pipeline is a tree of funnels: walking it back meets each once.
    let mut steps = 0;
    while top > 0 && steps <= db.len() {
        top -= 1;
        steps += 1;
        let s = db.svc(stack.get(top).copied().unwrap_or(0));
        if picked(pick, s.index) {
            out.push(b"    ");
            id(out, s.name());
            out.push(b";\n");
        }
        for p in s.consumer_for().iter() {
            if let Some(x) = stack.get_mut(top) {
                *x = p;
                top += 1;
            }
        }
    }
    out.push(b"  }\n");
}

fn edge(out: &mut Out, from: &[u8], to: &[u8], attrs: &[u8]) {
    out.push(b"  ");
    id(out, from);
    out.push(b" -> ");
    id(out, to);
    out.push(attrs).push(b";\n");
}

/// A DOT identifier: quoted, quotes and backslashes escaped.
fn id(out: &mut Out, name: &[u8]) {
    out.byte(b'"');
    for part in name.split_inclusive(|&c| c == b'"' || c == b'\\') {
        match part.split_last() {
            Some((&c, head)) if c == b'"' || c == b'\\' => {
                out.push(head).byte(b'\\').byte(c);
            }
            _ => {
                out.push(part);
            }
        }
    }
    out.byte(b'"');
}
