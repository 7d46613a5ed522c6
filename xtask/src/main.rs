//! `cargo xtask`: HeliosDB Nano's project automation, written in Rust so it
//! runs wherever cargo does (aliased in `.cargo/config.toml`).
//!
//! One module per subcommand. Run it through `./dev cargo xtask …` so that
//! the C/C++ compiler environment (ccache) is the same one the README's
//! commands use; otherwise RocksDB's build script sees a different `CC`/`CXX`
//! and builds RocksDB again.

mod bench_report;
mod ci;
mod deny;
mod dist;
mod fuzz;
mod release;
mod tidy;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci [--fail-fast] [STAGE…]   fmt, clippy, tests, each KMS feature alone
                              (check-*) and together (kms-all), doctests,
                              rustdoc, fuzz smoke runs; timed; STAGE picks a
                              subset (kms-aws … test one feature alone)
  tidy                        our conventions: //! headers, no stubs, no key
                              material in logs, dependency licences, one
                              AEAD implementation in the default build
  dist [--features kms-all]   release binary + LICENSE + README as a
                              reproducible tarball and SHA256SUMS in target/dist
  release X.Y.Z [--execute]   bump every crate, check the changelog, ci,
                              publish --dry-run, tag; a dry run by default
  bench-report                run the encryption and rotation benches and
                              rewrite the README's tables
  fuzz [--seconds N] [--all]  run the fuzz/ targets N s each (default 60;
                              config, which links RocksDB, only with --all)
                              when nightly and cargo-fuzz are there, else skip
  deny                        cargo deny check licenses bans sources
                              (deny.toml) when cargo-deny is installed
  help                        this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match command {
        "ci" => ci::run(rest),
        "tidy" => tidy::run(&workspace_root()),
        "dist" => dist::run(rest),
        "release" => release::run(rest),
        "bench-report" => bench_report::run(rest),
        "fuzz" => fuzz::run(rest),
        "deny" => deny::run(rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: xtask's own manifest directory is one level below it.
///
/// Read at run time (`cargo run` sets `CARGO_MANIFEST_DIR` for the program),
/// not baked in at compile time: a target directory shared between clones
/// (CI's cache) may hold an xtask binary built from another checkout, and
/// cargo does not rebuild it for a new path.
fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
