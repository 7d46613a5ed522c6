//! `cargo xtask fuzz [--seconds N] [--all]`: a smoke run of the cargo-fuzz
//! targets in `fuzz/` (outside the workspace), N seconds each (default 60).
//!
//! By default (and in `cargo xtask ci`) the targets that do not link the
//! storage engine run: `envelope`, `keyring`, `pg_message`. `--all` adds
//! `config`, `dump` (dump import, export→import round trips) and `sql`
//! (`execute_sql` on inputs of up to 16 KiB), which link
//! RocksDB: its C++ is compiled once more for the fuzz build (about 20
//! minutes on 2 cores), too slow for every CI run.
//!
//! cargo-fuzz needs a nightly toolchain (libFuzzer's sanitizer flags) and the
//! `cargo-fuzz` command. When either is missing the run is skipped with a
//! message saying which, and the command succeeds: the fuzz targets are a
//! hardening aid, not a gate every machine can pass.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};

use crate::util;

/// The targets in `fuzz/fuzz_targets/`, run in this order.
pub(crate) const TARGETS: [&str; 6] =
    ["envelope", "keyring", "pg_message", "config", "dump", "sql"];

/// Targets that need the engine (the fuzz crate's default features
/// `config` and `sql`).
const ENGINE_TARGETS: [&str; 3] = ["config", "dump", "sql"];

/// Runs `cargo xtask fuzz [--seconds N] [--all]`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    let all = args.iter().any(|a| a == "--all");
    let rest: Vec<String> = args.iter().filter(|a| *a != "--all").cloned().collect();
    let seconds = parse_seconds(&rest)?;
    let root = crate::workspace_root();
    if let Some(why) = unavailable(&root) {
        println!("xtask fuzz: skipped: {why}");
        return Ok(ExitCode::SUCCESS);
    }
    let fuzz_dir = root.join("fuzz");
    // Sanitizer flags make a build of its own: keep it beside the main one,
    // in the caller's target dir when there is one (CI caches that).
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("fuzz"))
        .unwrap_or_else(|| fuzz_dir.join("target"));
    let targets: Vec<&str> = TARGETS
        .into_iter()
        .filter(|t| all || !ENGINE_TARGETS.contains(t))
        .collect();
    for target in &targets {
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "fuzz", "run"]);
        if !ENGINE_TARGETS.contains(target) {
            cmd.arg("--no-default-features");
        }
        cmd.args([target, "--"])
            .arg(format!("-max_total_time={seconds}"))
            .current_dir(&fuzz_dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .stdin(Stdio::null());
        util::scrub_env(&mut cmd);
        // rustup's proxy sets this for the toolchain xtask runs on; `+nightly`
        // wins over it, but a nested cargo should not see it at all.
        cmd.env_remove("RUSTUP_TOOLCHAIN");
        util::run_checked(&mut cmd).with_context(|| format!("fuzz target {target}"))?;
    }
    println!(
        "xtask fuzz: {} ({}), {seconds} s each: no crash{}",
        targets.len(),
        targets.join(", "),
        if all {
            ""
        } else {
            " (config and sql need --all)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `--seconds N` (or `--seconds=N`), default 60.
pub(crate) fn parse_seconds(args: &[String]) -> Result<u64> {
    let mut seconds = 60;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "--seconds" => it.next().context("--seconds needs a number")?.as_str(),
            a => match a.strip_prefix("--seconds=") {
                Some(v) => v,
                None => bail!("fuzz: unknown argument {a:?} (usage: fuzz [--seconds N] [--all])"),
            },
        };
        seconds = value
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .with_context(|| format!("--seconds wants a positive number, not {value:?}"))?;
    }
    Ok(seconds)
}

/// Why the targets cannot run here, if they cannot.
fn unavailable(root: &Path) -> Option<String> {
    if !root.join("fuzz/Cargo.toml").is_file() {
        return Some("there is no fuzz/Cargo.toml".into());
    }
    let quiet = |args: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.args(args)
            .current_dir(root.join("fuzz"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        util::scrub_env(&mut cmd);
        cmd.env_remove("RUSTUP_TOOLCHAIN");
        cmd.status().is_ok_and(|s| s.success())
    };
    if !quiet(&["+nightly", "--version"]) {
        return Some(
            "no nightly toolchain (cargo-fuzz needs one: `rustup toolchain install nightly`)"
                .into(),
        );
    }
    if !quiet(&["+nightly", "fuzz", "--version"]) {
        return Some("cargo-fuzz is not installed (`cargo install cargo-fuzz`)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_argument() {
        let s = |v: &[&str]| parse_seconds(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]).unwrap(), 60);
        assert_eq!(s(&["--seconds", "5"]).unwrap(), 5);
        assert_eq!(s(&["--seconds=7"]).unwrap(), 7);
        assert!(s(&["--seconds", "0"]).is_err());
        assert!(s(&["--seconds"]).is_err());
        assert!(s(&["--minutes", "1"]).is_err());
    }

    #[test]
    fn every_target_has_a_source_file() {
        let dir = crate::workspace_root().join("fuzz/fuzz_targets");
        for target in TARGETS {
            assert!(
                dir.join(format!("{target}.rs")).is_file(),
                "fuzz/fuzz_targets/{target}.rs"
            );
        }
    }
}
