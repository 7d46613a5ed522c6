//! `cargo xtask bench-report`: runs the encryption and rotation benchmarks
//! and rewrites the README's tables from what they print.
//!
//! | bench | command (through `./dev`) | README markers |
//! | --- | --- | --- |
//! | encryption | `cargo bench -p heliosdb-core --bench encryption -- --quick-table` | `<!-- bench-table:start -->` … `<!-- bench-table:end -->` |
//! | rotation | `cargo bench -p heliosdb-core --bench rotation` | `<!-- rotation-table:start -->` … `<!-- rotation-table:end -->` |
//!
//! The table is every line of the bench's standard output that starts with
//! `|`. Both benches run before the README is touched, and it is written
//! once, so a failing bench leaves it as it was. [`replace_between_markers`]
//! is the rewrite, a pure function.

use std::process::{ExitCode, Stdio};

use anyhow::{bail, Context, Result};

use crate::util;

/// One benchmark and the README region it fills.
struct Bench {
    name: &'static str,
    args: &'static [&'static str],
    start: &'static str,
    end: &'static str,
}

const BENCHES: [Bench; 2] = [
    Bench {
        name: "encryption",
        args: &[
            "bench",
            "-p",
            "heliosdb-core",
            "--bench",
            "encryption",
            "--",
            "--quick-table",
        ],
        start: "<!-- bench-table:start -->",
        end: "<!-- bench-table:end -->",
    },
    Bench {
        name: "rotation",
        args: &["bench", "-p", "heliosdb-core", "--bench", "rotation"],
        start: "<!-- rotation-table:start -->",
        end: "<!-- rotation-table:end -->",
    },
];

/// Runs `cargo xtask bench-report`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    if let Some(arg) = args.first() {
        bail!("bench-report takes no arguments, got {arg:?}");
    }
    let root = crate::workspace_root();
    let readme_path = root.join("README.md");
    let mut readme = std::fs::read_to_string(&readme_path).context("reading README.md")?;
    // Fail on missing markers before spending minutes on benchmarks.
    for bench in &BENCHES {
        replace_between_markers(&readme, bench.start, bench.end, &[])
            .with_context(|| format!("README.md, {} table", bench.name))?;
    }

    let mut tables = Vec::new();
    for bench in &BENCHES {
        let mut cmd = util::dev_cargo(&root, bench.args);
        cmd.stdin(Stdio::null()).stderr(Stdio::inherit());
        println!("==> {}", util::describe(&cmd));
        let out = cmd
            .output()
            .with_context(|| format!("could not start the {} bench", bench.name))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        if !out.status.success() {
            bail!("the {} bench failed ({})", bench.name, out.status);
        }
        let lines = table_lines(&stdout);
        if lines.len() < 3 {
            bail!(
                "the {} bench printed no Markdown table (lines starting with `|`)",
                bench.name
            );
        }
        tables.push(lines);
    }

    for (bench, lines) in BENCHES.iter().zip(&tables) {
        readme = replace_between_markers(&readme, bench.start, bench.end, lines)?;
    }
    std::fs::write(&readme_path, readme).context("writing README.md")?;
    println!("bench-report: README.md tables rewritten");
    Ok(ExitCode::SUCCESS)
}

/// The lines of `output` that start with `|`: the Markdown table.
pub(crate) fn table_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// `text` with the lines between the line holding `start` and the line
/// holding `end` replaced by `lines`; the marker lines and everything
/// outside them stay byte for byte. Errors unless each marker is there
/// exactly once, start before end.
pub(crate) fn replace_between_markers(
    text: &str,
    start: &str,
    end: &str,
    lines: &[String],
) -> Result<String> {
    let count = |m: &str| text.lines().filter(|l| l.trim() == m).count();
    if count(start) != 1 || count(end) != 1 {
        bail!("expected exactly one {start} line and one {end} line");
    }
    let mut out = String::with_capacity(text.len());
    let mut state = 0; // 0 before, 1 inside, 2 after
    for line in text.split_inclusive('\n') {
        match state {
            0 => {
                out.push_str(line);
                if line.trim() == start {
                    for l in lines {
                        out.push_str(l);
                        out.push('\n');
                    }
                    state = 1;
                } else if line.trim() == end {
                    bail!("{end} comes before {start}");
                }
            }
            1 => {
                if line.trim() == end {
                    out.push_str(line);
                    state = 2;
                }
            }
            _ => out.push_str(line),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- t:start -->";
    const END: &str = "<!-- t:end -->";

    #[test]
    fn rewrites_only_between_markers() {
        let text = "# Title\n\nintro\n<!-- t:start -->\n| old |\n|---|\n| 1 |\n<!-- t:end -->\n\nafter | not a table\n";
        let bench = "\n## Heading\n\n| a | b |\n|---|---:|\n| x | 2 ns |   \nnoise\n";
        let lines = table_lines(bench);
        assert_eq!(lines, ["| a | b |", "|---|---:|", "| x | 2 ns |"]);
        let out = replace_between_markers(text, START, END, &lines).unwrap();
        assert_eq!(
            out,
            "# Title\n\nintro\n<!-- t:start -->\n| a | b |\n|---|---:|\n| x | 2 ns |\n<!-- t:end -->\n\nafter | not a table\n"
        );
        // Idempotent.
        assert_eq!(
            replace_between_markers(&out, START, END, &lines).unwrap(),
            out
        );
        // Empty region.
        let empty = replace_between_markers(&out, START, END, &[]).unwrap();
        assert_eq!(
            empty,
            "# Title\n\nintro\n<!-- t:start -->\n<!-- t:end -->\n\nafter | not a table\n"
        );
    }

    #[test]
    fn refuses_missing_duplicate_or_reversed_markers() {
        let l = vec!["| x |".to_string()];
        assert!(replace_between_markers("no markers\n", START, END, &l).is_err());
        assert!(replace_between_markers("<!-- t:start -->\n", START, END, &l).is_err());
        let dup = "<!-- t:start -->\n<!-- t:end -->\n<!-- t:start -->\n<!-- t:end -->\n";
        assert!(replace_between_markers(dup, START, END, &l).is_err());
        let rev = "<!-- t:end -->\n<!-- t:start -->\n";
        assert!(replace_between_markers(rev, START, END, &l).is_err());
    }

    #[test]
    fn the_readme_has_both_regions() {
        let readme = std::fs::read_to_string(crate::workspace_root().join("README.md")).unwrap();
        for bench in &BENCHES {
            let out = replace_between_markers(&readme, bench.start, bench.end, &[]).unwrap();
            assert!(out.len() < readme.len(), "{} region is empty", bench.name);
        }
    }
}
