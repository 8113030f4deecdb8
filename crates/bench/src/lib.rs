//! photofinder's benchmark suite (`photofinder bench`) and retrieval-quality
//! evaluation (`photofinder eval`).
//!
//! Every figure is measured in the run that prints it, beside the baseline it
//! is compared with, on whatever machine runs it; nothing here asserts on
//! time. The results are Markdown tables, written to `BENCHMARKS.md`.

pub mod data;
pub mod formats;
pub mod freshness;
pub mod process;
pub mod quality;
pub mod queries;
pub mod reference;
pub mod report;
pub mod stats;
pub mod stores;
pub mod synthetic;
pub mod videos;
pub mod throughput;
pub mod variants;

use std::path::PathBuf;

use photofinder_core::TextMethod;
use anyhow::{bail, Result};
use photofinder_core::ModelDir;

use report::{mib, ms, rate, ratio, share, Table};

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

pub const SECTIONS: &[&str] = &["quality", "indexing", "formats", "thumbnails", "videos", "queries", "stores", "memory", "freshness", "startup"];

/// The tables of one section of the suite.
pub struct Section {
    pub name: &'static str,
    pub tables: Vec<Table>,
}

impl Section {
    pub fn markdown(&self) -> String {
        self.tables.iter().map(|t| t.markdown() + "\n").collect()
    }
}

/// Run the benchmarks the options ask for; each row is printed as it is
/// measured, and `done` is called with each section as it completes (so a
/// long run that fails late keeps what it measured).
pub fn run(options: &Options, mut done_section: impl FnMut(&Section) -> Result<()>) -> Result<Vec<Section>> {
    std::fs::create_dir_all(&options.work)?;
    let mut done = Vec::new();
    if options.wants("quality") {
        eprintln!("== quality");
        let set = data::LabelledSet::open(&options.bench_set)?;
        done.push(Section { name: "quality", tables: quality_tables(&options.models, &set, &[], &options.work)? });
        done_section(done.last().expect("just pushed"))?;
    }
    type Measure = fn(&Options) -> Result<Table>;
    let sections: [(&str, Measure); 9] = [
        ("indexing", indexing),
        ("formats", format_indexing),
        ("thumbnails", thumbnail_quality),
        ("videos", video_indexing),
        ("queries", queries),
        ("stores", stores),
        ("memory", memory),
        ("freshness", freshness),
        ("startup", startup),
    ];
    for (name, section) in sections {
        if options.wants(name) {
            eprintln!("== {name}");
            done.push(Section { name, tables: vec![section(options)?] });
            done_section(done.last().expect("just pushed"))?;
        }
    }
    Ok(done)
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

/// Indexing 12 MP photos of each format the default model reads, against
/// 12 MP JPEGs in the same run, decoding alone and the Python reference.
fn format_indexing(o: &Options) -> Result<Table> {
    use photofinder_core::decode::Need;
    use photofinder_core::index::PipelineOptions;
    let mut table = Table::new(
        "Indexing by format (12 MP photos, photos/s)",
        &["model", "photos", "decoding alone (1 thread)", "photofinder", "Python reference", "photofinder / 12 MP JPEG", "photofinder / reference"],
    );
    let Some(model) = o.models.all().into_iter().find(|m| m.installed && m.spec.name == photofinder_core::library::DEFAULT_MODEL) else {
        bail!("the default model is not installed");
    };
    let n = if o.quick { 6 } else { 16 };
    let sources = data::photos_in(&o.camera_sources)?;
    let jpegs = data::camera_photos(&sources, n, &o.work.join("camera-12mp"))?;
    let sets = formats::make(&jpegs, &o.work.join("camera-12mp-formats"))?;
    let reference = reference::Reference::install(&o.work)?;
    let spec = &model.spec;
    let need = Need { short_side: spec.resize.max(photofinder_core::thumbs::DEFAULT_SIZE), preview: Some(spec.crop) };
    let name = spec.name.clone();
    eprintln!("format indexing: 12 MP JPEG");
    let jpeg = throughput::pipeline(&o.models, &name, &jpegs, &o.work)?.rate();
    let mut row = |label: String, decoding: f64, ours: f64, theirs: f64| {
        table.row(vec![name.clone(), label, rate(decoding), rate(ours), rate(theirs), share(ours / jpeg), ratio(ours / theirs)]);
    };
    row(format!("{n} x 12 MP JPEG"), formats::decode_alone(&jpegs, need)?, jpeg, reference.throughput(&model, &jpegs)?);
    for set in &sets {
        eprintln!("format indexing: {}", set.label);
        let theirs = reference.throughput(&model, &set.files)?;
        if set.label.contains("HEIC") {
            // Today's way first: the full 12 MP decoded for a 224 px input.
            let full = PipelineOptions { previews: false, ..PipelineOptions::default() };
            let ours = throughput::pipeline_with(&o.models, &name, &set.files, &o.work, full)?.rate();
            row(format!("{n} x 12 MP HEIC, full decode"), formats::decode_alone(&set.files, Need::full(need.short_side))?, ours, theirs);
        }
        let ours = throughput::pipeline(&o.models, &name, &set.files, &o.work)?.rate();
        row(format!("{n} x {}", set.label), formats::decode_alone(&set.files, need)?, ours, theirs);
    }
    table.note(
        "The 12 MP JPEGs of the indexing table, made into each format by its own encoder: HEIC by libheif's \
         `heif-enc -q 85 -t 320` (a 320 x 240 thumbnail item, as an iPhone writes), DNG as a camera writes it \
         (16-bit RGGB mosaic; with a full-size JPEG preview as Canon and Nikon embed, and without), JPEG XL by \
         `cjxl -e 4` (distance 1). photofinder decodes a HEIC's thumbnail and a RAW's preview where their shorter \
         side reaches the model's input (224 px), else the full picture (a RAW's sensor data developed by LibRaw \
         at half size). Python reference: the indexing table's, with pillow-heif, pillow-jxl-plugin and rawpy \
         (`postprocess()`, full size) to open the files.",
    );
    Ok(table)
}

/// What indexing HEIC from its thumbnail item costs in retrieval: the
/// bench set as phone-like HEICs, indexed from full decodes and from
/// thumbnails, precision@10 side by side.
fn thumbnail_quality(o: &Options) -> Result<Table> {
    let mut table = Table::new(
        "HEIC thumbnails: what they cost in retrieval",
        &["model", "photos", "indexed from the thumbnail", "precision@10, full decode", "precision@10, thumbnails", "change", "cosine of the two vectors (mean, lowest)"],
    );
    let set = data::LabelledSet::open(&o.bench_set)?;
    let n = if o.quick { 100 } else { 500 };
    let model = photofinder_core::library::DEFAULT_MODEL;
    let q = formats::thumbnail_quality(&o.models, &set, model, n, &o.work)?;
    table.row(vec![
        model.to_string(),
        q.photos.to_string(),
        format!("{} ({:.0}%)", q.by_thumbnail, 100.0 * q.by_thumbnail as f64 / q.photos.max(1) as f64),
        format!("{:.4}", q.precision_full),
        format!("{:.4}", q.precision_fast),
        format!("{:+.4}", q.precision_fast - q.precision_full),
        format!("{:.4}, {:.4}", q.cosine_mean, q.cosine_min),
    ]);
    table.note(
        "Photos of the bench set spread over its classes, scaled so their shorter side is 768 px and encoded by \
         libheif's `heif-enc -q 85 -t 320` (a 320 px thumbnail item, as a phone writes). Precision@10: leave one out, \
         the share of each photo's 10 nearest that have its label, in a library indexed from full decodes and in one \
         indexed the default way (the thumbnail where its shorter side reaches the model's 224 px input: 4:3 and \
         squarer photos; wider ones are decoded in full).",
    );
    Ok(table)
}

fn video_indexing(o: &Options) -> Result<Table> {
    let mut table = Table::new(
        "Video indexing (H.264, 30 frames/s)",
        &["model", "video", "ffmpeg decoding alone", "photofinder", "keyframes", "photofinder / decoding alone", "speed"],
    );
    let photos: Vec<std::path::PathBuf> = data::photos_in(&o.camera_sources)?.into_iter().take(6).collect();
    let (each, height) = if o.quick { (3, 720) } else { (10, 1080) };
    let video = videos::make_video(&photos, each, height, &o.work.join("videos"))?;
    let length = (photos.len() as u32 * each) as f64;
    let alone = videos::decode_alone(&video)?;
    for model in o.models.all().into_iter().filter(|m| m.installed) {
        eprintln!("video indexing: {}", model.spec.name);
        let run = videos::index(&o.models, &model.spec.name, &video, &photos[0], &o.work)?;
        table.row(vec![
            model.spec.name.clone(),
            format!("{length:.0} s, {height}p, {} shots", photos.len()),
            format!("{alone:.1} s"),
            format!("{:.1} s", run.seconds),
            run.frames.to_string(),
            share(alone / run.seconds),
            format!("{:.1}x real time", length / run.seconds),
        ]);
    }
    table.note(
        "The video: the test photos, each for 10 s, scaled to 1920x1080 with temporal noise so that every frame \
         costs a real decode, H.264 (libx264 veryfast, CRF 23). ffmpeg decoding alone: `ffmpeg -i clip.mp4 -f null -`. \
         photofinder: a new library indexing the video, model loaded beforehand: ffprobe, ffmpeg decoding every \
         frame with scene detection and keeping a frame every 5 s and at each cut, inference on those, catalog and \
         embedded store.",
    );
    Ok(table)
}

/// Retrieval quality of each installed model with real weights (or of
/// `only`), as a summary table and a table of text search per class.
pub fn quality_tables(models: &ModelDir, set: &data::LabelledSet, only: &[String], work: &std::path::Path) -> Result<Vec<Table>> {
    let name = set.root.display();
    let mut summary = Table::new(
        &format!("Retrieval quality on {name} ({} photos, {} labels)", set.photos.len(), set.labels().len()),
        &["model", "queries", "precision@10", "mAP@10", "mAP@10 (notebook's)", "text search P@10 (mean over classes)", "near-duplicate recall@6"],
    );
    let mut per_class = Table::new(
        "Text search precision@10 per class and phrasing",
        &["class", "phrasing", "query", "model", "labels, word for word", "labels, words and meaning", "CLIP"],
    );
    let mut grouping_columns = vec!["model", "max cosine distance", "precision", "recall"];
    let kind_columns: Vec<String> = variants::KINDS.iter().map(|k| format!("{k} grouped")).collect();
    grouping_columns.extend(kind_columns.iter().map(String::as_str));
    let mut grouping = Table::new("Duplicate groups: pair precision and recall by threshold", &grouping_columns);
    let mut grouping_time = Table::new(
        "Duplicate groups: time",
        &["model", "photos", "groups", "photofinder duplicates", "one search per photo (k = 16)", "search per photo / duplicates"],
    );
    let mut maps = Table::new(
        "The map: classes kept apart",
        &["model", "layout", "10-NN label agreement on the map", "in the full space", "map / full", "cluster NMI", "NMI, k-means with k = classes", "clusters", "unclustered", "time"],
    );
    let mut random = Vec::new();
    for status in models.all().into_iter().filter(|m| m.installed) {
        let model = status.spec.name.clone();
        if !only.is_empty() && !only.contains(&model) {
            continue;
        }
        if status.is_random() {
            random.push(model);
            continue;
        }
        let q = quality::evaluate(models, set, &model, work)?;
        let mean_of = |method: TextMethod| {
            let scores: Vec<f64> = q.text.iter().filter(|t| t.method == method).map(|t| t.precision).collect();
            (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
        };
        let text_summary: Vec<String> = [(TextMethod::Words, "word labels"), (TextMethod::Labels, "phrase labels"), (TextMethod::Clip, "CLIP")]
            .into_iter()
            .filter_map(|(m, name)| mean_of(m).map(|v| format!("{v:.3} ({name})")))
            .collect();
        summary.row(vec![
            model.clone(),
            q.photos.to_string(),
            format!("{:.3}", q.precision),
            format!("{:.3}", q.map),
            format!("{:.3}", q.map_retrieved),
            if text_summary.is_empty() { "-".into() } else { text_summary.join(", ") },
            format!("{:.3}", q.near_duplicate_recall),
        ]);
        // One row per class and phrasing, the methods side by side.
        let mut seen = Vec::new();
        for t in &q.text {
            if seen.contains(&(&t.class, t.phrasing)) {
                continue;
            }
            seen.push((&t.class, t.phrasing));
            let of = |method: TextMethod| {
                q.text
                    .iter()
                    .find(|u| u.method == method && u.class == t.class && u.phrasing == t.phrasing)
                    .map(|u| format!("{:.1}", u.precision))
                    .unwrap_or_else(|| "-".into())
            };
            per_class.row(vec![
                t.class.clone(),
                t.phrasing.into(),
                format!("\"{}\"", t.query),
                model.clone(),
                of(TextMethod::Words),
                of(TextMethod::Labels),
                of(TextMethod::Clip),
            ]);
        }
        for g in &q.grouping {
            let default = if g.threshold == photofinder_core::duplicates::DEFAULT_MAX_DISTANCE { " (default)" } else { "" };
            let mut row = vec![model.clone(), format!("{:.2}{default}", g.threshold), format!("{:.3}", g.precision), format!("{:.3}", g.recall)];
            row.extend(g.by_kind.iter().map(|(_, r)| format!("{r:.2}")));
            grouping.row(row);
        }
        for m in &q.maps {
            maps.row(vec![
                model.clone(),
                format!("{:?}", m.layout).to_lowercase(),
                format!("{:.3}", m.agreement),
                format!("{:.3}", m.full_agreement),
                format!("{:.0}%", 100.0 * m.agreement / m.full_agreement.max(f64::MIN_POSITIVE)),
                format!("{:.3}", m.nmi),
                format!("{:.3}", m.nmi_at_label_count),
                m.clusters.to_string(),
                m.unclustered.to_string(),
                format!("{:.1} s", m.seconds),
            ]);
        }
        let t = q.duplicates_time;
        grouping_time.row(vec![
            model.clone(),
            t.photos.to_string(),
            t.groups.to_string(),
            format!("{:.2} s", t.seconds),
            format!("{:.2} s", t.per_photo_search_seconds),
            ratio(t.per_photo_search_seconds / t.seconds),
        ]);
    }
    grouping_time.note(
        "The same library, at the default threshold, perceptual hashes already made (they are made once per photo, \
         at its first comparison, and kept). photofinder duplicates: content hashes, the embedded store's int8 codes \
         all against all with the pairs confirmed on the exact vectors, every pair of perceptual hashes, union-find, \
         the groups read back. One search per photo: the embedded store searched for each photo's 16 nearest, the \
         obvious way to find near copies with a vector store (the vector part alone).",
    );
    grouping.note(
        "`photofinder duplicates` (the app's Duplicates view) over the same library: the set's photos and the 50 \
         originals with their 6 variants. A pair of photos in one group is right when both are one original or its \
         variants; precision is the share of grouped pairs that are right, recall the share of the 50 x 21 right \
         pairs that were grouped; \"KIND grouped\" is the share of originals grouped with their variant of that kind. A pair of the set's own photos grouped together counts as wrong even where the \
         set holds real near copies.",
    );
    summary.note(
        "Leave-one-out: every labelled photo queries all the others (cosine, k = 10); a result is relevant when it \
         has the query's label. mAP@10: the precision at each relevant result, summed and divided by min(relevant photos, \
         10); the notebook's divides by the relevant results retrieved instead (higher). The reverse-image-search \
         notebook reports mAP@10 0.886 for Towhee's ResNet50 on its ImageNet subset. \
         Near duplicates: 50 photos of the set, each with 6 variants made by the benchmark (crop 80%, mirror, \
         6 degree rotation, JPEG quality 35, 60% brightness, greyscale) among all the set's photos; recall@6 is the \
         share of its variants among an original's 6 nearest.",
    );
    if !random.is_empty() {
        summary.note(format!(
            "Not evaluated: {} (installed with random weights, for tests; `models/install.sh --download` installs the real ones).",
            random.join(", ")
        ));
    }
    maps.note(
        "`photofinder explore` over the same library (the set's photos and the near-duplicate variants), measured \
         on the labelled photos: of each one's 10 nearest labelled photos on the 2-D map, the share with its label, \
         next to the same share in the model's full space; and the normalised mutual information between the map's \
         top-level clusters (photos between islands as one more) and the labels. umap: the neighbour-preserving \
         layout (15 neighbours in 50 PCA dimensions, fuzzy graph, 500 epochs of gradient descent from the PCA map); \
         pca: the first two principal axes. Time: laying out the map from scratch, clusters and names included.",
    );
    Ok(vec![summary, maps, grouping, grouping_time, per_class])
}

/// Photos in the big library that query, memory and startup figures use.
fn big_n(o: &Options) -> usize {
    if o.quick {
        10_000
    } else {
        100_000
    }
}

fn camera(o: &Options) -> Result<Vec<PathBuf>> {
    let sources = data::photos_in(&o.camera_sources)?;
    data::camera_photos(&sources, if o.quick { 16 } else { 64 }, &o.work.join("camera-12mp"))
}

fn installed(o: &Options, name: &str) -> bool {
    o.models.status(name).is_ok_and(|s| s.installed)
}

fn queries(o: &Options) -> Result<Table> {
    let n = big_n(o);
    let library = synthetic::big_library(&o.work, &o.models, n)?;
    let photos = camera(o)?;
    let repeat = if o.quick { 20 } else { 60 };
    let mut table = Table::new(&format!("Query latency, library of {n} photos (ms)"), &["query", "model", "p50", "p95"]);
    for model in synthetic::MODELS.iter().filter(|m| installed(o, m)) {
        let dropped = queries::drop_photo(&library, &o.models, model, &photos, repeat)?;
        table.row(vec!["drop a 12 MP JPEG (read, decode, embed, search)".into(), model.to_string(), ms(dropped.p50_ms), ms(dropped.p95_ms)]);
        let store = queries::store_only(&library, &o.models, model, &photos[..4.min(photos.len())], repeat)?;
        table.row(vec!["store search alone (k = 10)".into(), model.to_string(), ms(store.p50_ms), ms(store.p95_ms)]);
    }
    let words = ["dog", "golden retriever", "church", "parachute", "a red sports car"];
    let phrases = ["a beach at sunset", "kitten", "a machine that plays tapes", "dog -grass landscape", "where you fill up the car with petrol"];
    if installed(o, "efficientnet-lite0") {
        let t = queries::text(&library, &o.models, "efficientnet-lite0", photofinder_core::TextMethod::Words, &words, repeat)?;
        table.row(vec!["text, labels word for word (class names)".into(), "efficientnet-lite0".into(), ms(t.p50_ms), ms(t.p95_ms)]);
        let t = queries::text(&library, &o.models, "efficientnet-lite0", photofinder_core::TextMethod::Labels, &words, repeat)?;
        table.row(vec!["text, labels by words and meaning (class names)".into(), "efficientnet-lite0".into(), ms(t.p50_ms), ms(t.p95_ms)]);
        let t = queries::text(&library, &o.models, "efficientnet-lite0", photofinder_core::TextMethod::Labels, &phrases, repeat)?;
        table.row(vec!["text, labels by words and meaning (phrases, operators)".into(), "efficientnet-lite0".into(), ms(t.p50_ms), ms(t.p95_ms)]);
    }
    if o.models.status("clip-vit-b32").is_ok_and(|s| s.installed && s.text_installed == Some(true)) {
        let t = queries::text(&library, &o.models, "clip-vit-b32", photofinder_core::TextMethod::Clip, &words, repeat)?;
        table.row(vec!["text, CLIP (tokenize, text tower, search)".into(), "clip-vit-b32".into(), ms(t.p50_ms), ms(t.p95_ms)]);
    }
    table.note(format!(
        "In-process calls as the app's commands make them, {repeat} queries after one warm-up; 12 MP photos from \
         `camera-12mp` (not in the library). The library's vectors are synthetic (see `crates/bench/src/synthetic.rs`)."
    ));
    Ok(table)
}

fn stores(o: &Options) -> Result<Table> {
    let mut table = Table::new(
        "Store search alone (k = 10, 100 queries)",
        &["vectors", "dim", "store", "parameters", "load + build (s)", "p50 ms", "p95 ms", "recall@10"],
    );
    let mut sizes = vec![(10_000, 2048), (10_000, 512)];
    if !o.quick {
        sizes.extend([(100_000, 2048), (100_000, 512), (1_000_000, 512)]);
    }
    for (n, dim) in sizes {
        eprintln!("stores: {n} x {dim}");
        let set = stores::Dataset::new(n, dim);
        let mut measured = stores::embedded(&set, &o.work)?;
        match &o.milvus_uri {
            Some(uri) => measured.extend(stores::milvus(&set, uri)?),
            None => table.note(format!("Milvus not measured at {n} x {dim}: no --milvus-uri.")),
        }
        for m in measured {
            table.row(vec![
                n.to_string(),
                dim.to_string(),
                m.store,
                m.params,
                if m.load_s > 0.0 { format!("{:.1}", m.load_s) } else { "-".into() },
                ms(m.p50_ms),
                ms(m.p95_ms),
                format!("{:.3}", m.recall),
            ]);
        }
    }
    table.note(
        "Synthetic unit vectors clustered round n/500 centres (image embeddings have near neighbours); recall@10 \
         against exact search over the same vectors. Milvus figures include the gRPC round trip to a local server. \
         1M x 2048 is left out (8 GB of vectors per copy), and so is HNSW at 1M (its graph took over 20 minutes \
         to build on 2 cores).",
    );
    Ok(table)
}

fn memory(o: &Options) -> Result<Table> {
    let mut table = Table::new("Memory and disk", &["measure", "model", "value"]);
    let models_dir = o.models.dir.clone();
    // Indexing: a new library indexing 12 MP photos, in a process of its own.
    let photos = camera(o)?;
    let folder = o.work.join("camera-12mp");
    for model in ["efficientnet-lite0"].into_iter().filter(|m| installed(o, m)) {
        let dir = tempfile::tempdir_in(&o.work)?;
        let mut cmd = process::cli(&o.cli, dir.path(), &models_dir);
        cmd.arg("--model").arg(model).arg("folders").arg("add").arg(&folder);
        let (_, peak) = process::run_measured(cmd)?;
        table.row(vec![format!("peak RSS indexing {} x 12 MP photos", photos.len()), model.into(), mib(peak)]);
    }
    // Disk per 1k photos: a library of the bench set's photos.
    let set = data::LabelledSet::open(&o.bench_set)?;
    let small = set.spread(if o.quick { 200 } else { 1000 });
    for model in ["efficientnet-lite0"].into_iter().filter(|m| installed(o, m)) {
        let run = throughput::pipeline(&o.models, model, &small, &o.work)?;
        let per_k = |bytes: u64| mib(bytes * 1000 / run.photos.max(1) as u64);
        let lib = &run.library_dir;
        let catalog = ["catalog.db", "catalog.db-wal"].iter().map(|f| data::file_size(&lib.join(f))).sum();
        table.row(vec!["catalog per 1k photos".into(), model.into(), per_k(catalog)]);
        table.row(vec!["thumbnails per 1k photos".into(), model.into(), per_k(data::dir_size(&lib.join("thumbs")))]);
        table.row(vec!["embedded store per 1k photos".into(), model.into(), per_k(data::dir_size(&lib.join("store")))]);
    }
    // Idle: the app's engine on the big library after its first query.
    let n = big_n(o);
    let library = synthetic::big_library(&o.work, &o.models, n)?;
    for model in ["efficientnet-lite0"].into_iter().filter(|m| installed(o, m)) {
        let mut cmd = std::process::Command::new(&o.cli);
        cmd.arg("--models").arg(&models_dir).arg("bench").arg("--serve-idle").arg(&library).arg("--idle-model").arg(model);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
        let (idle, peak) = process::idle_memory(cmd, std::time::Duration::from_secs(5), std::time::Duration::from_secs(300))?;
        table.row(vec![format!("RSS idle: engine watching {n} photos, model and store loaded"), model.into(), mib(idle)]);
        table.row(vec![format!("peak RSS starting up on {n} photos"), model.into(), mib(peak)]);
    }
    table.note("Resident set sizes read from /proc while the process runs. Indexing: `photofinder folders add`. \
                Idle: the desktop app's engine (watcher, catalog, embedded store, model) in a process of its own, \
                after its start-up scan and one warm-up, once its memory is steady within 1% and it uses under 2% \
                of a core for 5 s.");
    Ok(table)
}

fn freshness(o: &Options) -> Result<Table> {
    let set = data::LabelledSet::open(&o.bench_set)?;
    let n = if o.quick { 20 } else { 100 };
    let photos = set.spread(n);
    let mut table = Table::new("Freshness: photo appears in a watched folder -> returned by a search", &["model", "photos", "p50 (s)", "max (s)"]);
    for model in ["efficientnet-lite0"].into_iter().filter(|m| installed(o, m)) {
        let s = freshness::measure(&o.models, model, &photos, &o.work)?;
        table.row(vec![model.into(), s.len().to_string(), format!("{:.2}", stats::percentile(&s, 0.5)), format!("{:.2}", stats::max(&s))]);
    }
    table.note("The desktop app's engine (watcher, debounce 300 ms, indexing, store), one photo at a time; \
                polled every 20 ms with the app's own query.");
    Ok(table)
}

fn startup(o: &Options) -> Result<Table> {
    let n = big_n(o);
    let library = synthetic::big_library(&o.work, &o.models, n)?;
    let photos = camera(o)?;
    let models_dir = o.models.dir.clone();
    let mut table = Table::new(&format!("Startup: launch to first answered query, {n} photos"), &["model", "p50 (s)", "max (s)"]);
    for model in synthetic::MODELS.iter().filter(|m| installed(o, m)) {
        let mut seconds = Vec::new();
        for i in 0..if o.quick { 3 } else { 7 } {
            let mut cmd = process::cli(&o.cli, &library, &models_dir);
            cmd.arg("--model").arg(model).arg("search").arg(&photos[i % photos.len()]);
            seconds.push(process::run_measured(cmd)?.0);
        }
        table.row(vec![model.to_string(), format!("{:.2}", stats::percentile(&seconds, 0.5)), format!("{:.2}", stats::max(&seconds))]);
    }
    table.note("`photofinder search PHOTO` from process start to exit: load ONNX Runtime and the model, open the \
                catalog, load the store, decode and embed a 12 MP photo, search.");
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

/// `BENCHMARKS.md` with the sections just measured put in: each section's
/// tables sit between markers, so a run of some sections replaces only
/// theirs, and the text written by hand around them is kept.
pub fn document(options: &Options, sections: &[Section], existing: Option<&str>) -> String {
    let mut doc = existing.map(str::to_string).unwrap_or_else(|| "# Benchmarks\n\n".into());
    for section in sections {
        let block = format!("{}\n{}\n{}", begin(section.name), provenance(options) + "\n" + &section.markdown(), end(section.name));
        doc = match (doc.find(&begin(section.name)), doc.find(&end(section.name))) {
            (Some(a), Some(b)) if a < b => format!("{}{}{}", &doc[..a], block, &doc[b + end(section.name).len()..]),
            _ => format!("{}\n{}\n", doc.trim_end(), block),
        };
    }
    doc
}

fn begin(section: &str) -> String {
    format!("<!-- photofinder bench: {section} -->")
}

fn end(section: &str) -> String {
    format!("<!-- /photofinder bench: {section} -->")
}

/// Where and how the figures below it were measured.
fn provenance(options: &Options) -> String {
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!(
        "_Measured {date} on {cpu}, {cores} cores, {memory} memory, ONNX Runtime CPU; \
         `photofinder {}`{}._\n",
        args.join(" "),
        if options.quick { " (quick: fewer photos and repetitions)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &'static str, title: &str) -> Section {
        Section { name, tables: vec![Table::new(title, &["a"])] }
    }

    #[test]
    fn a_rerun_replaces_its_sections_and_keeps_the_rest() {
        let options = Options {
            models: ModelDir::new("/nonexistent"),
            bench_set: PathBuf::new(),
            camera_sources: PathBuf::new(),
            work: PathBuf::new(),
            quick: true,
            only: Vec::new(),
            milvus_uri: None,
            cli: PathBuf::new(),
        };
        let first = document(&options, &[section("stores", "Old stores"), section("queries", "Queries")], None);
        let edited = first.replace("# Benchmarks", "# Benchmarks\n\nWritten by hand.");
        let second = document(&options, &[section("stores", "New stores"), section("memory", "Memory")], Some(&edited));
        assert!(second.contains("Written by hand."));
        assert!(second.contains("### New stores") && !second.contains("### Old stores"));
        assert!(second.contains("### Queries"), "sections not run are kept");
        assert!(second.find("### New stores") < second.find("### Queries"), "a section keeps its place");
        assert!(second.contains("### Memory"), "a new section is appended");
    }
}
