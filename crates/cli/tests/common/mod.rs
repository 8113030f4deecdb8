//! The `photofinder` binary in a temporary library with the real models and photos.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

pub fn dir_from_env(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(default))
}

pub fn photos_dir() -> PathBuf {
    let photos = dir_from_env("PHOTOFINDER_TEST_PHOTOS", ".cache/photos");
    assert!(photos.join("chelsea.png").is_file(), "run scripts/test to fetch the test photos");
    photos
}

pub struct Env {
    pub tmp: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let photos = photos_dir();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("photos");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, out) in [("chelsea.png", "cat.jpg"), ("coffee.png", "coffee.jpg"), ("rocket.jpg", "rocket.jpg"), ("astronaut.png", "astronaut.jpg")] {
            image::open(photos.join(name)).unwrap().into_rgb8().save(dir.join(out)).unwrap();
        }
        Env { tmp }
    }

    pub fn photos(&self) -> PathBuf {
        self.tmp.path().join("photos")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("photofinder").unwrap();
        c.env("PHOTOFINDER_LIBRARY", self.tmp.path().join("library"))
            .env("PHOTOFINDER_MODELS_DIR", dir_from_env("PHOTOFINDER_MODELS_DIR", ".cache/models"))
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("PHOTOFINDER_MODEL_MIRROR");
        c
    }

    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let (code, out, err) = self.run(&all);
        assert_eq!(code, 0, "photofinder {args:?} failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

