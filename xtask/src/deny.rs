//! `cargo xtask deny`: `cargo deny check licenses bans sources` with the
//! policy in `deny.toml` (licence allowlist, no OpenSSL, `aws-lc-rs` only
//! inside the cloud SDKs' TLS stacks, crates.io only). Skipped with a
//! message when cargo-deny is not installed (`cargo install --locked
//! cargo-deny`). Advisories are not checked here: the RustSec database
//! lives on GitHub, which this build environment cannot reach.

use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Result};

use crate::util;

/// Runs `cargo xtask deny`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    if let Some(a) = args.first() {
        bail!("deny takes no arguments, got {a:?}");
    }
    let root = crate::workspace_root();
    let mut probe = Command::new("cargo");
    probe
        .args(["deny", "--version"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    util::scrub_env(&mut probe);
    if !probe.status().is_ok_and(|s| s.success()) {
        println!("xtask deny: skipped: cargo-deny is not installed (`cargo install --locked cargo-deny`)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut cmd = Command::new("cargo");
    cmd.args(["deny", "check", "licenses", "bans", "sources"])
        .current_dir(&root)
        .stdin(Stdio::null());
    util::scrub_env(&mut cmd);
    util::run_checked(&mut cmd)?;
    println!("xtask deny: licences, bans and sources ok (advisories need the RustSec database)");
    Ok(ExitCode::SUCCESS)
}
