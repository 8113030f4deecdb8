//! photofinder's core: everything that is not a window.
//!
//! A [`Library`] watches folders of photos, keeps a SQLite [`catalog`] of them
//! in step with the disk, embeds each photo with an ONNX image model
//! ([`embed`]), keeps the vectors in a [`store`], and answers similarity and
//! text queries. The CLI and the desktop app are thin layers over it; the
//! README's "Inside the core" draws the modules in their layers.
//!
//! The public surface is the types re-exported here and the modules front
//! ends and benchmarks reach into (the catalog, decoding, stores, ...).
//! Modules that only the library itself drives (queries, feedback, text
//! search, the watcher, locking, file opening) are private: their results
//! and options are re-exported.

pub mod access;
pub mod catalog;
pub mod decode;
pub mod duplicates;
pub mod embed;
pub mod engine;
mod error;
pub mod explore;
mod files;
pub mod index;
pub mod library;
mod lock;
mod memory;
pub mod moment;
pub mod models;
pub mod paths;
mod phash;
pub mod preprocess;
pub mod progress;
mod refine;
pub mod scan;
mod search;
pub mod store;
mod text;
pub mod thumbs;
pub mod video;
mod watch;

/// photofinder's version: the workspace's, so the CLI, the app and the package agree.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use catalog::Photo;
pub use engine::{Engine, EngineState, Notice};
pub use error::{Error, Result};
pub use library::{IndexReport, Library, Status};
pub use lock::WriteGuard;
pub use models::{ModelDir, ModelSpec, ModelStatus};
pub use progress::{Cancel, Event, Progress};
pub use refine::{Example, Feedback};
pub use search::{SearchHit, SearchResults};
pub use store::{Filter, VectorStore};
pub use text::{MatchedClass, TextMethod, TextResults};
pub use watch::{WatchOptions, Watcher};
