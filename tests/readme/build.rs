//! Extracts the README's Rust blocks marked `<!-- readme-test -->` (the line
//! before the fence) into `$OUT_DIR/snippets.rs`: one function per block, run by
//! `tests/readme.rs`. A block is written as a reader would paste it into a
//! `main` returning `Result<(), Box<dyn Error>>`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README.md next to the workspace root");
    let mut out = String::from(
        "/// What a README block is pasted into.\ntype Snippet = fn() -> Result<(), Box<dyn std::error::Error>>;\n",
    );
    let mut blocks = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let marked = lines[i].trim() == "<!-- readme-test -->";
        let fence = lines.get(i + 1).map(|l| l.trim_start());
        if marked && fence.is_some_and(|f| f.starts_with("```rust")) {
            let start = i + 2;
            let end = (start..lines.len()).find(|&j| lines[j].trim_start().starts_with("```")).expect("a closed fence");
            blocks.push((start, lines[start..end].join("\n")));
            i = end;
        }
        i += 1;
    }
    for (n, (line, body)) in blocks.iter().enumerate() {
        let _ = writeln!(
            out,
            "#[allow(unused_imports, clippy::all, clippy::print_stdout)]\nfn snippet_{n}() -> Result<(), Box<dyn std::error::Error>> {{\n\
             // README.md line {line}\n{body}\n#[allow(unreachable_code)]\nOk(())\n}}\n"
        );
    }
    let _ = writeln!(
        out,
        "/// The README's runnable Rust blocks: (line of the block, function).\nconst SNIPPETS: &[(usize, Snippet)] = &["
    );
    for (n, (line, _)) in blocks.iter().enumerate() {
        let _ = writeln!(out, "    ({line}, snippet_{n}),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("snippets.rs");
    std::fs::write(dest, out).expect("write snippets.rs");
}
