//! The README's size block, between `<!-- size-report begin -->` and
//! `<!-- size-report end -->`: written by this tool only, and checked
//! against what it prints (CI fails when they differ).

use std::path::Path;

const BEGIN: &str = "<!-- size-report begin -->\n";
const END: &str = "<!-- size-report end -->";
const FENCE: &str = "```\n";

/// The block for `table`, stamped with `when` (a UTC date and time).
pub fn block(table: &str, when: &str) -> String {
    format!("{BEGIN}As measured on {when} (`cargo run --release -p size-report -- --no-build --write-readme`):\n\n{FENCE}{table}{FENCE}{END}")
}

/// Byte range of the block in `text`, markers included.
fn find(text: &str) -> Result<(usize, usize), String> {
    let a = text.find(BEGIN).ok_or("no `<!-- size-report begin -->` line")?;
    let b = text[a..].find(END).ok_or("no `<!-- size-report end -->` after the begin line")? + a + END.len();
    Ok((a, b))
}

/// The table inside the README's block.
fn table_in(text: &str) -> Result<&str, String> {
    let (a, b) = find(text)?;
    let block = &text[a..b];
    let t = block.find(FENCE).ok_or("no ``` in the size block")? + FENCE.len();
    let e = block[t..].find(FENCE).ok_or("no closing ``` in the size block")? + t;
    Ok(&block[t..e])
}

/// `text` with its block replaced.
pub fn replaced(text: &str, table: &str, when: &str) -> Result<String, String> {
    let (a, b) = find(text)?;
    Ok(format!("{}{}{}", &text[..a], block(table, when), &text[b..]))
}

/// None when the README's table is `table`; else the first line that
/// differs. The first line (`size report of DIR`) is not compared: the
/// directory depends on where the tree is built.
pub fn differs(text: &str, table: &str) -> Result<Option<String>, String> {
    let body = |t: &'_ str| -> String { t.split_once('\n').map_or("", |(_, b)| b).to_string() };
    let (have, table) = (body(table_in(text)?), body(table));
    let (have, table) = (have.as_str(), table.as_str());
    if have == table {
        return Ok(None);
    }
    let mut have_lines = have.lines();
    for want in table.lines() {
        match have_lines.next() {
            Some(h) if h == want => {}
            Some(h) => return Ok(Some(format!("README: {h}\n  report: {want}"))),
            None => return Ok(Some(format!("README: (end of table)\n  report: {want}"))),
        }
    }
    Ok(Some(format!("README: {}\n  report: (end of table)", have_lines.next().unwrap_or(""))))
}

pub fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("unable to read {}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "intro\n<!-- size-report begin -->\nold words\n\n```\nsize report of x\nold 1\n```\n<!-- size-report end -->\nafter\n";

    #[test]
    fn the_block_is_replaced_and_the_rest_kept() {
        let new = replaced(README, "size report of x\nnew 2\n", "2026-01-01 at 00:00 UTC").unwrap();
        assert!(new.starts_with("intro\n<!-- size-report begin -->\nAs measured on 2026-01-01 at 00:00 UTC"));
        assert!(new.ends_with("```\nsize report of x\nnew 2\n```\n<!-- size-report end -->\nafter\n"));
        assert_eq!(differs(&new, "size report of x\nnew 2\n").unwrap(), None);
    }

    #[test]
    fn a_stale_table_is_named_by_its_first_differing_line() {
        let d = differs(README, "size report of x\nnew 2\n").unwrap().unwrap();
        assert_eq!(d, "README: old 1\n  report: new 2");
        assert!(differs("no block", "t\n").is_err());
    }
}
