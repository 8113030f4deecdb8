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
    Video(#[from] crate::video::VideoError),

    #[error("ONNX Runtime: {0}")]
    Runtime(String),

    #[error("model {name} is not installed: {hint}")]
    ModelMissing { name: String, hint: String },

    #[error("unknown model {0:?} (known: efficientnet-lite0, resnet50, clip-vit-b32)")]
    UnknownModel(String),

    #[error("model {name}: {message}")]
    Model { name: String, message: String },

    #[error("vector store: {0}")]
    Store(String),

    #[error("{0} is not a watched folder")]
    NotAFolder(PathBuf),

    #[error("{0} is not in the library")]
    NotInLibrary(PathBuf),

    #[error("watcher: {0}")]
    Watch(#[from] notify::Error),

    #[error("invalid setting: {0}")]
    Config(String),

    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
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
