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
use ts_rs::TS;

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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
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

/// Below this many vectors exact search (FLAT) is fast enough and never wrong.
const EXACT_UP_TO: usize = 50_000;

/// The vector index and its build and search parameters. `AUTO` (the
/// default) picks by library size when the collection is created: FLAT up to
/// 50,000 vectors, else IVF_SQ8 with nlist = 4 sqrt(n) and nprobe 16, the
/// best recall for its time in our measurements (see README).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
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
        IndexConfig { kind: "AUTO".into(), build: HashMap::new(), search: HashMap::new() }
    }
}

impl IndexConfig {
    /// The concrete index for a collection of about `n` vectors.
    pub fn resolve(&self, n: usize) -> IndexConfig {
        if !self.kind.eq_ignore_ascii_case("AUTO") {
            return self.clone();
        }
        if n <= EXACT_UP_TO {
            return IndexConfig { kind: "FLAT".into(), build: HashMap::new(), search: HashMap::new() };
        }
        let nlist = (4.0 * (n as f64).sqrt()).round() as u64;
        IndexConfig {
            kind: "IVF_SQ8".into(),
            build: HashMap::from([("nlist".into(), nlist.to_string())]),
            search: HashMap::from([("nprobe".into(), "16".into())]),
        }
    }

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
                // Milvus 2.3's `like` has no escape for its wildcards % and _:
                // a folder name holding them matches a few other folders too,
                // and `search` drops those by the exact path afterwards.
                format!("{PATH} like {}", quoted(&format!("{prefix}%")))
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
    if !filter.folder_names.is_empty() {
        // Milvus' `like` is case-sensitive and knows no escapes: this finds
        // the name as typed (and a few look-alikes, which `search` drops by
        // the exact path afterwards).
        let any: Vec<String> = filter.folder_names.iter().map(|n| format!("{PATH} like {}", quoted(&format!("%/{n}/%")))).collect();
        parts.push(format!("({})", any.join(" or ")));
    }
    if !filter.exclude.is_empty() {
        let list: Vec<String> = filter.exclude.iter().map(|i| i.to_string()).collect();
        parts.push(format!("{ID} not in [{}]", list.join(", ")));
    }
    parts.join(" and ")
}

fn connect(config: &MilvusConfig) -> Result<(tokio::runtime::Runtime, ClientV2)> {
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
    Ok((runtime, client))
}

impl MilvusStore {
    /// Connect and make sure the model's collection exists, is indexed and loaded.
    pub fn open(config: &MilvusConfig, model: &str, dim: usize, metric: Metric) -> Result<MilvusStore> {
        Self::open_sized(config, model, dim, metric, 0)
    }

    /// `open`, with the number of vectors the collection will hold, for
    /// choosing an `AUTO` index when the collection is created.
    pub fn open_sized(config: &MilvusConfig, model: &str, dim: usize, metric: Metric, expected: usize) -> Result<MilvusStore> {
        let (runtime, client) = connect(config)?;
        let collection = format!("{}_{}", config.prefix, model.replace('-', "_"));
        let mut config = config.clone();
        config.index = config.index.resolve(expected);
        let store = MilvusStore { runtime, client, collection, config, metric, dim };
        store.ensure_collection()?;
        Ok(store)
    }

    /// Connect to the server `config` names and list its collections: a
    /// connection test that changes nothing.
    pub fn check(config: &MilvusConfig) -> Result<Vec<String>> {
        let (runtime, client) = connect(config)?;
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let request = sdk::request::collection::ListCollectionsRequest::builder().build().map_err(|e| store_error("list_collections", e))?;
        let response = runtime
            .block_on(async { tokio::time::timeout(timeout, client.list_collections(request)).await })
            .map_err(|_| store_error("list_collections", "timed out"))?
            .map_err(|e| store_error("list_collections", e))?;
        Ok(response.collection_names().to_vec())
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
        self.load()
    }

    fn load(&self) -> Result<()> {
        self.block(
            "load_collection",
            self.client.load_collection(
                sdk::request::collection::LoadCollectionRequest::builder()
                    .collection_name(self.collection.clone())
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )
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
                    .collection_name(name)
                    .index_param(param)
                    .sync(true)
                    .timeout_ms(3_600_000)
                    .build()
                    .map_err(Self::request_error)?,
            ),
        )?;
        self.load()?;
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
        let expr = filter_expr(filter);
        // Folder filters may let through paths that only look alike to `like`;
        // those are checked here, asking for more until k remain.
        let check_paths = !filter.folders.is_empty() || !filter.folder_names.is_empty();
        let mut limit = k;
        loop {
            let mut builder = SearchRequest::builder()
                .collection_name(self.collection.clone())
                .vector_field(VECTOR)
                .vectors(SearchVectors::Float(vec![query.to_vec()]))
                .limit(limit as i64)
                .extra_params(self.config.index.search.clone())
                .consistency_level(sdk::ConsistencyLevel::Session);
            if !expr.is_empty() {
                builder = builder.filter(expr.clone());
            }
            if check_paths {
                builder = builder.output_fields([PATH]);
            }
            let request = builder.build().map_err(|e| store_error("request", e))?;
            let response = self.block("search", self.client.search(request))?;
            let mut hits = Vec::new();
            let mut returned = 0;
            for result in response.results() {
                let Ids::Int64(ids) = result.get_ids() else {
                    return Err(store_error("search", "unexpected primary key type"));
                };
                let paths = result.get_output_field(PATH).and_then(|f| f.as_varchar());
                for (i, (id, score)) in ids.iter().zip(result.get_scores()).enumerate() {
                    returned += 1;
                    if check_paths {
                        let path = paths.and_then(|p| p.get(i)).map(std::path::Path::new);
                        if !path.is_some_and(|p| filter.in_folders(p)) {
                            continue;
                        }
                    }
                    hits.push(Hit::from_dot(*id, *score, self.metric));
                }
            }
            if hits.len() >= k || returned < limit || limit >= 16_384 {
                hits.truncate(k);
                return Ok(hits);
            }
            limit = (limit * 4).min(16_384);
        }
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
        // New search parameters (nprobe, ef) for the index already built
        // need no rebuild: searches read them from the config.
        if index.kind == self.config.index.kind && index.build == self.config.index.build {
            self.config.index = index.clone();
            return Ok(());
        }
        self.replace_index(index)
    }

    fn index(&self) -> Option<IndexConfig> {
        Some(self.config.index.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_exact_search_for_small_libraries_and_ivf_for_large() {
        let auto = IndexConfig::default();
        assert_eq!(auto.resolve(10).kind, "FLAT");
        assert_eq!(auto.resolve(EXACT_UP_TO).kind, "FLAT");
        let big = auto.resolve(100_000);
        assert_eq!(big.kind, "IVF_SQ8");
        assert_eq!(big.build["nlist"], "1265");
        assert_eq!(big.search["nprobe"], "16");
        let chosen = IndexConfig { kind: "HNSW".into(), ..Default::default() };
        assert_eq!(chosen.resolve(1_000_000), chosen, "a chosen index is kept");
    }

    #[test]
    fn filters_become_milvus_expressions_with_escaped_paths() {
        let f = Filter {
            folders: vec!["/a/my_photos".into()],
            taken_after: Some(10),
            formats: vec!["PNG".into()],
            exclude: vec![3, 4],
            ..Default::default()
        };
        assert_eq!(
            filter_expr(&f),
            r#"(path like "/a/my_photos/%") and taken_at != -4611686018427387904 and taken_at >= 10 and format in ["png"] and id not in [3, 4]"#
        );
        assert_eq!(filter_expr(&Filter::default()), "");
        let named = Filter { folder_names: vec!["Holidays".into()], ..Default::default() };
        assert_eq!(filter_expr(&named), r#"(path like "%/Holidays/%")"#);
    }
}
