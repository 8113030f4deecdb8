//! Milvus as the vector store, over gRPC (milvus-sdk-rust).
//!
//! One collection per model (a Milvus 2.3 collection holds one vector
//! field), keyed by the catalog's stable file id (no auto id, so upserts
//! work), with the path, capture time and format beside the vector for
//! filtered search. Vectors are unit length, so the collection uses inner
//! product and distances come out exactly as the embedded store's.
//!
//! Reads use Session consistency: the client sees its own writes at once
//! (a photo indexed a moment ago is found), without paying for Strong
//! consistency on every query.

use std::collections::HashMap;
use std::time::Duration;

use milvus::v2 as sdk;
use milvus::v2::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Filter, Hit, Point, VectorStore};
use crate::catalog::FileId;
use crate::error::{Error, Result};
use crate::models::Metric;

const ID: &str = "id";
const PATH: &str = "path";
const TAKEN: &str = "taken_at";
const FORMAT: &str = "format";
const VECTOR: &str = "vector";
/// Linux paths may be 4096 bytes; the tutorial's 512 is too short.
const MAX_PATH: u32 = 4096;
/// Rows per insert request: large batches, well under gRPC's 64 MB limit at 2048-d.
const BATCH: usize = 2000;
/// A missing capture time, stored as a value no filter range includes.
const NO_TIME: i64 = -(1 << 62);

/// How to reach Milvus and how to index there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MilvusConfig {
    pub uri: String,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub database: Option<String>,
    /// Collections are named `<prefix>_<model>`.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub index: IndexConfig,
}

fn default_prefix() -> String {
    "photofinder".into()
}

fn default_timeout() -> u64 {
    10
}

impl Default for MilvusConfig {
    fn default() -> Self {
        MilvusConfig {
            uri: "http://127.0.0.1:19530".into(),
            token: None,
            user: None,
            password: None,
            database: None,
            prefix: default_prefix(),
            timeout_secs: default_timeout(),
            index: IndexConfig::default(),
        }
    }
}

/// The vector index and its build and search parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexConfig {
    /// FLAT, IVF_FLAT, IVF_SQ8, IVF_PQ or HNSW.
    pub kind: String,
    /// Build parameters (nlist, m, nbits, M, efConstruction).
    pub build: HashMap<String, String>,
    /// Search parameters (nprobe, ef).
    pub search: HashMap<String, String>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            kind: "HNSW".into(),
            build: HashMap::from([("M".into(), "16".into()), ("efConstruction".into(), "200".into())]),
            search: HashMap::from([("ef".into(), "64".into())]),
        }
    }
}

impl IndexConfig {
    fn index_type(&self) -> Result<IndexType> {
        Ok(match self.kind.to_ascii_uppercase().as_str() {
            "FLAT" => IndexType::Flat,
            "IVF_FLAT" => IndexType::IvfFlat,
            "IVF_SQ8" => IndexType::IvfSq8,
            "IVF_PQ" => IndexType::IvfPq,
            "HNSW" => IndexType::Hnsw,
            other => return Err(Error::Config(format!("unknown Milvus index type {other:?}"))),
        })
    }
}

pub struct MilvusStore {
    runtime: tokio::runtime::Runtime,
    client: ClientV2,
    collection: String,
    config: MilvusConfig,
    metric: Metric,
    dim: usize,
}

fn store_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Store(format!("Milvus {what}: {e}"))
}

/// A string literal for a Milvus filter expression.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn filter_expr(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if !filter.folders.is_empty() {
        let any: Vec<String> = filter
            .folders
            .iter()
            .map(|f| {
                let mut prefix = f.to_string_lossy().into_owned();
                if !prefix.ends_with('/') {
                    prefix.push('/');
                }
                // `like` treats % and _ as wildcards: escape them in the path.
                let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                format!("{PATH} like {}", quoted(&format!("{escaped}%")))
            })
            .collect();
        parts.push(format!("({})", any.join(" or ")));
    }
    if filter.taken_after.is_some() || filter.taken_before.is_some() {
        parts.push(format!("{TAKEN} != {NO_TIME}"));
    }
    if let Some(a) = filter.taken_after {
        parts.push(format!("{TAKEN} >= {a}"));
    }
    if let Some(b) = filter.taken_before {
        parts.push(format!("{TAKEN} <= {b}"));
    }
    if !filter.formats.is_empty() {
        let list: Vec<String> = filter.formats.iter().map(|f| quoted(&f.to_lowercase())).collect();
        parts.push(format!("{FORMAT} in [{}]", list.join(", ")));
    }
    if !filter.exclude.is_empty() {
        let list: Vec<String> = filter.exclude.iter().map(|i| i.to_string()).collect();
        parts.push(format!("{ID} not in [{}]", list.join(", ")));
    }
    parts.join(" and ")
}

impl MilvusStore {
    /// Connect and make sure the model's collection exists, is indexed and loaded.
    pub fn open(config: &MilvusConfig, model: &str, dim: usize, metric: Metric) -> Result<MilvusStore> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Store(format!("cannot start the Milvus client runtime: {e}")))?;
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut connect = ConnectConfig::new()
            .uri(config.uri.clone())
            .connect_timeout(timeout)
            .rpc_timeout(timeout)
            .telemetry(TelemetryConfig::new().enabled(false));
        if let Some(t) = &config.token {
            connect = connect.token(t.clone());
        } else if let (Some(u), Some(p)) = (&config.user, &config.password) {
            connect = connect.token(format!("{u}:{p}"));
        }
        if let Some(db) = &config.database {
            connect = connect.database(db.clone());
        }
        let client = runtime
            .block_on(async { tokio::time::timeout(timeout, ClientV2::new(&connect)).await })
            .map_err(|_| store_error(&format!("at {}", config.uri), "no answer (is it running?)"))?
            .map_err(|e| store_error(&format!("at {}", config.uri), e))?;
        let collection = format!("{}_{}", config.prefix, model.replace('-', "_"));
        let store = MilvusStore { runtime, client, collection, config: config.clone(), metric, dim };
        store.ensure_collection()?;
        Ok(store)
    }

    fn block<T>(&self, what: &str, f: impl std::future::Future<Output = milvus::v2::error::Result<T>>) -> Result<T> {
        // Building an index over a large collection legitimately takes minutes.
        let secs = if what == "create_index" { 3600 } else { self.config.timeout_secs.max(1) * 3 };
        let timeout = Duration::from_secs(secs);
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, f).await })
            .map_err(|_| store_error(what, "timed out"))?
            .map_err(|e| store_error(what, e))
    }

    fn ensure_collection(&self) -> Result<()> {
        let exists = self.block(
            "has_collection",
            self.client.has_collection(
                sdk::request::collection::HasCollectionRequest::builder()
                    .collection_name(self.collection.clone())
                    .build()
                    .map_err(|e| store_error("request", e))?,
            ),
        )?;
        if !exists.exists() {
            self.create_collection()?;
        }
        self.block(
            "load_collection",
            self.client.load_collection(
                sdk::request::collection::LoadCollectionRequest::builder()
                    .collection_name(self.collection.clone())
                    .build()
                    .map_err(|e| store_error("request", e))?,
            ),
        )?;
        Ok(())
    }

    fn create_collection(&self) -> Result<()> {
        let schema = sdk::CollectionSchema::new()
            .add_field(sdk::FieldSchema::new().name(ID).data_type(sdk::DataType::Int64).primary_key(true))
            .add_field(sdk::FieldSchema::new().name(PATH).data_type(sdk::DataType::VarChar).max_length(MAX_PATH))
            .add_field(sdk::FieldSchema::new().name(TAKEN).data_type(sdk::DataType::Int64))
            .add_field(sdk::FieldSchema::new().name(FORMAT).data_type(sdk::DataType::VarChar).max_length(16))
            .add_field(
                sdk::FieldSchema::new().name(VECTOR).data_type(sdk::DataType::FloatVector).dimension(self.dim as u32),
            );
        let index = IndexParam::new()
            .field_name(VECTOR)
            .index_name(VECTOR)
            .index_type(self.config.index.index_type()?)
            .metric_type(MetricType::Ip)
            .extra_params(self.config.index.build.clone());
        self.block(
            "create_collection",
            self.client.create_collection(
                sdk::request::collection::CreateCollectionRequest::builder()
                    .collection_name(self.collection.clone())
                    .schema(schema)
                    .num_shards(1)
                    .index_params(vec![index])
                    .consistency_level(sdk::ConsistencyLevel::Session)
                    .build()
                    .map_err(|e| store_error("request", e))?,
            ),
        )
    }

    pub fn collection(&self) -> &str {
        &self.collection
    }

    fn request_error(e: impl std::fmt::Display) -> Error {
        store_error("request", e)
    }

    /// Replace the vector index (type and parameters) without touching the
    /// data: release, drop the index, build the new one, load.
    fn replace_index(&mut self, index: &IndexConfig) -> Result<()> {
        let param = IndexParam::new()
            .field_name(VECTOR)
            .index_name(VECTOR)
            .index_type(index.index_type()?)
            .metric_type(MetricType::Ip)
            .extra_params(index.build.clone());
        let name = self.collection.clone();
        self.block(
            "release_collection",
            self.client.release_collection(
                sdk::request::collection::ReleaseCollectionRequest::builder()
                    .collection_name(name.clone())
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )?;
        self.flush()?;
        self.block(
            "drop_index",
            self.client.drop_index(
                sdk::request::index::DropIndexRequest::builder()
                    .collection_name(name.clone())
                    .field_name(VECTOR)
                    .index_name(VECTOR)
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )?;
        self.block(
            "create_index",
            self.client.create_index(
                sdk::request::index::CreateIndexRequest::builder()
                    .collection_name(name.clone())
                    .index_param(param)
                    .sync(true)
                    .timeout_ms(3_600_000)
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )?;
        self.block(
            "load_collection",
            self.client.load_collection(
                sdk::request::collection::LoadCollectionRequest::builder()
                    .collection_name(name)
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )?;
        self.config.index = index.clone();
        Ok(())
    }

    /// Drop this model's collection (all its vectors) from the server.
    pub fn drop_collection(&self) -> Result<()> {
        self.block(
            "drop_collection",
            self.client.drop_collection(
                sdk::request::collection::DropCollectionRequest::builder()
                    .collection_name(self.collection.clone())
                    .build()
                    .map_err(|e| store_error("request", e))?,
            ),
        )
    }

    /// Persist what was written (seal segments), e.g. before a server restart.
    pub fn flush(&self) -> Result<()> {
        self.block(
            "flush",
            self.client.flush(
                FlushRequest::builder()
                    .collection_names([self.collection.clone()])
                    .build()
                    .map_err(|e| store_error("request", e))?,
            ),
        )
        .map(|_| ())
    }
}

impl VectorStore for MilvusStore {
    fn kind(&self) -> &'static str {
        "milvus"
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn upsert(&mut self, points: &[Point]) -> Result<()> {
        for chunk in points.chunks(BATCH) {
            let columns = vec![
                FieldData::int64(ID, chunk.iter().map(|p| p.id).collect()),
                FieldData::varchar(PATH, chunk.iter().map(|p| p.meta.path.to_string_lossy().into_owned()).collect()),
                FieldData::int64(TAKEN, chunk.iter().map(|p| p.meta.taken_at.unwrap_or(NO_TIME)).collect()),
                FieldData::varchar(FORMAT, chunk.iter().map(|p| p.meta.format.to_lowercase()).collect()),
                FieldData::float_vector(VECTOR, chunk.iter().map(|p| p.vector.clone()).collect()),
            ];
            let insert = sdk::request::dml::InsertRequest::builder()
                .collection_name(self.collection.clone())
                .columns(columns)
                .build()
                .map_err(|e| store_error("request", e))?;
            let request = sdk::request::dml::UpsertRequest::builder()
                .insert(insert)
                .build()
                .map_err(|e| store_error("request", e))?;
            self.block("upsert", self.client.upsert(request))?;
        }
        Ok(())
    }

    fn delete(&mut self, ids: &[FileId]) -> Result<()> {
        for chunk in ids.chunks(BATCH) {
            let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
            let request = DeleteRequest::builder()
                .collection_name(self.collection.clone())
                .filter(format!("{ID} in [{}]", list.join(", ")))
                .build()
                .map_err(|e| store_error("request", e))?;
            self.block("delete", self.client.delete(request))?;
        }
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Result<Vec<Hit>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut builder = SearchRequest::builder()
            .collection_name(self.collection.clone())
            .vector_field(VECTOR)
            .vectors(SearchVectors::Float(vec![query.to_vec()]))
            .limit(k as i64)
            .extra_params(self.config.index.search.clone())
            .consistency_level(sdk::ConsistencyLevel::Session);
        let expr = filter_expr(filter);
        if !expr.is_empty() {
            builder = builder.filter(expr);
        }
        let request = builder.build().map_err(|e| store_error("request", e))?;
        let response = self.block("search", self.client.search(request))?;
        let mut hits = Vec::new();
        for result in response.results() {
            let Ids::Int64(ids) = result.get_ids() else {
                return Err(store_error("search", "unexpected primary key type"));
            };
            for (id, score) in ids.iter().zip(result.get_scores()) {
                hits.push(Hit::from_dot(*id, *score, self.metric));
            }
        }
        Ok(hits)
    }

    fn ids(&self) -> Result<Vec<FileId>> {
        // Milvus caps a query at 16384 rows: page through the id space.
        let mut out = Vec::new();
        let mut after = -1i64; // catalog ids are SQLite rowids, from 1
        loop {
            let request = QueryRequest::builder()
                .collection_name(self.collection.clone())
                .filter(format!("{ID} > {after}"))
                .output_fields([ID])
                .limit(16_000)
                .consistency_level(sdk::ConsistencyLevel::Session)
                .build()
                .map_err(|e| store_error("request", e))?;
            let response = self.block("query", self.client.query(request))?;
            let page: Vec<i64> = response
                .results()
                .get_output_field(ID)
                .and_then(|f| f.as_int64())
                .map(|v| v.to_vec())
                .unwrap_or_default();
            if page.is_empty() {
                break;
            }
            after = *page.iter().max().expect("non-empty");
            let full = page.len() >= 16_000;
            out.extend(page);
            if !full {
                break;
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn len(&self) -> Result<usize> {
        Ok(self.ids()?.len())
    }

    fn set_index(&mut self, index: &IndexConfig) -> Result<()> {
        self.replace_index(index)
    }

    fn index(&self) -> Option<IndexConfig> {
        Some(self.config.index.clone())
    }
}
