//! Progress reporting and cancellation for long operations.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use ts_rs::TS;

/// A flag a caller sets to stop an operation; it stops at the next file and
/// leaves the catalog consistent, so the next run resumes where it stopped.
#[derive(Clone, Default, Debug)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Phase {
    Scanning,
    Embedding,
    /// Comparing photos with their neighbours, for duplicate groups.
    Comparing,
    /// Laying out the map.
    Mapping,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
    pub errors: u64,
    #[serde(serialize_with = "crate::paths::lossy_opt")]
    pub current: Option<PathBuf>,
    /// Items per second since the phase started.
    pub rate: f64,
    /// Seconds left at the current rate.
    pub eta_secs: Option<f64>,
}

/// How far a model install has come, for a progress bar.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DownloadProgress {
    pub model: String,
    /// The file being fetched (its path on the hub).
    pub file: String,
    /// Bytes of all the model's files fetched so far, and in all.
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// What happens while indexing and watching, for a progress bar or an app.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Progress(Progress),
    Added { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf },
    Changed { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf },
    Removed { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf },
    Moved { #[serde(serialize_with = "crate::paths::lossy")] from: PathBuf, #[serde(serialize_with = "crate::paths::lossy")] to: PathBuf },
    Failed { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, error: String },
    Skipped { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, reason: String },
    /// A valid file using a feature not decoded here.
    Unsupported { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, reason: String },
    /// Indexed, although the decoder warned (what it recovered from).
    Recovered { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, warning: String },
    /// Not catalogued: a special file (FIFO, socket, device) or a broken
    /// symbolic link (a loop, a link to nothing).
    Ignored { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, reason: String },
    /// A folder could not be read (permissions, I/O error).
    Unreadable { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf, error: String },
    FolderMissing { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf },
    FolderBack { #[serde(serialize_with = "crate::paths::lossy")] path: PathBuf },
    /// The vector store could not be written (Milvus down, say): the catalog
    /// has the change and the store catches up when it is reachable again.
    StoreBehind { error: String },
    /// Another process is changing the library; this one waits for it.
    WaitingForWriter { holder: String },
    /// The watcher lost track (event queue overflow, say): a rescan follows.
    Rescan { reason: String },
    /// A model's files coming down from the hub.
    Download(DownloadProgress),
}

/// Where events go. The CLI draws a progress bar; the app forwards them to its window.
pub type Sink<'a> = &'a (dyn Fn(Event) + Sync);

/// Counts items and turns them into `Progress` events.
#[derive(Clone)]
pub(crate) struct Meter {
    phase: Phase,
    started: Instant,
    pub done: u64,
    pub total: u64,
    pub errors: u64,
}

impl Meter {
    pub fn new(phase: Phase, total: u64) -> Meter {
        Meter { phase, started: Instant::now(), done: 0, total, errors: 0 }
    }

    pub fn event(&self, current: Option<PathBuf>) -> Event {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { self.done as f64 / secs } else { 0.0 };
        let eta_secs = (rate > 0.0).then(|| self.total.saturating_sub(self.done) as f64 / rate);
        Event::Progress(Progress {
            phase: self.phase,
            done: self.done,
            total: self.total,
            errors: self.errors,
            current,
            rate,
            eta_secs,
        })
    }
}
