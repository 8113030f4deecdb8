//! Models installed from a model hub, in one click.
//!
//! The models offered here are ones Immich publishes on Hugging Face for its
//! users, already converted to ONNX: per model a `visual/model.onnx`, a
//! `textual/model.onnx` with its `tokenizer.json`, and the configs saying
//! how to feed them. No conversion runs on the user's machine, so nothing
//! beyond this program is needed (the upstream PyTorch files need Python:
//! that path stays with `models/install.sh --download`).
//!
//! The hub is Hugging Face's API: `{base}/api/models/{repo}/revision/{rev}`
//! lists a commit's files with their sizes and digests (SHA-256 for the
//! large ones), and `{base}/{repo}/resolve/{commit}/{path}` serves them.
//! `base` is `https://huggingface.co`, or a mirror speaking the same API
//! (`PHOTOFINDER_MODEL_MIRROR`, or the library's `model_mirror` setting),
//! which is also how a local copy is served.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::download::{self, Digest, Expected};
use super::{ModelDir, ModelSpec, ModelStatus, Provenance};
use crate::error::{Error, Result};
use crate::progress::{Cancel, DownloadProgress, Event, Sink};

pub const DEFAULT_HUB: &str = "https://huggingface.co";
/// The environment variable naming a mirror; it wins over the setting.
pub const MIRROR_ENV: &str = "PHOTOFINDER_MODEL_MIRROR";

/// Where a model comes from on the hub (the manifest's `[model.hub]`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct HubSource {
    /// `owner/name` on the hub.
    pub repo: String,
    /// Branch, tag or commit; the install pins the commit it resolves to.
    #[serde(default = "main")]
    pub revision: String,
    /// Download size in MB, for the window.
    pub size_mb: u32,
    /// What the weights were trained on, for the sidecar and the window.
    pub weights: String,
}

fn main() -> String {
    "main".into()
}

/// The hub to use: the environment variable, else the setting, else
/// Hugging Face. A trailing slash is dropped.
pub fn hub_base(setting: Option<&str>) -> String {
    let env = std::env::var(MIRROR_ENV).ok().filter(|s| !s.trim().is_empty());
    let base = env.as_deref().or(setting.filter(|s| !s.trim().is_empty())).unwrap_or(DEFAULT_HUB);
    base.trim().trim_end_matches('/').to_string()
}

/// One file of the hub layout and where it goes in the models folder.
struct Placement {
    remote: &'static str,
    local: String,
}

/// Immich's layout for a CLIP-style model. The image tower comes last: its
/// presence is what makes the model count as installed.
fn placements(spec: &ModelSpec) -> Vec<Placement> {
    let text = spec.text_model.clone().unwrap_or_else(|| format!("{}-text", spec.name));
    vec![
        Placement { remote: "config.json", local: format!("{}.config.json", spec.name) },
        Placement { remote: "visual/preprocess_cfg.json", local: format!("{}.preprocess.json", spec.name) },
        Placement { remote: "textual/tokenizer.json", local: format!("{text}.tokenizer.json") },
        Placement { remote: "textual/tokenizer_config.json", local: format!("{text}.tokenizer_config.json") },
        Placement { remote: "textual/model.onnx", local: format!("{text}.onnx") },
        Placement { remote: "visual/model.onnx", local: format!("{}.onnx", spec.name) },
    ]
}

#[derive(Deserialize)]
struct RevisionInfo {
    sha: String,
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Deserialize)]
struct Sibling {
    rfilename: String,
    #[serde(rename = "blobId")]
    blob_id: Option<String>,
    size: Option<u64>,
    lfs: Option<Lfs>,
}

#[derive(Deserialize)]
struct Lfs {
    sha256: String,
    size: u64,
}

impl Sibling {
    fn expected(&self) -> Option<Expected> {
        match (&self.lfs, &self.blob_id, self.size) {
            (Some(lfs), _, _) => Some(Expected { size: lfs.size, digest: Digest::Sha256(lfs.sha256.to_lowercase()) }),
            (None, Some(blob), Some(size)) => Some(Expected { size, digest: Digest::GitBlob(blob.to_lowercase()) }),
            _ => None,
        }
    }
}

/// Download, verify and install the hub model `name` into `models`.
/// Progress goes to `sink` as `Event::Download`; cancelled, the partial
/// files stay in `<models>/.downloads` and the next install resumes them.
pub fn install(models: &ModelDir, name: &str, base: &str, sink: Sink, cancel: &Cancel) -> Result<ModelStatus> {
    let spec = ModelDir::spec(name)?;
    let Some(hub) = spec.hub.clone() else {
        return Err(Error::Model { name: name.into(), message: format!("is not offered for download; install it with {}", spec.install) });
    };
    let _downloading = DownloadLock::take(models, name)?;
    let client = download::client()?;
    let info = revision(&client, base, &hub)?;
    // Installed from this very commit already (from any mirror): nothing to fetch.
    let current = models.status(name)?;
    let same_commit = format!("{}@{}", hub.repo, info.sha);
    if current.installed
        && current.text_installed != Some(false)
        && current.provenance.as_ref().is_some_and(|p| p.source.ends_with(&same_commit))
    {
        return Ok(current);
    }
    // Partial and verified files wait here until all are in; they belong to
    // one commit of the hub, and a newer commit starts afresh.
    let staging = models.dir.join(".downloads").join(name);
    let commit_file = staging.join("commit");
    if std::fs::read_to_string(&commit_file).ok().as_deref() != Some(info.sha.as_str()) {
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        std::fs::write(&commit_file, &info.sha).map_err(|e| Error::io(&commit_file, e))?;
    }

    let placements = placements(&spec);
    let mut wanted = Vec::new();
    for p in &placements {
        let sibling = info.siblings.iter().find(|s| s.rfilename == p.remote).ok_or_else(|| Error::Download {
            url: format!("{base}/{}", hub.repo),
            message: format!("the hub's {} (commit {}) has no {}", hub.repo, short(&info.sha), p.remote),
        })?;
        let expected = sibling.expected().ok_or_else(|| Error::Download {
            url: format!("{base}/{}", hub.repo),
            message: format!("the hub lists no size and digest for {}: it cannot be verified", p.remote),
        })?;
        wanted.push((p, expected));
    }
    let total: u64 = wanted.iter().map(|(_, e)| e.size).sum();
    let mut before = 0u64;
    for (p, expected) in &wanted {
        let url = format!("{base}/{}/resolve/{}/{}", hub.repo, info.sha, p.remote);
        let dest = staging.join(&p.local);
        if !dest.is_file() {
            let report = |done: u64, _: u64| {
                sink(Event::Download(DownloadProgress { model: name.into(), file: p.remote.into(), done: before + done, total }))
            };
            download::fetch(&client, &url, &dest, expected, &report, cancel)?;
        }
        before += expected.size;
    }
    sink(Event::Download(DownloadProgress { model: name.into(), file: String::new(), done: total, total }));
    check_configs(&spec, &staging)?;

    // Everything verified: move into place, the image tower last.
    for p in &placements {
        let (from, to) = (staging.join(&p.local), models.dir.join(&p.local));
        std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
    }
    let image = wanted.last().map(|(_, e)| e.clone()).expect("the layout has files");
    let provenance = Provenance {
        weights: hub.weights.clone(),
        source: format!("{base}/{}@{}", hub.repo, info.sha),
        sha256: match image.digest {
            Digest::Sha256(d) | Digest::GitBlob(d) => d,
        },
    };
    let sidecar = models.dir.join(format!("{name}.json"));
    let json = serde_json::to_vec(&provenance).map_err(Error::internal)?;
    std::fs::write(&sidecar, json).map_err(|e| Error::io(&sidecar, e))?;
    let _ = std::fs::remove_dir_all(&staging);
    models.status(name)
}

/// One download of a model at a time (two windows, the CLI beside the
/// app): an advisory lock the kernel drops with the process.
struct DownloadLock {
    _file: std::fs::File,
}

impl DownloadLock {
    fn take(models: &ModelDir, name: &str) -> Result<DownloadLock> {
        use std::os::fd::AsRawFd;
        let dir = models.dir.join(".downloads");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{name}.lock"));
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::io(&path, e))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(Error::Download {
                url: name.to_string(),
                message: format!("{name} is being downloaded by another photofinder now; it is installed when that one finishes"),
            });
        }
        Ok(DownloadLock { _file: file })
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// The commit `hub.revision` names now, with its files' sizes and digests.
fn revision(client: &reqwest::blocking::Client, base: &str, hub: &HubSource) -> Result<RevisionInfo> {
    let url = format!("{base}/api/models/{}/revision/{}?blobs=true", hub.repo, hub.revision);
    let response = client.get(&url).send().map_err(|e| download::unreachable(&url, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Download { url, message: format!("the hub answered {status}") });
    }
    let body = response.bytes().map_err(|e| Error::Download { url: url.clone(), message: e.to_string() })?;
    serde_json::from_slice(&body).map_err(|e| Error::Download { url, message: format!("not a hub's answer: {e}") })
}

/// The downloaded configs must describe the model the manifest knows: same
/// vector size, an image input the pipeline can make.
fn check_configs(spec: &ModelSpec, staging: &Path) -> Result<()> {
    let read = |p: PathBuf| -> Result<serde_json::Value> {
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Model { name: spec.name.clone(), message: format!("{}: {e}", p.display()) })
    };
    let config = read(staging.join(format!("{}.config.json", spec.name)))?;
    if let Some(dim) = config.get("embed_dim").and_then(|v| v.as_u64()) {
        if dim as usize != spec.dim {
            return Err(Error::Model {
                name: spec.name.clone(),
                message: format!("the hub's model makes {dim}-d vectors, the manifest says {}: not installed", spec.dim),
            });
        }
    }
    let preprocess = read(staging.join(format!("{}.preprocess.json", spec.name)))?;
    super::InstalledPreprocess::from_json(&preprocess).map_err(|message| Error::Model { name: spec.name.clone(), message })?;
    Ok(())
}
