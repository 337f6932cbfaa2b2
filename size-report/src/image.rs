//! The minimal image (minimal-image.txt: one program a line, `#` starts a
//! comment): its programs' sizes and their total, and the block of a
//! document between `<!-- minimal-image begin -->` and `<!-- ... end -->`
//! that shows them.

use std::path::Path;

const BEGIN: &str = "<!-- minimal-image begin -->";
const END: &str = "<!-- minimal-image end -->";

pub fn read(p: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("unable to read {}: {e}", p.display()))?;
    Ok(text.lines().filter_map(|l| l.split('#').next()?.split_whitespace().next()).map(String::from).collect())
}

/// The table: one `program bytes` line each, then the total; None (with the
/// missing program's name) when one was not built.
pub fn table(programs: &[String], size: impl Fn(&str) -> Option<u64>) -> Result<String, String> {
    let w = programs.iter().map(|p| p.len()).max().unwrap_or(0).max(5);
    let mut out = String::new();
    let mut total = 0;
    for p in programs {
        let b = size(p).ok_or_else(|| format!("{p} of the minimal image is not built"))?;
        total += b;
        out += &format!("{p:<w$}  {b:>7}\n");
    }
    out += &format!("{:<w$}  {total:>7}  ({} programs, {:.1} KiB)\n", "total", programs.len(), total as f64 / 1024.0);
    Ok(out)
}

/// `doc` with the text between the markers replaced by `block`; an error
/// when the markers are missing or out of order.
pub fn replace_block(doc: &str, block: &str) -> Result<String, String> {
    let b = doc.find(BEGIN).ok_or(format!("no {BEGIN} line"))?;
    let e = doc.find(END).filter(|&e| e > b).ok_or(format!("no {END} line after {BEGIN}"))?;
    Ok(format!("{}{BEGIN}\n{block}{}", &doc[..b], &doc[e..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_the_programs_and_names_a_missing_one() {
        let p = vec!["rinit".to_string(), "rinit-scan".to_string()];
        let t = table(&p, |n| Some(if n == "rinit" { 1000 } else { 2072 })).unwrap();
        assert!(t.ends_with("total          3072  (2 programs, 3.0 KiB)\n"), "{t}");
        assert_eq!(table(&p, |_| None).unwrap_err(), "rinit of the minimal image is not built");
    }

    #[test]
    fn replaces_only_the_marked_block() {
        let doc = format!("a\n{BEGIN}\nold\n{END}\nb\n");
        assert_eq!(replace_block(&doc, "new\n").unwrap(), format!("a\n{BEGIN}\nnew\n{END}\nb\n"));
        assert!(replace_block("a\n", "x").is_err());
        assert!(replace_block(&format!("{END}\n{BEGIN}\n"), "x").is_err());
    }
}
