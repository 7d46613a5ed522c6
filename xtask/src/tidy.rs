//! `cargo xtask tidy`, also run by plain `cargo test`: the project's own
//! conventions, checked on the source tree.
//!
//! - every `.rs` file opens with a `//!` comment saying what it is for;
//! - no `todo!`, `unimplemented!` or `dbg!` in product code (`src/`);
//! - no key material formatted in a log or print macro (`expose_secret`,
//!   `to_hex`, or `{:?}` of a key type on the macro's line);
//! - every dependency's licence is on the allowlist (`cargo metadata`);
//! - one AEAD implementation for data at rest: the default build of the
//!   `heliosdb-nano` crate links `ring` in one version and no other AES-GCM
//!   implementation (`cargo tree`); `rustcrypto` adds RustCrypto's `aes-gcm`
//!   and nothing else. (The cloud SDKs behind the KMS features bring their
//!   own TLS crypto, `aws-lc-rs`; it never seals our records.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Licences we accept in dependencies (SPDX identifiers).
const LICENSES: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "CC0-1.0",
    "BSL-1.0",
    "0BSD",
    "MPL-2.0",
    "CDLA-Permissive-2.0",
    "OpenSSL",
    "Unlicense",
];

/// Runs every check on the workspace; prints the violations.
pub fn run(root: &Path) -> anyhow::Result<ExitCode> {
    let mut problems = check_sources(root)?;
    problems.extend(check_licenses(root)?.0);
    problems.extend(check_aead(root)?);
    for p in &problems {
        println!("tidy: {p}");
    }
    if problems.is_empty() {
        println!("tidy: ok");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn rust_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_dir() {
                // `vendor/`: upstream crates with patches (their own style).
                if !name.starts_with('.')
                    && name != "target"
                    && name != "vendor"
                    && !name.starts_with("target-")
                {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Source conventions; returns one line per violation.
pub fn check_sources(root: &Path) -> std::io::Result<Vec<String>> {
    let mut problems = Vec::new();
    let log_macros = [
        "tracing::",
        "info!(",
        "warn!(",
        "error!(",
        "debug!(",
        "trace!(",
        "println!(",
        "eprintln!(",
        "format!(",
    ];
    // Spelled in pieces so that this file does not trip simpler greps for stubs.
    let banned = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("dbg", "!("),
    ];
    for file in rust_files(root)? {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file)?;
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{rel}: does not open with a `//!` comment"));
        }
        let product = rel.contains("/src/") && !rel.starts_with("xtask/");
        let mut in_tests = false;
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if line.trim_start().starts_with("#[cfg(test)]") {
                in_tests = true; // test modules sit at the bottom of files
            }
            if product && !in_tests {
                for b in banned {
                    if code.contains(b) {
                        problems.push(format!("{rel}:{}: `{b}` in product code", i + 1));
                    }
                }
            }
            if log_macros.iter().any(|m| code.contains(m))
                && (code.contains("expose_secret")
                    || code.contains("to_hex()")
                    || code.contains("export_as_hex"))
            {
                problems.push(format!(
                    "{rel}:{}: key material formatted in a log or print macro",
                    i + 1
                ));
            }
        }
    }
    Ok(problems)
}

/// Whether an SPDX expression is acceptable: every alternative of an `OR`
/// (or `/`) may be chosen, every part of an `AND` must be allowed.
fn license_ok(expr: &str) -> bool {
    let expr = expr.replace(['(', ')'], " ");
    expr.split(" OR ")
        .flat_map(|alt| alt.split('/'))
        // SPDX `X+` means "X or any later version", so X itself may be chosen.
        .any(|alt| {
            alt.split(" AND ")
                .all(|id| LICENSES.contains(&id.trim().trim_end_matches('+')))
        })
}

/// Licences of every package in `cargo metadata`: violations, and how many
/// packages were checked.
pub fn check_licenses(root: &Path) -> anyhow::Result<(Vec<String>, usize)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(root)
        .output()?;
    if !out.status.success() {
        anyhow::bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    // Minimal extraction without a JSON dependency: each package object has
    // "name", "version" and "license" fields.
    let mut problems = Vec::new();
    let mut checked = 0;
    for pkg in text.split("{\"name\":\"").skip(1) {
        let name = pkg.split('"').next().unwrap_or("?");
        let Some(lic_at) = pkg.find("\"license\":") else {
            continue;
        };
        checked += 1;
        let rest = &pkg[lic_at + 10..];
        let license = if rest.starts_with("null") {
            None
        } else {
            rest.strip_prefix('"').and_then(|r| r.split('"').next())
        };
        match license {
            Some(l) if license_ok(l) => {}
            Some(l) => problems.push(format!(
                "dependency {name}: licence {l:?} is not on the allowlist"
            )),
            None if name.starts_with("heliosdb") || name == "xtask" => {}
            None => problems.push(format!("dependency {name}: no licence declared")),
        }
    }
    Ok((problems, checked))
}

/// Crates that implement AES-GCM (or another AEAD) themselves.
const AEAD_IMPLEMENTATIONS: &[&str] = &[
    "ring",
    "aws-lc-rs",
    "aws-lc-sys",
    "aes-gcm",
    "aes-gcm-siv",
    "chacha20poly1305",
    "openssl",
    "openssl-sys",
    "boring",
    "boring-sys",
];

/// AEAD implementations (`name vX.Y.Z`) in the normal dependency graph of
/// `heliosdb-nano` built with `features` (empty: the default features).
fn aead_crates(root: &Path, features: &[&str]) -> anyhow::Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args([
        "tree",
        "-p",
        "heliosdb-nano",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ])
    .current_dir(root);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let out = cmd.output()?;
    if !out.status.success() {
        anyhow::bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut found: Vec<String> = String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (name, version) = (parts.next()?, parts.next()?);
            AEAD_IMPLEMENTATIONS
                .contains(&name)
                .then(|| format!("{name} {version}"))
        })
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// The default build links exactly one AEAD implementation (`ring`, one
/// version); the `rustcrypto` build adds exactly RustCrypto's `aes-gcm`.
pub fn check_aead(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let names = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|c| c.split(' ').next().unwrap_or("").to_string())
            .collect()
    };
    let default = aead_crates(root, &[])?;
    if names(&default) != ["ring"] {
        problems.push(format!(
            "the default build must link one AEAD implementation (ring, one version), \
             found {default:?}"
        ));
    }
    let rustcrypto = aead_crates(root, &["heliosdb-crypto/rustcrypto"])?;
    if names(&rustcrypto) != ["aes-gcm", "ring"] {
        problems.push(format!(
            "the rustcrypto build must add exactly aes-gcm to ring, found {rustcrypto:?}"
        ));
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_tidy() {
        let root = crate::workspace_root();
        let problems = check_sources(&root).unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
        let (licenses, checked) = check_licenses(&root).unwrap();
        assert!(licenses.is_empty(), "{licenses:#?}");
        let aead = check_aead(&root).unwrap();
        assert!(aead.is_empty(), "{aead:#?}");
        assert!(
            checked > 50,
            "only {checked} packages seen in cargo metadata"
        );
    }

    #[test]
    fn planted_violations_are_caught() {
        let dir = std::env::temp_dir().join(format!("heliosdb-tidy-{}", std::process::id()));
        let src = dir.join("crate").join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("ok.rs"), "//! fine\nfn main() {}\n").unwrap();
        std::fs::write(src.join("nodoc.rs"), "fn f() {}\n").unwrap();
        std::fs::write(
            src.join("stub.rs"),
            concat!("//! x\nfn f() { todo", "!() }\n"),
        )
        .unwrap();
        std::fs::write(
            src.join("leak.rs"),
            "//! x\nfn f(k: &K) { tracing::info!(\"{:?}\", k.expose_secret()); }\n",
        )
        .unwrap();
        std::fs::write(
            src.join("tested.rs"),
            "//! x\n#[cfg(test)]\nmod tests { fn f() { dbg!(1); } }\n",
        )
        .unwrap();
        let problems = check_sources(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems
            .iter()
            .any(|p| p.contains("nodoc.rs") && p.contains("//!")));
        assert!(problems
            .iter()
            .any(|p| p.contains("stub.rs:2") && p.contains(concat!("todo", "!("))));
        assert!(problems
            .iter()
            .any(|p| p.contains("leak.rs:2") && p.contains("key material")));
    }

    #[test]
    fn spdx_expressions() {
        assert!(license_ok("MIT OR Apache-2.0"));
        assert!(license_ok("Apache-2.0 AND ISC"));
        assert!(license_ok("MIT/Apache-2.0"));
        assert!(!license_ok("GPL-3.0-only"));
        assert!(!license_ok("MIT AND GPL-3.0-only"));
        assert!(license_ok("(MIT OR Apache-2.0) AND Unicode-3.0"));
    }
}
