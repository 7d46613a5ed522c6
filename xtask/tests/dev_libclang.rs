//! `./dev`'s libclang detection, run against fake roots: the README's first
//! command must install `libclang-dev` on a machine that has only what the
//! base image ships (`libclang-cpp.so.14`, which bindgen never loads), and
//! must not reinstall it where a libclang bindgen loads is present.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh, empty directory under the system temp dir for one case.
fn fake_root(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "heliosdb-dev-libclang-{}-{case}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn touch(root: &Path, rel: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, b"\x7fELF").unwrap();
}

/// Runs `./dev libclang-check` with DEV_SYSROOT=root; returns its answer and
/// checks that the exit code agrees with it.
fn check(root: &Path, libclang_path: Option<&Path>) -> String {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dev");
    let mut cmd = Command::new("bash");
    cmd.arg(&dev).arg("libclang-check").env("DEV_SYSROOT", root);
    cmd.env_remove("LIBCLANG_PATH");
    if let Some(p) = libclang_path {
        cmd.env("LIBCLANG_PATH", p);
    }
    let out = cmd.output().expect("run ./dev libclang-check");
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match answer.as_str() {
        "found" => assert!(out.status.success(), "found must exit 0"),
        "missing" => assert_eq!(out.status.code(), Some(1), "missing must exit 1"),
        other => panic!(
            "unexpected answer {other:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
    answer
}

#[test]
fn base_image_with_only_libclang_cpp_is_missing() {
    let root = fake_root("cpp-only");
    // Exactly what llvm-14's runtime puts on Debian's base image.
    touch(&root, "lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(&root, "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(&root, "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(&root, "usr/lib/llvm-14/lib/libclang-cpp.so");
    assert_eq!(check(&root, None), "missing");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn empty_root_is_missing() {
    let root = fake_root("empty");
    assert_eq!(check(&root, None), "missing");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn libclang_dev_layout_is_found() {
    // libclang-14-dev's symlink in llvm's own lib directory.
    let root = fake_root("dev");
    touch(&root, "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(&root, "usr/lib/llvm-14/lib/libclang.so");
    assert_eq!(check(&root, None), "found");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn versioned_runtime_library_is_found() {
    // libclang1-14's file, which clang-sys's `libclang-*.so.*` pattern loads.
    let root = fake_root("runtime");
    touch(&root, "usr/lib/x86_64-linux-gnu/libclang-14.so.1");
    assert_eq!(check(&root, None), "found");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn libclang_path_is_honoured() {
    let root = fake_root("env");
    let custom = fake_root("env-custom");
    touch(&custom, "libclang.so.18.1");
    assert_eq!(check(&root, None), "missing");
    assert_eq!(check(&root, Some(&custom)), "found");
    fs::remove_dir_all(&root).unwrap();
    fs::remove_dir_all(&custom).unwrap();
}
