//! Compiles `csrc/shim.cc` (the C++ glue between RocksDB's encryption
//! plug-in point and this crate's Rust callbacks) against the headers of the
//! exact librocksdb-sys this build links, with the compile flags of that
//! crate's build script that affect the C++ ABI.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=csrc/shim.cc");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ROCKSDB_CXX_STD");

    let sys_dir = librocksdb_sys_dir();
    let rocksdb = sys_dir.join("rocksdb");
    let header = rocksdb.join("include/rocksdb/env_encryption.h");
    if !header.is_file() {
        panic!(
            "heliosdb-fileenc: librocksdb-sys at {} has no rocksdb/include/rocksdb/env_encryption.h; \
             the shim needs the RocksDB sources that librocksdb-sys builds from",
            sys_dir.display()
        );
    }

    let target = env::var("TARGET").unwrap_or_default();
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("csrc/shim.cc")
        .include(rocksdb.join("include"))
        .include(&rocksdb)
        // librocksdb-sys defines these for every RocksDB object; they select
        // code paths in public headers, so the shim must see the same ones.
        .define("NDEBUG", Some("1"))
        .define("HAVE_ALIGNED_NEW", None)
        .warnings(false);
    if !target.contains("msvc") {
        build.define("HAVE_UINT128_EXTENSION", None);
    }

    if target.contains("msvc") {
        build.flag("-EHsc").flag("-std:c++20");
    } else {
        // Same language standard as RocksDB itself (librocksdb-sys honours
        // ROCKSDB_CXX_STD, so do we).
        let std = env::var("ROCKSDB_CXX_STD").map_or("-std=c++20".to_owned(), |s| {
            if s.starts_with("-std=") {
                s
            } else {
                format!("-std={s}")
            }
        });
        build.flag(&std).flag("-include").flag("cstdint");
    }

    // Platform defines, as librocksdb-sys sets them per target.
    match target_os.as_str() {
        "linux" => {
            for d in [
                "OS_LINUX",
                "ROCKSDB_PLATFORM_POSIX",
                "ROCKSDB_LIB_IO_POSIX",
                "ROCKSDB_SCHED_GETCPU_PRESENT",
                "ROCKSDB_AUXV_GETAUXVAL_PRESENT",
                "ROCKSDB_FALLOCATE_PRESENT",
                "ROCKSDB_RANGESYNC_PRESENT",
            ] {
                build.define(d, None);
            }
        }
        "macos" | "ios" => {
            for d in ["OS_MACOSX", "ROCKSDB_PLATFORM_POSIX", "ROCKSDB_LIB_IO_POSIX"] {
                build.define(d, None);
            }
        }
        "android" => {
            for d in ["OS_ANDROID", "ROCKSDB_PLATFORM_POSIX", "ROCKSDB_LIB_IO_POSIX"] {
                build.define(d, None);
            }
        }
        "freebsd" => {
            for d in ["OS_FREEBSD", "ROCKSDB_PLATFORM_POSIX", "ROCKSDB_LIB_IO_POSIX"] {
                build.define(d, None);
            }
        }
        "windows" => {
            for d in ["OS_WIN", "WIN64", "NOMINMAX", "_MBCS", "ROCKSDB_WINDOWS_UTF8_FILENAMES"] {
                build.define(d, None);
            }
        }
        other => println!(
            "cargo::warning=heliosdb-fileenc: no RocksDB platform defines known for target OS {other:?}"
        ),
    }
    if env::var("CARGO_CFG_TARGET_POINTER_WIDTH").as_deref() != Ok("64") {
        build.define("_FILE_OFFSET_BITS", Some("64"));
        build.define("_LARGEFILE64_SOURCE", Some("1"));
    }
    // RTTI: librocksdb-sys never passes -fno-rtti, so its objects carry
    // typeinfo for the classes the shim derives from; its `rtti` feature only
    // adds USE_RTTI, which switches debug-build checked casts (compiled out
    // under NDEBUG). Nothing to match here.

    // The power-loss simulation (tests only) includes RocksDB's internal
    // utilities/fault_injection_fs.h, found through the `rocksdb` include
    // directory above; its implementation is already in librocksdb-sys's
    // library (rocksdb_lib_sources.txt lists utilities/fault_injection_fs.cc).
    if env::var_os("CARGO_FEATURE_FAULT_INJECTION").is_some() {
        build.define("HELIOSDB_FILEENC_FAULT_INJECTION", None);
    }

    build.compile("heliosdb_fileenc_shim");
}

/// The librocksdb-sys source directory: the `links = "rocksdb"` metadata its
/// build script exports to direct dependents, else `cargo metadata`.
fn librocksdb_sys_dir() -> PathBuf {
    if let Some(dir) = env::var_os("DEP_ROCKSDB_CARGO_MANIFEST_DIR") {
        return PathBuf::from(dir);
    }
    match from_cargo_metadata() {
        Ok(dir) => dir,
        Err(why) => panic!(
            "heliosdb-fileenc: cannot locate the librocksdb-sys sources (DEP_ROCKSDB_CARGO_MANIFEST_DIR \
             is unset and `cargo metadata` failed: {why}); the C++ shim must be compiled against the \
             RocksDB headers of the librocksdb-sys this build links"
        ),
    }
}

fn from_cargo_metadata() -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").ok_or("CARGO is unset")?;
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is unset")?;
    let manifest = Path::new(&manifest_dir).join("Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .output()
        .map_err(|e| format!("running cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    // A dependency-free scan of the JSON: find the package whose id names
    // librocksdb-sys and take its manifest_path.
    let text = String::from_utf8_lossy(&out.stdout);
    let key = "\"manifest_path\":\"";
    for (at, _) in text.match_indices("\"name\":\"librocksdb-sys\"") {
        let rest = &text[at..];
        if let Some(p) = rest.find(key) {
            let start = p + key.len();
            if let Some(len) = rest[start..].find('"') {
                let manifest = PathBuf::from(rest[start..start + len].replace("\\\\", "\\"));
                if let Some(dir) = manifest.parent() {
                    return Ok(dir.to_path_buf());
                }
            }
        }
    }
    Err("no package named librocksdb-sys in cargo metadata".into())
}
