//! budgets.txt: one `binary bytes` pair a line; `#` starts a comment.

use std::path::Path;

/// The budgets in file order; a malformed line is an error naming it.
pub fn read(p: &Path) -> Result<Vec<(String, u64)>, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("unable to read {}: {e}", p.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", p.display()))
}

pub fn parse(text: &str) -> Result<Vec<(String, u64)>, String> {
    let mut v: Vec<(String, u64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let mut w = line.split_whitespace();
        let Some(name) = w.next() else { continue };
        let bytes = w
            .next()
            .and_then(|b| b.parse::<u64>().ok())
            .ok_or_else(|| format!("line {}: expected `binary bytes`", i + 1))?;
        if w.next().is_some() {
            return Err(format!("line {}: expected `binary bytes`", i + 1));
        }
        if v.iter().any(|(n, _)| n == name) {
            return Err(format!("line {}: {name} has two budgets", i + 1));
        }
        v.push((name.to_string(), bytes));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_pairs_and_skips_comments() {
        let b = parse("# c\nrinit-svc 8192 # tools\n\nrinit 12288\n").unwrap();
        assert_eq!(b, vec![("rinit-svc".into(), 8192), ("rinit".into(), 12288)]);
    }

    #[test]
    fn names_the_bad_line() {
        assert_eq!(parse("a 1\nb x\n").unwrap_err(), "line 2: expected `binary bytes`");
        assert!(parse("a 1\na 2\n").unwrap_err().contains("two budgets"));
    }
}
