//! `models/install.sh` accepts model files a user already has, and is safe to run twice.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn models_dir() -> PathBuf {
    std::env::var_os("PHOTOFINDER_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join(".cache/models"))
}

#[test]
fn a_users_onnx_file_is_installed_with_its_provenance_and_reinstalling_keeps_it() {
    let have = models_dir().join("resnet50.onnx");
    assert!(have.is_file(), "run scripts/test first: it installs the test models");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("models");
    for _ in 0..2 {
        let out = Command::new(repo().join("models/install.sh"))
            .args(["--dir", dir.to_str().unwrap(), "--resnet50", have.to_str().unwrap(), "--no-int8"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("resnet50.json")).unwrap()).unwrap();
    assert_eq!(sidecar["weights"], "user");
    assert_eq!(sidecar["source"], have.to_str().unwrap());
    assert_eq!(std::fs::read(dir.join("resnet50.onnx")).unwrap(), std::fs::read(&have).unwrap());

    let out = Command::cargo_bin("photofinder")
        .unwrap()
        .args(["models", "--json"])
        .env("PHOTOFINDER_MODELS_DIR", &dir)
        .env("PHOTOFINDER_LIBRARY", tmp.path().join("library"))
        .output()
        .unwrap();
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let installed: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["installed"] == true)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(installed, ["efficientnet-lite0", "resnet50"], "--no-int8 leaves the int8 build out");
    assert!(models["runtime"].as_str().unwrap().ends_with("libonnxruntime.so"));

    let bad = tmp.path().join("nothing.onnx");
    let out = Command::new(repo().join("models/install.sh")).args(["--dir", dir.to_str().unwrap(), "--resnet50", bad.to_str().unwrap(), "--no-int8"]).output().unwrap();
    assert!(!out.status.success(), "a missing file is an error");
}
