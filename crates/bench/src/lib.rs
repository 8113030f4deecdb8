//! photofinder's benchmark suite (`photofinder bench`) and retrieval-quality
//! evaluation (`photofinder eval`).
//!
//! Every figure is measured in the run that prints it, beside the baseline it
//! is compared with, on whatever machine runs it; nothing here asserts on
//! time. The results are Markdown tables, written to `BENCHMARKS.md`.

pub mod data;
pub mod reference;
pub mod report;
pub mod stats;
pub mod throughput;

use std::path::PathBuf;

use anyhow::Result;
use photofinder_core::ModelDir;

use report::{rate, ratio, share, Table};

/// What to measure and where the inputs are.
#[derive(Debug, Clone)]
pub struct Options {
    pub models: ModelDir,
    /// A labelled photo set (`labels.csv`) of small photos.
    pub bench_set: PathBuf,
    /// Real photos to make camera-sized JPEGs from.
    pub camera_sources: PathBuf,
    /// Where generated data, the reference's Python and temporary libraries go.
    pub work: PathBuf,
    /// Fewer photos and repetitions: a quick look, not figures to record.
    pub quick: bool,
    /// Sections to run (all when empty).
    pub only: Vec<String>,
    pub milvus_uri: Option<String>,
    /// The `photofinder` binary, for measurements that need a process of their own.
    pub cli: PathBuf,
}

impl Options {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

pub const SECTIONS: &[&str] = &["indexing"];

/// Run the benchmarks the options ask for; each table is printed as it is done.
pub fn run(options: &Options) -> Result<Vec<Table>> {
    std::fs::create_dir_all(&options.work)?;
    let mut tables = Vec::new();
    if options.wants("indexing") {
        tables.push(indexing(options)?);
    }
    Ok(tables)
}

fn indexing(o: &Options) -> Result<Table> {
    let mut table = Table::new(
        "Indexing throughput (photos/s)",
        &["model", "photos", "inference alone", "photofinder", "Python reference", "photofinder / inference", "photofinder / reference"],
    );
    let set = data::LabelledSet::open(&o.bench_set)?;
    let small = set.spread(if o.quick { 96 } else { 480 });
    let sources = data::photos_in(&o.camera_sources)?;
    let camera = data::camera_photos(&sources, if o.quick { 16 } else { 64 }, &o.work.join("camera-12mp"))?;
    let reference = reference::Reference::install(&o.work)?;
    let min_seconds = if o.quick { 2.0 } else { 6.0 };
    for model in o.models.all().into_iter().filter(|m| m.installed) {
        eprintln!("indexing throughput: {}", model.spec.name);
        let alone = throughput::inference_alone(&o.models, &model, &small, min_seconds)?;
        for (label, photos) in [("224 px (bench set)", &small), ("12 MP JPEG", &camera)] {
            let ours = throughput::pipeline(&o.models, &model.spec.name, photos, &o.work)?.rate();
            let theirs = reference.throughput(&model, photos)?;
            table.row(vec![
                model.spec.name.clone(),
                format!("{} x {label}", photos.len()),
                rate(alone),
                rate(ours),
                rate(theirs),
                share(ours / alone),
                ratio(ours / theirs),
            ]);
        }
    }
    table.note(
        "Inference alone: batches of already-prepared tensors, as the pipeline batches them. \
         photofinder: a new library indexing the photos (scan, read, hash, decode, thumbnail, resize, \
         infer, catalog, embedded store), model loaded beforehand. Python reference: Pillow decode and \
         resize, onnxruntime on the same ONNX file, one photo at a time (`crates/bench/src/reference.py`).",
    );
    Ok(table)
}

/// `$XDG_CACHE_HOME/photofinder/bench`, else `~/.cache/photofinder/bench`.
pub fn default_work() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("photofinder/bench")
}

/// `BENCHMARKS.md`: the machine, the date and the command above the tables.
pub fn document(options: &Options, tables: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut runtime = String::from("ONNX Runtime (CPU)");
    if let Ok(lib) = options.models.runtime_library() {
        runtime = format!("ONNX Runtime from {}", lib.file_name().unwrap_or_default().to_string_lossy());
    }
    format!(
        "# Benchmarks\n\n\
         Produced by `scripts/bench` (which runs `photofinder bench --write BENCHMARKS.md`{quick}).\n\n\
         - Machine: {cpu}, {cores} cores available, {memory} memory; {runtime}\n\
         - Date: {date}\n\
         - Command: `{command}`\n\n\
         {analysis}\n\
         {tables}",
        quick = if options.quick { " --quick" } else { "" },
        command = std::env::args().collect::<Vec<_>>().join(" "),
        analysis = ANALYSIS,
    )
}

/// The part of BENCHMARKS.md that is written by hand: how to read the tables.
const ANALYSIS: &str = include_str!("analysis.md");
