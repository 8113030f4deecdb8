//! `photofinder`: the command line over photofinder-core.

mod bench;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use photofinder_core::library::StoreChoice;
use photofinder_core::store::{IndexConfig, MilvusConfig};
use photofinder_core::{library, Cancel, Error, Example, Feedback, Filter, Library, ModelDir, WatchOptions};

use output::Reporter;

#[derive(Parser)]
#[command(name = "photofinder", version, about = "Find photos by what they look like.")]
struct Cli {
    /// Library directory (catalog, vector store, thumbnails).
    #[arg(long, global = true, env = "PHOTOFINDER_LIBRARY")]
    library: Option<PathBuf>,
    /// Directory of installed models (see models/install.sh).
    #[arg(long, global = true, env = "PHOTOFINDER_MODELS_DIR")]
    models: Option<PathBuf>,
    /// Use this model for this command instead of the library's.
    #[arg(long, global = true)]
    model: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Watched folders.
    #[command(subcommand)]
    Folders(FoldersCommand),
    /// Scan the watched folders once and index what is new or changed.
    Index,
    /// Index, then keep the library in step with the folders until Ctrl-C.
    Watch,
    /// Photos most like an image file (which need not be in the library).
    Search {
        image: PathBuf,
        /// Search with a part of the image only: x,y,width,height as fractions of the upright image ("find this mug").
        #[arg(long, conflicts_with = "and_text")]
        region: Option<photofinder_core::embed::Region>,
        /// And like this text ("at night"): photo and text combined with CLIP.
        #[arg(long)]
        and_text: Option<String>,
        /// Weight of --and-text against the photo (1: equal).
        #[arg(long, default_value_t = 1.0, requires = "and_text")]
        text_weight: f32,
        #[command(flatten)]
        marks: Marks,
        #[command(flatten)]
        query: QueryArgs,
    },
    /// Photos most like a photo of the library; with several photos (library
    /// photos or any files), photos like all of them: "more like these".
    Similar {
        #[arg(required = true)]
        photos: Vec<PathBuf>,
        /// A photo the results should not look like (repeatable).
        #[arg(long = "not")]
        unlike: Vec<PathBuf>,
        #[command(flatten)]
        query: QueryArgs,
    },
    /// Photos matching a text: CLIP when installed, else the photos' ImageNet labels, matched by words, WordNet kinds and meaning.
    Text {
        query: String,
        /// Force a method: clip, labels (words, kinds and meaning) or words (word for word only).
        #[arg(long)]
        method: Option<photofinder_core::TextMethod>,
        #[command(flatten)]
        marks: Marks,
        #[command(flatten)]
        filters: QueryArgs,
    },
    /// Groups of exact and near copies among the indexed photos, the one to
    /// keep (most pixels, then largest file) first in each.
    Duplicates {
        /// Largest cosine distance between near copies (0: only byte-for-byte copies).
        #[arg(long, default_value_t = photofinder_core::duplicates::DEFAULT_MAX_DISTANCE)]
        max_distance: f32,
        /// Move every photo but the first of each group to the system trash.
        #[arg(long)]
        trash_copies: bool,
        /// Count a RAW beside its JPEG (IMG_1.CR2 + IMG_1.JPG) as a copy of it;
        /// without this the pair is one photo.
        #[arg(long)]
        raw_pairs: bool,
    },
    /// Move photos of the library to the system trash (restore them from there to undo).
    Trash {
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
    /// The ImageNet labels of a photo (in the library or not), with probabilities.
    Labels { photo: PathBuf },
    /// The library as a map: every photo's place and cluster, and the clusters' names.
    Explore {
        /// One line per photo: id,x,y,cluster,path (cluster as "3" or "3.2"; empty between islands).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// umap (what is alike lies together) or pca (the first two principal axes).
        #[arg(long, default_value = "umap")]
        layout: photofinder_core::explore::Layout,
    },
    /// How videos' keyframes are taken; with options, change it (videos are
    /// then done again by the next `index` or `watch`).
    Videos {
        /// A keyframe at least every this many seconds.
        #[arg(long)]
        interval: Option<f64>,
        /// Also at scene changes above this score (0..1; 0: off).
        #[arg(long)]
        scene: Option<f64>,
        /// At most this many keyframes per video.
        #[arg(long)]
        max_frames: Option<usize>,
    },
    /// Installed and missing models; `models install NAME` downloads one,
    /// `models use NAME` picks the library's model.
    Models {
        #[command(subcommand)]
        action: Option<ModelsCommand>,
    },
    /// Counts, pending work and problems.
    Status,
    /// Measure indexing, queries, stores, memory, freshness and startup (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
    /// Retrieval quality on a labelled folder: precision@10, mAP@10, text search, near duplicates.
    Eval(bench::EvalArgs),
    /// The vector store: status, `use embedded`, `use milvus --uri ...`, `reconcile`.
    Store {
        #[command(subcommand)]
        action: Option<StoreCommand>,
    },
}

#[derive(Subcommand)]
enum FoldersCommand {
    /// Watch folders and index what they hold.
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Only add; index later with `index` or `watch`.
        #[arg(long)]
        no_index: bool,
    },
    /// Stop watching folders and forget their photos (files are not touched).
    Remove {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    List,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Move the library to a store; vectors are copied from the catalog, nothing is re-embedded.
    Use {
        #[command(subcommand)]
        store: StoreKind,
    },
    /// Make the store hold exactly the catalog's vectors (after an outage, say).
    Reconcile,
    /// Rebuild Milvus's index: FLAT, IVF_FLAT, IVF_SQ8, IVF_PQ or HNSW, with
    /// build parameters (--param nlist=1024, m=16, nbits=8, M=16,
    /// efConstruction=200) and search parameters (--search nprobe=16, ef=64).
    Index {
        #[arg(long = "type")]
        kind: String,
        #[arg(long = "param", value_parser = parse_kv)]
        build: Vec<(String, String)>,
        #[arg(long = "search", value_parser = parse_kv)]
        search: Vec<(String, String)>,
    },
    /// Recall@k of the store's search against exact search, with its latency.
    Recall {
        #[arg(long, default_value_t = 100)]
        queries: usize,
        #[arg(short, default_value_t = 10)]
        k: usize,
    },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

#[derive(Subcommand)]
enum StoreKind {
    /// The in-process store (default; nothing to install).
    Embedded,
    /// A Milvus server or cluster.
    Milvus {
        #[arg(long, default_value = "http://127.0.0.1:19530")]
        uri: String,
        /// API key or `user:password` token.
        #[arg(long, env = "MILVUS_TOKEN")]
        token: Option<String>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long, env = "MILVUS_PASSWORD")]
        password: Option<String>,
        #[arg(long)]
        database: Option<String>,
        /// Collections are named PREFIX_<model>.
        #[arg(long, default_value = "photofinder")]
        prefix: String,
        /// Seconds to wait for the server.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Make NAME the library's model (files are embedded with it by the next `index`).
    Use { name: String },
    /// Download NAME from the model hub (Hugging Face, or a mirror), verify
    /// it and install it; an interrupted download resumes where it stopped.
    Install {
        name: String,
        /// Download from this mirror (Hugging Face's API) this once; see `models mirror`.
        #[arg(long)]
        mirror: Option<String>,
        /// And make it the library's model.
        #[arg(long = "use")]
        and_use: bool,
    },
    /// Show, set or (with --clear) forget the mirror models download from.
    /// PHOTOFINDER_MODEL_MIRROR wins over it.
    Mirror {
        url: Option<String>,
        #[arg(long, conflicts_with = "url")]
        clear: bool,
    },
}

/// Results marked good or bad in an earlier answer: the query moves toward
/// the good ones and away from the bad (Rocchio); bad ones are left out.
#[derive(Args)]
struct Marks {
    /// A library photo that was a good result (repeatable).
    #[arg(long)]
    good: Vec<PathBuf>,
    /// A library photo that was a bad result (repeatable).
    #[arg(long)]
    bad: Vec<PathBuf>,
}

impl Marks {
    fn feedback(&self, lib: &Library) -> photofinder_core::Result<Feedback> {
        let ids = |paths: &[PathBuf]| -> photofinder_core::Result<Vec<i64>> {
            paths
                .iter()
                .map(|p| {
                    let canonical = std::fs::canonicalize(p).map_err(|e| Error::io(p, e))?;
                    Ok(lib.catalog().file_by_path(&canonical)?.ok_or_else(|| Error::NotInLibrary(p.clone()))?.id)
                })
                .collect()
        };
        Ok(Feedback { good: ids(&self.good)?, bad: ids(&self.bad)? })
    }
}

#[derive(Args)]
struct QueryArgs {
    /// Number of results.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Only photos under this folder (repeatable).
    #[arg(long = "folder")]
    folders: Vec<PathBuf>,
    /// Only photos taken on or after this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    after: Option<i64>,
    /// Only photos taken on or before this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    before: Option<i64>,
    /// Only these file types: jpeg, png, webp, gif, bmp, tiff, heic, avif (repeatable).
    #[arg(long = "type")]
    types: Vec<String>,
}

impl QueryArgs {
    fn filter(&self) -> Filter {
        Filter {
            folders: self.folders.iter().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())).collect(),
            taken_after: self.after,
            taken_before: self.before.map(|d| d + 86_399),
            formats: self.types.iter().map(|t| if t == "jpg" { "jpeg".into() } else { t.to_lowercase() }).collect(),
            ..Default::default()
        }
    }
}

fn parse_day(s: &str) -> Result<i64, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let bad = || format!("{s:?} is not a date like 2024-07-31");
    if parts.len() != 3 {
        return Err(bad());
    }
    let n = |i: usize| parts[i].parse::<i64>().map_err(|_| bad());
    photofinder_core::decode::epoch_seconds(n(0)?, n(1)?, n(2)?, 0, 0, 0).ok_or_else(bad)
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Cancelled => 130,
        Error::ModelMissing { .. } | Error::UnknownModel(_) | Error::Model { .. } | Error::Runtime(_) => 3,
        Error::NotInLibrary(_) | Error::NotAFolder(_) => 4,
        Error::Io { .. } | Error::Decode(_) => 5,
        Error::Offline { .. } | Error::Download { .. } => 6,
        _ => 1,
    }
}

/// The arguments; `--version` also names the runtime and the installed
/// models (from `$PHOTOFINDER_MODELS_DIR` or the default folders), `-V` only
/// the version.
fn parse_args() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let long = std::env::args_os().any(|a| a == "--version");
    let mut command = Cli::command();
    if long {
        let versions = ModelDir::from_env().versions();
        // `photofinder 0.1.0` comes from clap: the version goes first, the rest after it.
        let rest = versions[0].trim_start_matches("photofinder ").to_string() + "\n" + &versions[1..].join("\n");
        command = command.long_version(&*Box::leak(rest.into_boxed_str()));
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = parse_args();
    if let Command::Bench(_) | Command::Eval(_) = cli.command {
        let models = cli.models.map(ModelDir::new).unwrap_or_else(ModelDir::from_env);
        let result = match cli.command {
            Command::Bench(args) => bench::bench(args, models),
            Command::Eval(args) => bench::eval(args, models, cli.model),
            _ => unreachable!(),
        };
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("photofinder: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("photofinder: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn run(cli: Cli) -> photofinder_core::Result<()> {
    let model_dir = cli.models.clone().map(ModelDir::new).unwrap_or_else(ModelDir::from_env);
    let dir = cli.library.clone().unwrap_or_else(library::default_dir);
    let mut lib = Library::open(dir, model_dir)?;
    if let Some(m) = &cli.model {
        lib.use_model(m)?;
    }
    let cancel = ctrl_c_cancels();
    let mut reporter = Reporter::new(cli.json, cli.quiet);
    reporter.per_file = matches!(cli.command, Command::Watch);
    let out = Out { reporter: &reporter, sink: &|e| reporter.event(e), cancel: &cancel };
    let lib = &mut lib;
    match cli.command {
        Command::Folders(command) => folders(lib, command, &out),
        Command::Index => {
            let report = lib.index(out.sink, out.cancel)?;
            out.reporter.done();
            out.reporter.index(&report);
            Ok(())
        }
        Command::Watch => watch(lib, &out),
        Command::Search { image, region: Some(region), query, .. } => {
            let results = lib.search_region(&image, region, query.k, &query.filter())?;
            out.reporter.results(&results);
            Ok(())
        }
        Command::Search { image, region: None, and_text, text_weight, marks, query } => search(lib, image, and_text, text_weight, &marks, &query, &out),
        Command::Similar { photos, unlike, query } => similar(lib, &photos, &unlike, &query, &out),
        Command::Text { query, method, marks, filters } => {
            let feedback = marks.feedback(lib)?;
            let results = lib.refine_text(&query, &feedback, filters.k, &filters.filter(), method)?;
            out.reporter.text_results(&results);
            Ok(())
        }
        Command::Explore { csv, layout } => {
            let options = photofinder_core::explore::ExploreOptions { layout, ..Default::default() };
            let map = lib.explore_with(&options, out.sink, out.cancel)?;
            out.reporter.done();
            out.reporter.map(&map, csv);
            Ok(())
        }
        Command::Duplicates { max_distance, trash_copies, raw_pairs } => {
            duplicates(lib, max_distance, trash_copies, raw_pairs, &out)
        }
        Command::Trash { photos } => trash(lib, &photos, &out),
        Command::Videos { interval, scene, max_frames } => videos(lib, interval, scene, max_frames, &out),
        Command::Labels { photo } => {
            let labels = lib.labels_of(&photo)?;
            out.reporter.labels(&photo, &labels);
            Ok(())
        }
        Command::Models { action } => models(lib, action, &out),
        Command::Store { action } => store(lib, action, &out),
        Command::Status => {
            let status = lib.status()?;
            out.reporter.status(&status);
            Ok(())
        }
        Command::Bench(_) | Command::Eval(_) => unreachable!("handled in main before the library is opened"),
    }
}

/// Where a command's output, events and cancellation go.
struct Out<'a> {
    reporter: &'a Reporter,
    sink: photofinder_core::progress::Sink<'a>,
    cancel: &'a Cancel,
}

/// Ctrl-C sets the returned flag (long work stops at the next file and
/// leaves the library consistent); a second Ctrl-C ends the process at once.
fn ctrl_c_cancels() -> Cancel {
    let cancel = Cancel::new();
    let flag = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nstopping (Ctrl-C again to quit at once)...");
        flag.cancel();
    });
    cancel
}

fn folders(lib: &mut Library, command: FoldersCommand, out: &Out) -> photofinder_core::Result<()> {
    match command {
        FoldersCommand::Add { paths, no_index } => {
            // Held across adding and indexing, so a wait for another process is said once.
            let _writing = lib.lock_for_writing("changing the folders of", out.sink, out.cancel)?;
            let mut added = Vec::new();
            for p in &paths {
                added.push(lib.add_folder(p)?);
            }
            let report = if no_index { None } else { Some(lib.index(out.sink, out.cancel)?) };
            out.reporter.done();
            out.reporter.folders_added(&added, report.as_ref());
        }
        FoldersCommand::Remove { paths } => {
            let _writing = lib.lock_for_writing("changing the folders of", out.sink, out.cancel)?;
            for p in &paths {
                let n = lib.remove_folder(p)?;
                out.reporter.line(&format!("removed {} ({n} photos forgotten)", p.display()));
            }
        }
        FoldersCommand::List => out.reporter.folders(&lib.folders()?),
    }
    Ok(())
}

fn watch(lib: &mut Library, out: &Out) -> photofinder_core::Result<()> {
    out.reporter.line(&format!(
        "watching {} folder(s) with {}; Ctrl-C to stop",
        lib.catalog().folders()?.len(),
        lib.model()
    ));
    lib.watch(&WatchOptions::default(), out.sink, out.cancel)?;
    out.reporter.done();
    Ok(())
}

fn search(
    lib: &mut Library,
    image: PathBuf,
    and_text: Option<String>,
    text_weight: f32,
    marks: &Marks,
    query: &QueryArgs,
    out: &Out,
) -> photofinder_core::Result<()> {
    let feedback = marks.feedback(lib)?;
    let results = match and_text {
        Some(text) => lib.search_photo_and_text(&Example::Path(image), &text, text_weight, &feedback, query.k, &query.filter())?,
        None => lib.refine_photo(&Example::Path(image), &feedback, query.k, &query.filter())?,
    };
    out.reporter.results(&results);
    Ok(())
}

fn similar(lib: &mut Library, photos: &[PathBuf], unlike: &[PathBuf], query: &QueryArgs, out: &Out) -> photofinder_core::Result<()> {
    let results = if photos.len() == 1 && unlike.is_empty() {
        lib.search_library(&photos[0], query.k, &query.filter())?
    } else {
        lib.search_many(photos, unlike, query.k, &query.filter())?
    };
    out.reporter.results(&results);
    Ok(())
}

fn duplicates(lib: &mut Library, max_distance: f32, trash_copies: bool, raw_pairs: bool, out: &Out) -> photofinder_core::Result<()> {
    let found = if raw_pairs {
        lib.duplicates_with_raw_pairs(max_distance, out.sink, out.cancel)?
    } else {
        lib.duplicates(max_distance, out.sink, out.cancel)?
    };
    out.reporter.done();
    let trashed = if trash_copies {
        let copies: Vec<i64> = found.groups.iter().flat_map(|g| g.photos[1..].iter().map(|p| p.photo.id)).collect();
        Some(lib.move_to_trash(&copies, out.sink)?)
    } else {
        None
    };
    out.reporter.duplicates(&found, trashed.as_ref());
    Ok(())
}

fn trash(lib: &mut Library, photos: &[PathBuf], out: &Out) -> photofinder_core::Result<()> {
    let mut ids = Vec::new();
    for p in photos {
        let canonical = std::fs::canonicalize(p).map_err(|e| Error::io(p, e))?;
        let row = lib.catalog().file_by_path(&canonical)?.ok_or_else(|| Error::NotInLibrary(p.clone()))?;
        ids.push(row.id);
    }
    let report = lib.move_to_trash(&ids, out.sink)?;
    out.reporter.trashed(&report);
    Ok(())
}

fn videos(lib: &mut Library, interval: Option<f64>, scene: Option<f64>, max_frames: Option<usize>, out: &Out) -> photofinder_core::Result<()> {
    let mut options = lib.video_options()?;
    options.interval_secs = interval.unwrap_or(options.interval_secs);
    options.scene_threshold = scene.unwrap_or(options.scene_threshold);
    options.max_frames = max_frames.unwrap_or(options.max_frames);
    let requeued = lib.set_video_options(&options)?;
    out.reporter.video_options(&options, requeued);
    Ok(())
}

fn models(lib: &mut Library, action: Option<ModelsCommand>, out: &Out) -> photofinder_core::Result<()> {
    match action {
        Some(ModelsCommand::Use { name }) => {
            lib.set_model(&name)?;
            lib.models().require(&name)?;
            out.reporter.line(&format!("the library now uses {name}; run `photofinder index` to embed with it"));
        }
        Some(ModelsCommand::Install { name, mirror, and_use }) => {
            let base = match mirror {
                Some(m) => m.trim_end_matches('/').to_string(),
                None => lib.model_hub()?,
            };
            out.reporter.line(&format!("downloading {name} from {base}"));
            let status = photofinder_core::models::hub::install(lib.models(), &name, &base, out.sink, out.cancel)?;
            out.reporter.done();
            if and_use {
                lib.set_model(&name)?;
            }
            out.reporter.installed(&status, and_use);
        }
        Some(ModelsCommand::Mirror { url, clear }) => {
            if clear {
                lib.set_model_mirror(None)?;
            } else if let Some(url) = url {
                lib.set_model_mirror(Some(&url))?;
            }
            out.reporter.line(&format!("models download from {}", lib.model_hub()?));
        }
        None => out.reporter.models(&lib.models().all(), lib.model(), lib.models()),
    }
    Ok(())
}

fn store(lib: &mut Library, action: Option<StoreCommand>, out: &Out) -> photofinder_core::Result<()> {
    match action {
        None => {
            let choice = lib.store_choice()?;
            let model = lib.model().to_string();
            let outbox = lib.catalog().outbox(&model)?.len();
            let points = lib.store()?.len()?;
            out.reporter.store(&choice, &model, points, outbox);
        }
        Some(StoreCommand::Use { store }) => {
            let choice = match store {
                StoreKind::Embedded => StoreChoice::Embedded,
                StoreKind::Milvus { uri, token, user, password, database, prefix, timeout } => {
                    StoreChoice::Milvus(Box::new(MilvusConfig {
                        uri,
                        token,
                        user,
                        password,
                        database,
                        prefix,
                        timeout_secs: timeout,
                        ..Default::default()
                    }))
                }
            };
            let previous = lib.store_choice()?;
            lib.set_store(&choice)?;
            // Connect and fill it now, so a wrong address is said at once.
            if let Err(e) = lib.store() {
                lib.set_store(&previous)?;
                return Err(e);
            }
            let model = lib.model().to_string();
            let points = lib.store()?.len()?;
            out.reporter.store(&choice, &model, points, 0);
        }
        Some(StoreCommand::Index { kind, build, search }) => {
            let index = IndexConfig { kind: kind.to_uppercase(), build: build.into_iter().collect(), search: search.into_iter().collect() };
            lib.set_index(&index)?;
            out.reporter.line(&format!("index rebuilt: {} {:?}, search {:?}", index.kind, index.build, index.search));
        }
        Some(StoreCommand::Recall { queries, k }) => {
            let report = lib.recall(queries, k)?;
            out.reporter.recall(&report);
        }
        Some(StoreCommand::Reconcile) => {
            let (added, removed) = lib.reconcile_store()?;
            out.reporter.line(&format!("store reconciled: {added} added, {removed} removed"));
        }
    }
    Ok(())
}
