//! The reference pipeline in Python (Pillow + onnxruntime), run in a child
//! process with an interpreter from a virtual environment this module
//! creates and fills from PyPI.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use photofinder_core::ModelStatus;

const SCRIPT: &str = include_str!("reference.py");
/// Pinned so that the reference is the same on every run.
/// Pillow with the plugins a Python program reads HEIC (pillow-heif), JPEG
/// XL (pillow-jxl-plugin) and camera RAWs (rawpy, LibRaw's binding) with.
const PACKAGES: &[&str] = &[
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
    "pillow==13.0.0",
    "pillow-heif==1.8.1",
    "pillow-jxl-plugin==1.3.8",
    "rawpy==0.28.0",
];

/// A Python with the reference's packages, in `<work>/venv`.
pub struct Reference {
    python: PathBuf,
    script: PathBuf,
}

impl Reference {
    /// Create the environment unless it is there already (then this is quick).
    pub fn install(work: &Path) -> Result<Reference> {
        let venv = work.join("venv");
        let python = venv.join("bin/python");
        let stamp = venv.join("photofinder-reference.txt");
        let wanted = PACKAGES.join("\n");
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            eprintln!("installing the Python reference pipeline ({}) ...", PACKAGES.join(", "));
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
            run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PACKAGES))?;
            std::fs::write(&stamp, &wanted)?;
        }
        let script = work.join("reference.py");
        std::fs::write(&script, SCRIPT)?;
        Ok(Reference { python, script })
    }

    /// Photos per second of the reference pipeline over `photos`.
    pub fn throughput(&self, model: &ModelStatus, photos: &[PathBuf]) -> Result<f64> {
        let spec_path = self.script.with_file_name(format!("{}.spec.json", model.spec.name));
        std::fs::write(&spec_path, serde_json::to_vec(&model.spec)?)?;
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(&model.path)
            .arg(&spec_path)
            .args(photos)
            .output()
            .context("cannot start the reference pipeline")?;
        if !out.status.success() {
            bail!("the reference pipeline failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).context("the reference pipeline's output")?;
        let n = result["photos"].as_f64().unwrap_or(0.0);
        let s = result["seconds"].as_f64().unwrap_or(f64::NAN);
        Ok(n / s)
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}
