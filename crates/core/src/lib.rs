//! photofinder's core: everything that is not a window.
//!
//! A [`Library`] watches folders of photos, keeps a SQLite [`catalog`] of them
//! in step with the disk, embeds each photo with an ONNX image model
//! ([`embed`]), keeps the vectors in a [`store`], and answers similarity
//! queries ([`search`]). The CLI and the desktop app are thin layers over it.

pub mod access;
pub mod catalog;
pub mod decode;
pub mod duplicates;
pub mod embed;
pub mod engine;
pub mod explore;
pub mod error;
pub mod files;
pub mod index;
pub mod library;
pub mod lock;
pub mod memory;
pub mod models;
pub mod paths;
mod phash;
pub mod preprocess;
pub mod progress;
pub mod refine;
pub mod scan;
pub mod search;
pub mod store;
pub mod text;
pub mod thumbs;
pub mod video;
pub mod watch;

pub use error::{Error, Result};
pub use catalog::Photo;
pub use library::{IndexReport, Library, Status};
pub use models::{ModelDir, ModelSpec, ModelStatus};
pub use progress::{Cancel, Event, Progress};
pub use refine::{Example, Feedback};
pub use search::{SearchHit, SearchResults};
pub use store::{Filter, VectorStore};
pub use text::{TextMethod, TextResults};
pub use watch::{WatchOptions, Watcher};
pub use engine::{Engine, EngineState, Notice};
