//! `cargo xtask release X.Y.Z [--execute]`: one version for every workspace
//! crate, checked and verified before it is tagged.
//!
//! The plan, printed in full by a dry run (the default), which changes
//! nothing on disk:
//!
//! 1. bump `[workspace.package] version` and the `version = "…"` of every
//!    workspace path dependency in the root `Cargo.toml` (shown as a diff);
//! 2. check that `CHANGELOG.md` has a `## X.Y.Z` section;
//! 3. `cargo xtask ci`;
//! 4. `cargo publish --dry-run` of each publishable crate, in dependency
//!    order (one cargo invocation listing the crates in that order, so a
//!    crate's verification builds against the new version of the crates it
//!    depends on, which are not on crates.io yet);
//! 5. commit the bump (`Cargo.toml`, `Cargo.lock`) and tag `vX.Y.Z`.
//!
//! With `--execute` the steps run in that order and the first failure stops
//! the release; a failing changelog check stops it before anything is
//! written. [`plan`] computes everything in memory; [`apply`] is the only
//! function that writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

use crate::util;

/// A file's new contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEdit {
    pub path: PathBuf,
    pub old: String,
    pub new: String,
}

/// One step of the release, as printed and as executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Write the edited manifests.
    Bump(Vec<FileEdit>),
    /// The changelog check; `Err` holds why it fails.
    Changelog(std::result::Result<(), String>),
    /// A command run from the workspace root (`./dev cargo …` for cargo).
    Run { what: String, args: Vec<String> },
}

/// The release of one version.
#[derive(Debug)]
pub(crate) struct Plan {
    pub version: String,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether a check already fails (a release would stop there).
    pub fn blocked(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match s {
            Step::Changelog(Err(why)) => Some(why.as_str()),
            _ => None,
        })
    }

    /// The human-readable plan: every step, numbered.
    pub fn report(&self, execute: bool) -> String {
        let mut out = format!(
            "release {}{}\n",
            self.version,
            if execute {
                ""
            } else {
                " (dry run: nothing is written, run, published or tagged; --execute to release)"
            }
        );
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            match step {
                Step::Bump(edits) => {
                    out.push_str(&format!("{n}. bump versions to {}\n", self.version));
                    for edit in edits {
                        out.push_str(&diff(&edit.path, &edit.old, &edit.new));
                    }
                }
                Step::Changelog(Ok(())) => out.push_str(&format!(
                    "{n}. CHANGELOG.md has a `## {}` section: ok\n",
                    self.version
                )),
                Step::Changelog(Err(why)) => {
                    out.push_str(&format!("{n}. CHANGELOG.md check: FAILS: {why}\n"))
                }
                Step::Run { what, args } => {
                    out.push_str(&format!("{n}. {what}: {}\n", util::shell_words(args)))
                }
            }
        }
        out
    }
}

/// Runs `cargo xtask release X.Y.Z [--execute]`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    let mut execute = false;
    let mut version = None;
    for arg in args {
        match arg.as_str() {
            "--execute" => execute = true,
            a if a.starts_with('-') => bail!("release: unknown option {a:?}"),
            a if version.is_none() => version = Some(a.to_string()),
            a => bail!("release: unexpected argument {a:?}"),
        }
    }
    let Some(version) = version else {
        bail!("usage: cargo xtask release X.Y.Z [--execute]");
    };
    let root = crate::workspace_root();
    let plan = plan(&root, &version)?;
    print!("{}", plan.report(execute));
    if let Some(why) = plan.blocked() {
        if execute {
            eprintln!("release: stopped before any change: {why}");
        } else {
            eprintln!("release: dry run: a release of {version} would stop at step 2: {why}");
        }
        return Ok(ExitCode::FAILURE);
    }
    if !execute {
        return Ok(ExitCode::SUCCESS);
    }
    for step in &plan.steps {
        match step {
            Step::Bump(edits) => apply(edits)?,
            Step::Changelog(_) => {}
            Step::Run { args, .. } => {
                let mut cmd = command(&root, args);
                util::run_checked(&mut cmd)?;
            }
        }
    }
    println!("release {version}: tagged v{version}");
    Ok(ExitCode::SUCCESS)
}

/// The command for a step: cargo through `./dev` (same compilers as every
/// other build), anything else directly; both without `cargo run`'s
/// variables.
fn command(root: &Path, args: &[String]) -> Command {
    let mut cmd = if args[0] == "cargo" {
        let rest: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        util::dev_cargo(root, &rest)
    } else {
        let mut c = Command::new(&args[0]);
        c.args(&args[1..]).current_dir(root);
        util::scrub_env(&mut c);
        c
    };
    cmd.current_dir(root);
    cmd
}

/// Writes the edited files. The only function here that changes the disk.
pub(crate) fn apply(edits: &[FileEdit]) -> Result<()> {
    for edit in edits {
        std::fs::write(&edit.path, &edit.new)
            .with_context(|| format!("writing {}", edit.path.display()))?;
        println!("release: wrote {}", edit.path.display());
    }
    Ok(())
}

/// Computes the release of `version` for the workspace at `root`, reading
/// files only.
pub(crate) fn plan(root: &Path, version: &str) -> Result<Plan> {
    validate_semver(version)?;
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let bumped = bump_manifest(&manifest, version)?;

    let changelog = match std::fs::read_to_string(root.join("CHANGELOG.md")) {
        Ok(text) if has_changelog_section(&text, version) => Ok(()),
        Ok(_) => Err(format!("no `## {version}` section in CHANGELOG.md")),
        Err(e) => Err(format!("cannot read CHANGELOG.md: {e}")),
    };

    let crates = publish_order(root, &manifest)?;
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut steps = vec![
        Step::Bump(vec![FileEdit {
            path: manifest_path,
            old: manifest,
            new: bumped,
        }]),
        Step::Changelog(changelog),
        Step::Run {
            what: "the CI checks".into(),
            args: strings(&["cargo", "xtask", "ci"]),
        },
    ];
    if crates.is_empty() {
        bail!("release: no publishable crate in the workspace");
    }
    // One invocation, crates in dependency order: cargo packages them all and
    // verifies each against the others' new versions.
    let mut publish = strings(&["cargo", "publish", "--dry-run", "--allow-dirty"]);
    for name in &crates {
        publish.push("-p".into());
        publish.push(name.clone());
    }
    steps.push(Step::Run {
        what: format!(
            "cargo publish --dry-run, in dependency order: {}",
            crates.join(" → ")
        ),
        args: publish,
    });
    let tag = format!("v{version}");
    steps.push(Step::Run {
        what: "commit the version bump".into(),
        args: strings(&[
            "git",
            "commit",
            "-m",
            &format!("Release {version}"),
            "--",
            "Cargo.toml",
            "Cargo.lock",
        ]),
    });
    steps.push(Step::Run {
        what: format!("tag {tag}"),
        args: strings(&[
            "git",
            "tag",
            "-a",
            &tag,
            "-m",
            &format!("HeliosDB Nano {version}"),
        ]),
    });
    Ok(Plan {
        version: version.to_string(),
        steps,
    })
}

/// Accepts `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]` as semver 2.0 defines
/// them (numbers without leading zeros).
pub(crate) fn validate_semver(version: &str) -> Result<()> {
    let bad = |why: &str| anyhow::anyhow!("{version:?} is not a semantic version X.Y.Z: {why}");
    let (rest, build) = match version.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 {
        return Err(bad("expected three numbers"));
    }
    for n in numbers {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("each part must be a number"));
        }
        if n.len() > 1 && n.starts_with('0') {
            return Err(bad("numbers have no leading zeros"));
        }
        n.parse::<u64>().map_err(|_| bad("number too large"))?;
    }
    for (label, ids) in [("pre-release", pre), ("build", build)] {
        let Some(ids) = ids else { continue };
        for id in ids.split('.') {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(bad(&format!("bad {label} identifier {id:?}")));
            }
            if label == "pre-release"
                && id.len() > 1
                && id.starts_with('0')
                && id.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad("numeric pre-release identifiers have no leading zeros"));
            }
        }
    }
    Ok(())
}

/// The root manifest with `[workspace.package] version` and the version of
/// every path dependency in `[workspace.dependencies]` set to `version`.
/// Everything else, formatting included, stays as it was.
pub(crate) fn bump_manifest(manifest: &str, version: &str) -> Result<String> {
    let mut out = String::with_capacity(manifest.len());
    let mut section = String::new();
    let mut package_version = false;
    for line in manifest.split_inclusive('\n') {
        if let Some(s) = util::section_header(line) {
            section = s.to_string();
        }
        let bump = match section.as_str() {
            "workspace.package" => {
                let key = line.split('=').next().unwrap_or("").trim();
                key == "version"
            }
            "workspace.dependencies" => line.contains("path") && line.contains('{'),
            _ => false,
        };
        match util::version_value(line).filter(|_| bump) {
            Some((start, end)) => {
                if section == "workspace.package" {
                    package_version = true;
                }
                out.push_str(&line[..start]);
                out.push_str(version);
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
    }
    if !package_version {
        bail!("the root Cargo.toml has no `version = \"…\"` in [workspace.package]");
    }
    Ok(out)
}

/// Whether `text` has a `## X.Y.Z` heading (optionally `## [X.Y.Z]`, and
/// followed by a date or title).
pub(crate) fn has_changelog_section(text: &str, version: &str) -> bool {
    text.lines().any(|line| {
        let Some(rest) = line.strip_prefix("## ") else {
            return false;
        };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('[').unwrap_or(rest);
        rest.strip_prefix(version)
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', ']', '\t', '(']))
    })
}

/// The workspace members' directories (`[workspace] members`).
fn members(manifest: &str) -> Vec<String> {
    let mut section = "";
    let mut in_members = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        if let Some(s) = util::section_header(line) {
            section = s;
            continue;
        }
        if section != "workspace" {
            continue;
        }
        let t = line.trim();
        if !in_members {
            if let Some(rest) = t.strip_prefix("members") {
                if rest.trim_start().starts_with('=') {
                    in_members = true;
                }
            }
        }
        if in_members {
            let mut parts = t.split('"');
            parts.next();
            while let (Some(name), _) = (parts.next(), parts.next()) {
                out.push(name.to_string());
            }
            if t.contains(']') {
                in_members = false;
            }
        }
    }
    out
}

/// The publishable crates (no `publish = false`), each after the workspace
/// crates it depends on (normal and build dependencies; dev-dependencies
/// without a version are dropped by `cargo publish`).
pub(crate) fn publish_order(root: &Path, manifest: &str) -> Result<Vec<String>> {
    // name -> (publishable, workspace deps by name)
    let mut crates: BTreeMap<String, (bool, BTreeSet<String>)> = BTreeMap::new();
    let mut raw_deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dir in members(manifest) {
        let path = root.join(&dir).join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut section = String::new();
        let mut name = None;
        let mut publish = true;
        let mut deps = BTreeSet::new();
        for line in text.lines() {
            if let Some(s) = util::section_header(line) {
                section = s.to_string();
                if let Some(dep) = s
                    .strip_prefix("dependencies.")
                    .or_else(|| s.strip_prefix("build-dependencies."))
                {
                    deps.insert(dep.trim().to_string());
                }
                continue;
            }
            let key = line.split('=').next().unwrap_or("").trim();
            if section == "package" {
                let value = line.split_once('=').map(|(_, v)| v.trim());
                match key {
                    "name" => name = value.map(|v| v.trim_matches('"').to_string()),
                    "publish" => publish = value != Some("false"),
                    _ => {}
                }
            } else if is_dependency_table(&section) && !key.is_empty() && !key.starts_with('#') {
                let dep = key.split('.').next().unwrap_or(key).trim_matches('"');
                deps.insert(dep.to_string());
            }
        }
        let name = name.with_context(|| format!("{} has no package name", path.display()))?;
        raw_deps.insert(name.clone(), deps);
        crates.insert(name, (publish, BTreeSet::new()));
    }
    let names: BTreeSet<String> = crates.keys().cloned().collect();
    for (name, deps) in raw_deps {
        let internal: BTreeSet<String> = deps.intersection(&names).cloned().collect();
        if let Some(entry) = crates.get_mut(&name) {
            entry.1 = internal;
        }
    }

    // Kahn's algorithm; ties broken by name, so the order is stable.
    let mut order = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    while done.len() < crates.len() {
        let next = crates
            .iter()
            .find(|(n, (_, deps))| !done.contains(*n) && deps.iter().all(|d| done.contains(d)))
            .map(|(n, _)| n.clone());
        let Some(next) = next else {
            bail!("the workspace crates depend on each other in a cycle");
        };
        done.insert(next.clone());
        order.push(next);
    }
    Ok(order
        .into_iter()
        .filter(|n| crates.get(n).is_some_and(|(publish, _)| *publish))
        .collect())
}

/// `[dependencies]`, `[build-dependencies]` and their `[target.….…]` forms.
fn is_dependency_table(section: &str) -> bool {
    section == "dependencies"
        || section == "build-dependencies"
        || section.ends_with(".dependencies")
        || section.ends_with(".build-dependencies")
}

/// A unified-style diff of the changed lines (the manifest edits are
/// line-for-line, so a line-by-line comparison is enough).
fn diff(path: &Path, old: &str, new: &str) -> String {
    let mut out = format!("   --- {0}\n   +++ {0} (bumped)\n", path.display());
    for (i, (a, b)) in old.lines().zip(new.lines()).enumerate() {
        if a != b {
            out.push_str(&format!("   @@ line {} @@\n   -{a}\n   +{b}\n", i + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = r#"[workspace]
resolver = "2"
members = [
    "core",
    "app",
    "xtask",
]

[workspace.package]
version = "0.1.0"
edition = "2021"
rust-version = "1.88"

[workspace.dependencies]
demo-core = { path = "core", version = "0.1.0" }
demo-app = { path = "app", version = "0.1.0" }
anyhow = "1"
"#;

    /// A tiny workspace in a temp directory: `app` depends on `core`,
    /// `xtask` is not published.
    fn tiny_workspace(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-release-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["core/src", "app/src", "xtask/src"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("Cargo.toml"), ROOT).unwrap();
        std::fs::write(
            root.join("CHANGELOG.md"),
            "# Changelog\n\n## 9.9.9\n\n- test\n\n## 0.1.0\n\n- first\n",
        )
        .unwrap();
        std::fs::write(
            root.join("app/Cargo.toml"),
            "[package]\nname = \"demo-app\"\nversion.workspace = true\n\n[dependencies]\ndemo-core.workspace = true\nanyhow.workspace = true\n",
        )
        .unwrap();
        std::fs::write(
            root.join("core/Cargo.toml"),
            "[package]\nname = \"demo-core\"\nversion.workspace = true\n\n[dependencies]\nanyhow.workspace = true\n",
        )
        .unwrap();
        std::fs::write(
            root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\nversion.workspace = true\npublish = false\n\n[dependencies]\ndemo-app = { workspace = true }\n",
        )
        .unwrap();
        root
    }

    /// Every file under `dir` with its bytes.
    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn dry_run_changes_nothing_and_reports_every_step() {
        let root = tiny_workspace("dry");
        let before = snapshot(&root);
        let plan = plan(&root, "9.9.9").unwrap();
        let report = plan.report(false);
        assert_eq!(snapshot(&root), before, "a dry run changed the disk");
        assert!(plan.blocked().is_none(), "{report}");

        for expected in [
            "dry run",
            "1. bump versions to 9.9.9",
            "-version = \"0.1.0\"",
            "+version = \"9.9.9\"",
            "+demo-core = { path = \"core\", version = \"9.9.9\" }",
            "+demo-app = { path = \"app\", version = \"9.9.9\" }",
            "2. CHANGELOG.md has a `## 9.9.9` section: ok",
            "3. the CI checks: cargo xtask ci",
            "4. cargo publish --dry-run, in dependency order: demo-core → demo-app",
            "-p demo-core -p demo-app",
            "5. commit the version bump",
            "5. commit the version bump: git commit -m 'Release 9.9.9' -- Cargo.toml Cargo.lock",
            "6. tag v9.9.9: git tag -a v9.9.9 -m 'HeliosDB Nano 9.9.9'",
        ] {
            assert!(
                report.contains(expected),
                "missing {expected:?} in:\n{report}"
            );
        }
        assert!(!report.contains("-p xtask"), "{report}");
        assert!(!report.contains("rust-version = \"9.9.9\""), "{report}");

        // Execute mode applies the same edits: now the disk changes.
        let Step::Bump(edits) = &plan.steps[0] else {
            panic!("first step is not the bump")
        };
        apply(edits).unwrap();
        let after = snapshot(&root);
        assert_ne!(after, before);
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace.package]\nversion = \"9.9.9\""));
        assert!(manifest.contains("anyhow = \"1\""));
        assert!(manifest.contains("rust-version = \"1.88\""));
        assert_eq!(manifest.matches("9.9.9").count(), 3);
        // Only the root manifest changed.
        let changed: Vec<_> = after
            .keys()
            .filter(|p| after.get(*p) != before.get(*p))
            .collect();
        assert_eq!(changed, [&root.join("Cargo.toml")]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_changelog_section_blocks_the_release() {
        let root = tiny_workspace("changelog");
        std::fs::write(root.join("CHANGELOG.md"), "# Changelog\n\n## 0.1.0\n").unwrap();
        let before = snapshot(&root);
        let plan = plan(&root, "9.9.9").unwrap();
        assert!(plan.blocked().unwrap().contains("## 9.9.9"));
        assert!(plan.report(false).contains("FAILS"));
        assert_eq!(snapshot(&root), before);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn versions_are_validated() {
        for ok in [
            "9.9.9",
            "0.1.0",
            "1.0.0-rc.1",
            "1.0.0+build.5",
            "10.20.30-alpha-1",
        ] {
            validate_semver(ok).unwrap();
        }
        for bad in [
            "9.9", "v1.0.0", "1.0.0.0", "01.0.0", "1.x.0", "", "1.0.0-", "1.0.0-01",
        ] {
            assert!(validate_semver(bad).is_err(), "{bad:?} accepted");
        }
        let root = tiny_workspace("semver");
        assert!(plan(&root, "9.9").is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn changelog_headings() {
        assert!(has_changelog_section("## 1.2.3\n", "1.2.3"));
        assert!(has_changelog_section("## [1.2.3] - 2026-01-01\n", "1.2.3"));
        assert!(has_changelog_section("## 1.2.3 (2026-01-01)\n", "1.2.3"));
        assert!(!has_changelog_section("## 1.2.30\n", "1.2.3"));
        assert!(!has_changelog_section("### 1.2.3\n", "1.2.3"));
    }
}
