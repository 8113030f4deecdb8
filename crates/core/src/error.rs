//! The core's one error type. Its variants are what callers tell apart (a
//! bad query, a photo that is gone, a store that is down, a closed engine);
//! `Error::kind` names them for front ends that react by kind.

use std::path::PathBuf;

/// Everything that can go wrong in photofinder's core, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Decode(#[from] crate::decode::DecodeError),

    #[error("{0}")]
    Video(crate::video::VideoError),

    #[error("ONNX Runtime: {0}")]
    Runtime(String),

    /// `name` is a model's, or "ONNX Runtime".
    #[error("{name} is not installed: {hint}")]
    ModelMissing { name: String, hint: String },

    #[error("unknown model {0:?} (`photofinder models` lists the known ones)")]
    UnknownModel(String),

    #[error("model {name}: {message}")]
    Model { name: String, message: String },

    #[error("vector store: {0}")]
    Store(String),

    #[error("{0} is not a watched folder")]
    NotAFolder(PathBuf),

    #[error("{0} is not in the library")]
    NotInLibrary(PathBuf),

    /// A window's query named a file it may not read (see `access`).
    #[error("{0} was neither dropped onto the window nor is in a watched folder")]
    NotPermitted(PathBuf),

    #[error("watcher: {0}")]
    Watch(#[from] notify::Error),

    #[error("invalid setting: {0}")]
    Config(String),

    /// A query that cannot be answered as asked ("more like these needs at
    /// least one photo", a distance out of range): the caller can fix it.
    #[error("{0}")]
    BadQuery(String),

    /// A library item that exists but is not what the call needs (a video
    /// where a photo is wanted, a moment not yet embedded).
    #[error("{0}")]
    NotAPhoto(String),

    /// No photo (or video moment) with this id: it was deleted meanwhile.
    #[error("no photo with id {0} in the library")]
    NoSuchPhoto(i64),

    /// The library's engine (or the file watcher) has stopped: reopen it.
    #[error("{0}")]
    Closed(String),

    /// A stored value could not be read back (a catalog edited by hand).
    #[error("stored {what} unreadable: {message}")]
    CorruptSetting { what: &'static str, message: String },

    /// Something that should not happen (a value that does not serialise, a
    /// thread that cannot start): a bug, or the machine out of resources.
    #[error("internal error: {0}")]
    Internal(String),

    /// No server could be reached for a download (offline, a proxy, DNS).
    /// (The variable is `models::hub::MIRROR_ENV`; spelled out here, as errors sit below models.)
    #[error("cannot reach {host} ({message}); check the connection, or set a mirror: PHOTOFINDER_MODEL_MIRROR or the library's model mirror setting (Settings -> Models)")]
    Offline { host: String, message: String },

    /// A download the server refused, or whose bytes are not what was
    /// published: nothing was installed.
    #[error("download {url}: {message}")]
    Download { url: String, message: String },

    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A stable name for what went wrong, for front ends that react by kind
    /// (the app's commands answer `{kind, message}`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Catalog(_) => "catalog",
            Error::Io { .. } => "io",
            Error::Decode(e) if e.is_unsupported() => "unsupported",
            Error::Decode(_) => "undecodable",
            Error::Video(_) => "video",
            Error::Runtime(_) => "runtime",
            Error::ModelMissing { .. } | Error::UnknownModel(_) => "model_missing",
            Error::Model { .. } => "model",
            Error::Store(_) => "store_unreachable",
            Error::NotAFolder(_) => "not_a_folder",
            Error::NotInLibrary(_) => "not_in_library",
            Error::NotPermitted(_) => "not_permitted",
            Error::Watch(_) => "watch",
            Error::Config(_) => "config",
            Error::BadQuery(_) => "bad_query",
            Error::NotAPhoto(_) => "not_a_photo",
            Error::NoSuchPhoto(_) => "no_such_photo",
            Error::Closed(_) => "closed",
            Error::CorruptSetting { .. } => "corrupt_setting",
            Error::Internal(_) => "internal",
            Error::Offline { .. } => "offline",
            Error::Download { .. } => "download",
            Error::Cancelled => "cancelled",
        }
    }

    /// For `map_err` on serialisations that cannot fail on our own types.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl From<ort::Error> for Error {
    fn from(e: ort::Error) -> Self {
        Error::Runtime(e.to_string())
    }
}

impl From<ort::Error<ort::session::builder::SessionBuilder>> for Error {
    fn from(e: ort::Error<ort::session::builder::SessionBuilder>) -> Self {
        Error::Runtime(e.to_string())
    }
}

impl From<crate::video::VideoError> for Error {
    fn from(e: crate::video::VideoError) -> Self {
        match e {
            // A cancelled extraction is the caller's cancel, not a bad video.
            crate::video::VideoError::Cancelled => Error::Cancelled,
            e => Error::Video(e),
        }
    }
}
