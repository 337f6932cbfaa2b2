//! The README's figures are written by the benchmark that measures them,
//! between `<!-- NAME begin -->` and `<!-- NAME end -->`, never by hand.

use std::fs;
use std::path::Path;

/// Replaces the README's NAME block with a dated `body`.
pub fn rewrite(name: &str, body: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = fs::read_to_string(&path).expect("read README.md");
    let (b, e) = (format!("<!-- {name} begin -->\n"), format!("<!-- {name} end -->"));
    let (Some(i), Some(j)) = (text.find(&b), text.find(&e)) else {
        eprintln!("README.md has no {name} markers: not rewritten");
        return;
    };
    let when = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d at %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let new = format!(
        "{}{b}As measured on {when} (a 2-core VM shared with other work, so the figures move by tens of percent between runs; the ratios in one run are the fair comparison):\n\n{body}{}",
        &text[..i],
        &text[j..]
    );
    fs::write(&path, new).expect("write README.md");
    println!("README.md: {name} section rewritten");
}
