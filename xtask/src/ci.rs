//! `cargo xtask ci`: the checks CI runs, in order, each timed.
//!
//! | stage     | command                                                      |
//! | --------- | ------------------------------------------------------------ |
//! | `fmt`     | `cargo fmt --all -- --check`                                 |
//! | `clippy`  | `cargo clippy --release --workspace --all-targets -- -D warnings` |
//! | `test`    | `cargo nextest run --release --workspace --no-fail-fast` (= `./dev test`) |
//! | `check-aws`, `check-azure`, `check-gcp`, `check-pkcs11`, `check-vault` | `cargo check --release -p heliosdb-nano --all-targets --features F` |
//! | `kms-all` | `cargo nextest run --release -p heliosdb-nano --features kms-all --test kms --test cli` |
//! | `kms-aws`, `kms-azure`, `kms-gcp`, `kms-pkcs11`, `kms-vault` (on demand) | as `kms-all`, with one feature |
//! | `doctest` | `cargo test --release --workspace --doc`                     |
//! | `doc`     | `cargo doc --release --workspace --no-deps`, `RUSTDOCFLAGS=-D warnings` |
//! | `deny`    | `cargo xtask deny`: `cargo deny check licenses bans sources` (`deny.toml`; skipped without cargo-deny) |
//! | `fuzz`    | `cargo xtask fuzz --seconds 60`: the engine-free fuzz targets, 60 s each (skipped without nightly or cargo-fuzz) |
//!
//! Every stage that builds uses `--release` and the caller's target
//! directory: the workspace has one build profile, so RocksDB's C++ is
//! compiled once (in release) and shared by clippy, the tests, the doctests
//! and rustdoc. A debug build would compile it a second time.
//!
//! Each KMS feature is built alone and all of them together (features are
//! only worth having while some build turns them off). The KMS crates are
//! workspace members, so the `test` stage already compiled and tested each
//! provider against its server, and the feature-less facade is the `test`
//! stage's own. `kms-all` runs the facade's KMS and CLI tests with every
//! provider linked. Alone, each feature set unifies shared dependencies
//! (tokio, hyper, rustls) differently, so testing it means rebuilding them
//! in release: measured on 2 cores, `kms-aws` ≈ 6 min, `kms-vault` ≈ 6,
//! `kms-gcp` ≈ 8, `kms-azure` ≈ 5.7 (`kms-pkcs11` links no network stack:
//! cryptoki loads the vendor's module at run time). A plain `cargo xtask ci` therefore
//! builds each feature alone with `cargo check` (`check-*`: every target of
//! the facade, no code generation) and tests them together; name the
//! `kms-*` stages to test one alone (`cargo xtask ci kms-aws`), e.g. when a
//! KMS crate or the facade's features change.
//!
//! A failing stage does not stop the run (unless `--fail-fast`): a formatting
//! slip should not hide a failing test. The command exits non-zero if any
//! stage failed, after a summary table of stage, result and seconds.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// The stages, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StageKind {
    Fmt,
    Clippy,
    Test,
    CheckAws,
    CheckAzure,
    CheckGcp,
    CheckPkcs11,
    CheckVault,
    KmsAws,
    KmsAzure,
    KmsGcp,
    KmsPkcs11,
    KmsVault,
    KmsAll,
    Doctest,
    Doc,
    Deny,
    Fuzz,
}

impl StageKind {
    const ALL: [StageKind; 18] = [
        StageKind::Fmt,
        StageKind::Clippy,
        StageKind::Test,
        StageKind::CheckAws,
        StageKind::CheckAzure,
        StageKind::CheckGcp,
        StageKind::CheckPkcs11,
        StageKind::CheckVault,
        StageKind::KmsAws,
        StageKind::KmsAzure,
        StageKind::KmsGcp,
        StageKind::KmsPkcs11,
        StageKind::KmsVault,
        StageKind::KmsAll,
        StageKind::Doctest,
        StageKind::Doc,
        StageKind::Deny,
        StageKind::Fuzz,
    ];

    /// What a plain `cargo xtask ci` runs: everything but the single-feature
    /// KMS builds (see the module docs for their cost).
    fn in_default_run(self) -> bool {
        !matches!(
            self,
            StageKind::KmsAws
                | StageKind::KmsAzure
                | StageKind::KmsGcp
                | StageKind::KmsPkcs11
                | StageKind::KmsVault
        )
    }

    fn name(self) -> &'static str {
        match self {
            StageKind::Fmt => "fmt",
            StageKind::Clippy => "clippy",
            StageKind::Test => "test",
            StageKind::KmsAws => "kms-aws",
            StageKind::CheckAws => "check-aws",
            StageKind::CheckAzure => "check-azure",
            StageKind::CheckGcp => "check-gcp",
            StageKind::CheckPkcs11 => "check-pkcs11",
            StageKind::CheckVault => "check-vault",
            StageKind::KmsAzure => "kms-azure",
            StageKind::KmsGcp => "kms-gcp",
            StageKind::KmsPkcs11 => "kms-pkcs11",
            StageKind::KmsVault => "kms-vault",
            StageKind::KmsAll => "kms-all",
            StageKind::Doctest => "doctest",
            StageKind::Doc => "doc",
            StageKind::Deny => "deny",
            StageKind::Fuzz => "fuzz",
        }
    }

    fn from_name(name: &str) -> Option<StageKind> {
        StageKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One stage: a cargo command line, run from the workspace root.
#[derive(Debug)]
struct Stage {
    name: &'static str,
    args: Vec<&'static str>,
    /// Extra environment for this stage only.
    env: Vec<(&'static str, OsString)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed,
    Skipped,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Runs `cargo xtask ci [--fail-fast] [STAGE…]`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    let mut fail_fast = false;
    let mut selected: Vec<StageKind> = Vec::new();
    for arg in args {
        if arg == "--fail-fast" {
            fail_fast = true;
        } else if let Some(kind) = StageKind::from_name(arg) {
            selected.push(kind);
        } else {
            let names: Vec<&str> = StageKind::ALL.iter().map(|k| k.name()).collect();
            bail!(
                "unknown argument {arg:?} to `ci`; stages are {} (plus --fail-fast)",
                names.join(", ")
            );
        }
    }

    let root = crate::workspace_root();
    let cargo = cargo_program();
    let stages: Vec<Stage> = StageKind::ALL
        .into_iter()
        .filter(|kind| {
            if selected.is_empty() {
                kind.in_default_run()
            } else {
                selected.contains(kind)
            }
        })
        .map(|kind| stage(kind, &cargo, &root))
        .collect();

    let mut results: Vec<(&'static str, Outcome, Duration)> = Vec::new();
    let mut stop = false;
    for stage in &stages {
        if stop {
            results.push((stage.name, Outcome::Skipped, Duration::ZERO));
            continue;
        }
        let (outcome, elapsed) = run_stage(&cargo, &root, stage);
        results.push((stage.name, outcome, elapsed));
        stop = fail_fast && outcome == Outcome::Failed;
    }

    print_summary(&results);
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, outcome, _)| *outcome == Outcome::Failed)
        .map(|(name, _, _)| *name)
        .collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("xtask ci: failed: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// The command line of one stage.
fn stage(kind: StageKind, cargo: &OsString, root: &Path) -> Stage {
    let (args, env) = match kind {
        StageKind::Fmt => (vec!["fmt", "--all", "--", "--check"], vec![]),
        StageKind::Clippy => (
            vec![
                "clippy",
                "--release",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            vec![],
        ),
        // The README's `./dev test`, exactly, so that CI runs what developers run.
        StageKind::Test if has_nextest(cargo, root) => (
            vec![
                "nextest",
                "run",
                "--release",
                "--workspace",
                "--no-fail-fast",
            ],
            vec![],
        ),
        StageKind::Test => {
            println!(
                "xtask ci: cargo-nextest is not installed; the test stage falls back to \
                 `cargo test` (doctests stay in their own stage)"
            );
            (
                vec![
                    "test",
                    "--release",
                    "--workspace",
                    "--no-fail-fast",
                    "--lib",
                    "--bins",
                    "--tests",
                ],
                vec![],
            )
        }
        StageKind::CheckAws
        | StageKind::CheckAzure
        | StageKind::CheckGcp
        | StageKind::CheckPkcs11
        | StageKind::CheckVault => {
            let feature = &kind.name()["check-".len()..];
            (
                vec![
                    "check",
                    "--release",
                    "-p",
                    "heliosdb-nano",
                    "--all-targets",
                    "--features",
                    feature,
                ],
                vec![],
            )
        }
        // The smoke runs build with nightly (sanitizers) in a target dir of
        // their own below the caller's; `xtask fuzz` skips with a message
        // when nightly or cargo-fuzz is missing.
        StageKind::Deny => (
            vec!["run", "--quiet", "--release", "-p", "xtask", "--", "deny"],
            vec![],
        ),
        StageKind::Fuzz => (
            vec![
                "run",
                "--quiet",
                "--release",
                "-p",
                "xtask",
                "--",
                "fuzz",
                "--seconds",
                "60",
            ],
            vec![],
        ),
        StageKind::KmsAws
        | StageKind::KmsAzure
        | StageKind::KmsGcp
        | StageKind::KmsPkcs11
        | StageKind::KmsVault
        | StageKind::KmsAll => {
            let feature = &kind.name()["kms-".len()..];
            let feature = if feature == "all" { "kms-all" } else { feature };
            let runner: &[&'static str] = if has_nextest(cargo, root) {
                &["nextest", "run", "--no-fail-fast"]
            } else {
                &["test", "--no-fail-fast"]
            };
            let mut args = runner.to_vec();
            args.extend([
                "--release",
                "-p",
                "heliosdb-nano",
                "--features",
                feature,
                "--test",
                "kms",
                "--test",
                "cli",
            ]);
            (args, vec![])
        }
        // nextest does not run doctests, hence a stage of their own.
        StageKind::Doctest => (vec!["test", "--release", "--workspace", "--doc"], vec![]),
        StageKind::Doc => {
            // Keep whatever the caller set and deny warnings on top. Only
            // rustdoc reads RUSTDOCFLAGS, so the compiled dependencies that
            // the other stages built stay valid.
            let mut flags = std::env::var_os("RUSTDOCFLAGS").unwrap_or_default();
            if !flags.is_empty() {
                flags.push(" ");
            }
            flags.push("-D warnings");
            (
                vec!["doc", "--release", "--workspace", "--no-deps"],
                vec![("RUSTDOCFLAGS", flags)],
            )
        }
    };
    Stage {
        name: kind.name(),
        args,
        env,
    }
}

/// The cargo that runs xtask (`cargo run` sets `CARGO`), so every stage uses
/// the same toolchain; plain `cargo` from `PATH` otherwise.
fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn has_nextest(cargo: &OsString, root: &Path) -> bool {
    let mut cmd = Command::new(cargo);
    cmd.args(["nextest", "--version"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    scrub_env(&mut cmd);
    cmd.status().is_ok_and(|s| s.success())
}

/// `cargo run` gives the program it runs the environment of a crate build:
/// `CARGO_PKG_NAME=xtask`, `CARGO_MANIFEST_DIR=…/xtask` and so on. Some build
/// scripts (ring's) declare `rerun-if-env-changed` on exactly those names, and
/// cargo compares them with its own environment; a nested cargo that
/// inherited them would rerun those build scripts, rebuild everything above
/// them, and leave the next plain `./dev test` to rebuild it all back. Remove
/// them so a stage sees the environment a developer's shell has.
fn scrub_env(cmd: &mut Command) {
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

fn run_stage(cargo: &OsString, root: &Path, stage: &Stage) -> (Outcome, Duration) {
    let env_prefix: String = stage
        .env
        .iter()
        .map(|(k, v)| format!("{k}={:?} ", v.to_string_lossy()))
        .collect();
    println!(
        "\n==> [{}] {env_prefix}cargo {}",
        stage.name,
        stage.args.join(" ")
    );
    // Our output and the child's share the terminal; keep them in order.
    let _ = std::io::stdout().flush();

    let start = Instant::now();
    let mut cmd = Command::new(cargo);
    cmd.args(&stage.args).current_dir(root).stdin(Stdio::null());
    scrub_env(&mut cmd);
    for (key, value) in &stage.env {
        cmd.env(key, value);
    }
    let outcome = match cmd.status() {
        Ok(status) if status.success() => Outcome::Ok,
        Ok(status) => {
            eprintln!("xtask ci: stage {} failed ({status})", stage.name);
            Outcome::Failed
        }
        Err(e) => {
            eprintln!("xtask ci: stage {} could not start cargo: {e}", stage.name);
            Outcome::Failed
        }
    };
    let elapsed = start.elapsed();
    println!(
        "<== [{}] {} in {:.1} s",
        stage.name,
        outcome.label(),
        elapsed.as_secs_f64()
    );
    (outcome, elapsed)
}

fn print_summary(results: &[(&'static str, Outcome, Duration)]) {
    let total: Duration = results.iter().map(|(_, _, d)| *d).sum();
    println!("\nxtask ci summary");
    println!("{:<10} {:<8} {:>9}", "stage", "result", "seconds");
    for (name, outcome, elapsed) in results {
        println!(
            "{:<10} {:<8} {:>9.1}",
            name,
            outcome.label(),
            elapsed.as_secs_f64()
        );
    }
    println!("{:<10} {:<8} {:>9.1}", "total", "", total.as_secs_f64());
}
