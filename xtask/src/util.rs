//! Helpers shared by the xtask subcommands that start cargo (or `./dev`) as
//! a child process: the workspace's version, the host target triple, and an
//! environment without the variables `cargo run` adds.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// `cargo run` gives the program it runs the environment of a crate build:
/// `CARGO_PKG_NAME=xtask`, `CARGO_MANIFEST_DIR=…/xtask` and so on. Some build
/// scripts (ring's, rocksdb's) declare `rerun-if-env-changed` on exactly
/// those names, and a nested cargo that inherited them would rerun those
/// build scripts and rebuild everything above them. Remove them so the child
/// sees the environment a developer's shell has (the same approach as
/// `ci.rs`).
pub(crate) fn scrub_env(cmd: &mut Command) {
    const SET_BY_CARGO_RUN: [&str; 6] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PKG_") || SET_BY_CARGO_RUN.contains(&key) {
            cmd.env_remove(key);
        }
    }
}

/// `./dev cargo ARGS…` from the workspace root, with a scrubbed environment:
/// the same C/C++ compilers (ccache) as every other build of the workspace.
pub(crate) fn dev_cargo(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(root.join("dev"));
    cmd.arg("cargo").args(args).current_dir(root);
    scrub_env(&mut cmd);
    cmd
}

/// Runs `cmd`, failing with its command line when it does not succeed.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<()> {
    println!("==> {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

/// A command line as a human would type it.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    shell_words(&parts)
}

/// `args` as a shell would need them: arguments with spaces in quotes.
pub(crate) fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.contains([' ', '"', '\'']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The section a line of a TOML file is in (`workspace.package` for the
/// lines after `[workspace.package]`), tracked line by line. Good enough for
/// the hand-written manifests of this workspace; values are not parsed.
pub(crate) fn section_header(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with('[') && !t.starts_with("[[") {
        let end = t.find(']')?;
        return Some(t[1..end].trim());
    }
    if let Some(rest) = t.strip_prefix("[[") {
        let end = rest.find("]]")?;
        return Some(rest[..end].trim());
    }
    None
}

/// The value of `version = "…"` on a manifest line, with its byte range.
pub(crate) fn version_value(line: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    while let Some(pos) = line[search..].find("version") {
        let at = search + pos;
        let before_ok = at == 0 || {
            let c = line.as_bytes()[at - 1];
            !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        };
        let rest = &line[at + "version".len()..];
        let trimmed = rest.trim_start();
        if before_ok {
            if let Some(after_eq) = trimmed.strip_prefix('=') {
                let value = after_eq.trim_start();
                if let Some(inner) = value.strip_prefix('"') {
                    let start = line.len() - inner.len();
                    let end = start + inner.find('"')?;
                    return Some((start, end));
                }
            }
        }
        search = at + "version".len();
    }
    None
}

/// `[workspace.package] version` of the root manifest.
pub(crate) fn workspace_version(root: &Path) -> Result<String> {
    let path = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut section = "";
    for line in text.lines() {
        if let Some(s) = section_header(line) {
            section = s;
            continue;
        }
        if section == "workspace.package" {
            if let Some((start, end)) = version_value(line) {
                return Ok(line[start..end].to_string());
            }
        }
    }
    bail!("{} has no [workspace.package] version", path.display())
}

/// The host's target triple (`rustc -vV`), which is what a build without
/// `--target` produces.
pub(crate) fn host_triple() -> Result<String> {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .context("could not run rustc -vV")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|s| s.trim().to_string())
        .context("rustc -vV printed no host line")
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (relative to the root
/// when relative), else `<root>/target`.
pub(crate) fn cargo_target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_version_values() {
        let line = r#"heliosdb-core = { path = "heliosdb-core", version = "0.1.0" }"#;
        let (s, e) = version_value(line).unwrap();
        assert_eq!(&line[s..e], "0.1.0");
        let line = r#"version = "1.2.3""#;
        let (s, e) = version_value(line).unwrap();
        assert_eq!(&line[s..e], "1.2.3");
        assert!(version_value("version.workspace = true").is_none());
        assert!(version_value(r#"rust-version = "1.88""#).is_none());
        assert_eq!(
            section_header("[workspace.package]"),
            Some("workspace.package")
        );
        assert_eq!(section_header("[[bench]]"), Some("bench"));
        assert_eq!(section_header("x = 1"), None);
    }
}
