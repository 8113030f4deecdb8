//! What the CLI prints: a progress bar and tables for people, JSON for programs.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use photofinder_core::catalog::{FileState, Folder};
use photofinder_core::duplicates::{Duplicates, TrashReport};
use photofinder_core::explore::Map;
use photofinder_core::video::VideoOptions;
use photofinder_core::library::{FolderStatus, StoreChoice};
use photofinder_core::{Event, IndexReport, ModelDir, ModelStatus, SearchHit, SearchResults, Status, TextMethod, TextResults};
use serde::Serialize;

pub struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
    /// Print a line per file (while watching); bulk runs show the bar instead.
    pub per_file: bool,
}

/// Write a line to standard output. A reader that went away (`photofinder
/// status | head -1`) ends the program quietly with status 0, as other Unix
/// tools do, instead of a panic on the broken pipe.
pub fn write_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("photofinder: standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` that survives a closed pipe (see `write_line`).
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::write_line(format_args!($($arg)*)) };
}
pub(crate) use say;

fn print_json<T: Serialize + ?Sized>(value: &T) {
    // Every path the core serialises is written losslessly (photofinder_core::paths),
    // so this fails only on a bug: say so rather than panic.
    match serde_json::to_string_pretty(value) {
        Ok(json) => say!("{json}"),
        Err(e) => {
            eprintln!("photofinder: cannot write JSON: {e}");
            std::process::exit(1);
        }
    }
}

impl Reporter {
    pub fn new(json: bool, quiet: bool) -> Reporter {
        let bar = (!quiet && !json && console_is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {prefix}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter { json, bar, per_file: false }
    }

    /// A line for people (stderr when JSON goes to stdout).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if self.json => eprintln!("{text}"),
            None => say!("{text}"),
        }
    }

    pub fn event(&self, event: Event) {
        match event {
            Event::Progress(p) => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{:?}", p.phase).to_lowercase());
                    bar.set_length(p.total);
                    bar.set_position(p.done);
                    let current = p.current.as_ref().and_then(|c| c.file_name()).map(|n| n.to_string_lossy().into_owned());
                    let errors = if p.errors > 0 { format!("{} errors ", p.errors) } else { String::new() };
                    bar.set_prefix(format!("{errors}{}", current.unwrap_or_default()));
                }
            }
            Event::Failed { path, error } => self.line(&format!("failed: {}: {error}", path.display())),
            Event::Skipped { path, reason } => self.line(&format!("skipped: {}: {reason}", path.display())),
            Event::Unsupported { path, reason } => self.line(&format!("unsupported: {}: {reason}", path.display())),
            Event::Recovered { path, warning } => self.line(&format!("recovered: {}: {warning}", path.display())),
            Event::Ignored { path, reason } => self.line(&format!("ignored: {}: {reason}", path.display())),
            Event::WaitingForWriter { holder } => self.line(&format!("waiting for {holder}")),
            Event::Unreadable { path, error } => self.line(&format!("unreadable: {}: {error}", path.display())),
            Event::FolderMissing { path } => self.line(&format!("folder missing: {}", path.display())),
            Event::FolderBack { path } => self.line(&format!("folder back: {}", path.display())),
            Event::Rescan { reason } => self.line(&format!("rescanning: {reason}")),
            Event::Download(d) => {
                if let Some(bar) = &self.bar {
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {prefix}")
                            .expect("valid template")
                            .progress_chars("=> "),
                    );
                    bar.set_message("downloading");
                    bar.set_length(d.total);
                    bar.set_position(d.done);
                    bar.set_prefix(d.file);
                }
            }
            Event::StoreBehind { error } => self.line(&format!("vector store behind (will catch up): {error}")),
            Event::Moved { from, to } => self.verbose(&format!("moved: {} -> {}", from.display(), to.display())),
            Event::Removed { path } => self.verbose(&format!("removed: {}", path.display())),
            Event::Changed { path } => self.verbose(&format!("changed: {}", path.display())),
            Event::Added { path } => self.verbose(&format!("indexed: {}", path.display())),
        }
    }

    /// Per-file news: shown while watching, not in bulk runs.
    fn verbose(&self, text: &str) {
        if self.per_file && !self.json {
            self.line(text);
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    pub fn index(&self, r: &IndexReport) {
        if self.json {
            return print_json(r);
        }
        say!(
            "{} new, {} changed, {} moved, {} removed, {} unchanged; embedded {} ({} reused) in {:.1}s \
             ({:.1} photos/s); {} failed, {} unsupported, {} skipped, {} recovered from warnings, {} ignored",
            r.added,
            r.changed,
            r.moved,
            r.removed,
            r.unchanged,
            r.embedding.embedded,
            r.embedding.reused,
            r.embedding.seconds,
            if r.embedding.seconds > 0.0 { r.embedding.embedded as f64 / r.embedding.seconds } else { 0.0 },
            r.embedding.failed,
            r.embedding.unsupported,
            r.embedding.skipped,
            r.embedding.recovered,
            r.ignored,
        );
    }

    pub fn folders_added(&self, added: &[Folder], report: Option<&IndexReport>) {
        if self.json {
            #[derive(Serialize)]
            struct Added<'a> {
                folders: &'a [Folder],
                index: Option<&'a IndexReport>,
            }
            return print_json(&Added { folders: added, index: report });
        }
        for f in added {
            say!("added folder {}", f.path.display());
        }
        if let Some(r) = report {
            self.index(r);
        }
    }

    pub fn folders(&self, folders: &[FolderStatus]) {
        if self.json {
            return print_json(folders);
        }
        if folders.is_empty() {
            say!("no folders yet: photofinder folders add <folder>");
        }
        for f in folders {
            say!("{:>7} files  {:>7} indexed  {:8}  {}", f.files, f.indexed, f.folder.state, f.folder.path.display());
        }
    }

    pub fn results(&self, r: &SearchResults) {
        if self.json {
            return print_json(r);
        }
        say!(
            "{} results for {} ({}, {} store, {:.0} ms)",
            r.hits.len(),
            r.query.display(),
            r.model,
            r.store,
            r.millis
        );
        if let Some(p) = r.region {
            say!("searched with a part of it: x {:.2}, y {:.2}, {:.2} wide, {:.2} high", p.x, p.y, p.width, p.height);
        }
        for (i, h) in r.hits.iter().enumerate() {
            let tag = if h.is_query { "  (query)" } else { "" };
            say!("{:>3}. similarity {:.3}  distance {:.4}  {}{}{tag}", i + 1, h.similarity, h.distance, h.path.display(), moment(h));
        }
    }

    /// The groups, and what was moved to the trash (one JSON document with both).
    pub fn duplicates(&self, d: &Duplicates, trashed: Option<&TrashReport>) {
        if self.json {
            return match trashed {
                Some(t) => print_json(&serde_json::json!({ "duplicates": d, "trashed": t })),
                None => print_json(d),
            };
        }
        let extra: usize = d.groups.iter().map(|g| g.photos.len() - 1).sum();
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        say!(
            "{}, {} among {} ({}, max distance {})",
            plural(d.groups.len(), "group", "groups"),
            plural(extra, "copy", "copies"),
            if d.videos > 0 {
                format!("{} and {}", plural(d.photos, "photo", "photos"), plural(d.videos, "video", "videos"))
            } else {
                plural(d.photos, "photo", "photos")
            },
            d.model,
            d.max_distance
        );
        for (i, g) in d.groups.iter().enumerate() {
            say!("group {}:", i + 1);
            for (j, p) in g.photos.iter().enumerate() {
                let kind = if j == 0 {
                    "keep    ".to_string()
                } else if p.exact {
                    "exact   ".to_string()
                } else {
                    let bits = p.hash_bits.map(|b| format!(" {b:>2}/64")).unwrap_or_default();
                    format!("d {:.3}{bits} ", p.distance)
                };
                let size = match (p.photo.width, p.photo.height) {
                    (Some(w), Some(h)) => format!("{w}x{h}"),
                    _ => "?".into(),
                };
                say!("  {kind} {size:>11} {:>9} B  {}", p.photo.size, p.photo.path.display());
            }
        }
        if let Some(t) = trashed {
            self.trashed(t);
        }
    }

    pub fn video_options(&self, o: &VideoOptions, requeued: usize) {
        if self.json {
            return print_json(&serde_json::json!({ "options": o, "requeued": requeued }));
        }
        let scene = if o.scene_threshold > 0.0 { format!("and at scene changes above {}", o.scene_threshold) } else { "no scene detection".into() };
        say!("video keyframes: every {} s {scene}, at most {} per video", o.interval_secs, o.max_frames);
        if requeued > 0 {
            say!("{requeued} videos will be indexed again by the next `photofinder index` or `watch`");
        }
    }

    pub fn trashed(&self, r: &TrashReport) {
        if self.json {
            return print_json(r);
        }
        for p in &r.trashed {
            say!("moved to the trash: {}", p.display());
        }
        for (p, e) in &r.failed {
            say!("not moved: {}: {e}", p.display());
        }
    }

    pub fn text_results(&self, r: &TextResults) {
        if self.json {
            return print_json(r);
        }
        let how = match r.method {
            TextMethod::Clip => format!("CLIP text search ({})", r.model),
            TextMethod::Labels | TextMethod::Words if r.matched.is_empty() => {
                "label search: no ImageNet class matches the query".to_string()
            }
            TextMethod::Labels | TextMethod::Words => {
                let by = if r.method == TextMethod::Words { "word for word" } else { "words and meaning" };
                format!("label search ({}, {by}), answered by: {}", r.model, matched_classes(&r.matched, 8))
            }
        };
        say!("{} results for {:?} by {how} ({:.0} ms)", r.hits.len(), r.query, r.millis);
        if !r.understood.is_empty() {
            say!("only {}", r.understood.join(", "));
        }
        if let Some(note) = &r.note {
            say!("note: {note}");
        }
        for (i, h) in r.hits.iter().enumerate() {
            say!("{:>3}. score {:.3}  {}{}", i + 1, h.similarity, h.path.display(), moment(h));
        }
    }

    pub fn map(&self, map: &Map, csv: bool) {
        if self.json {
            return print_json(map);
        }
        let path_of = |c: Option<usize>| c.map(|c| map.clusters[c].label_path.clone()).unwrap_or_default();
        if csv {
            say!("id,x,y,cluster,path");
            for p in &map.points {
                let path = p.path.display().to_string().replace('"', "\"\"");
                say!("{},{},{},{},\"{path}\"", p.id, p.x, p.y, path_of(p.part.or(p.cluster)));
            }
            return;
        }
        let tops: Vec<_> = map.clusters.iter().filter(|c| c.parent.is_none()).collect();
        let how = match map.layout {
            photofinder_core::explore::Layout::Umap => "neighbour-preserving map".to_string(),
            photofinder_core::explore::Layout::Pca => format!("PCA map, {:.0}% of the variance", (map.explained[0] + map.explained[1]) * 100.0),
        };
        say!(
            "{} photos of {} in {} clusters, {} between them ({how}; {}, {:.0} ms)",
            map.points.len(),
            map.model,
            tops.len(),
            map.unclustered,
            if map.refitted { "laid out now" } else { "cached map" },
            map.millis
        );
        for c in &map.clusters {
            let indent = if c.parent.is_some() { "    " } else { "  " };
            say!("{indent}{:<5} {:>6} photos  {}", c.label_path, c.size, c.name);
        }
        say!("(--csv or --json for every photo's place; --layout pca for the principal axes)");
    }

    pub fn store(&self, choice: &StoreChoice, model: &str, points: usize, outbox: usize) {
        if self.json {
            #[derive(Serialize)]
            struct Store<'a> {
                store: &'a StoreChoice,
                model: &'a str,
                points: usize,
                outbox: usize,
            }
            return print_json(&Store { store: &choice.redacted(), model, points, outbox });
        }
        match choice {
            StoreChoice::Embedded => say!("store: embedded"),
            StoreChoice::Milvus(c) => say!("store: Milvus at {} (collection {}_{})", c.uri, c.prefix, model.replace('-', "_")),
        }
        say!("{points} vectors of {model}; {outbox} changes waiting to be written");
    }

    pub fn recall(&self, r: &photofinder_core::store::recall::RecallReport) {
        if self.json {
            return print_json(r);
        }
        let index = r.index.as_ref().map(|i| format!("{} {:?} search {:?}", i.kind, i.build, i.search)).unwrap_or_else(|| "exact".into());
        say!(
            "{} store ({index}): recall@{} {:.3} over {} queries of {} vectors; search p50 {:.2} ms, p95 {:.2} ms",
            r.store, r.k, r.recall, r.queries, r.vectors, r.p50_ms, r.p95_ms
        );
    }

    pub fn labels(&self, path: &std::path::Path, labels: &[(String, f32)]) {
        if self.json {
            #[derive(Serialize)]
            struct Label<'a> {
                label: &'a str,
                probability: f32,
            }
            let list: Vec<Label> = labels.iter().map(|(l, p)| Label { label: l, probability: *p }).collect();
            return print_json(&list);
        }
        say!("{}", path.display());
        for (label, p) in labels {
            say!("  {:5.1}%  {label}", p * 100.0);
        }
    }

    pub fn installed(&self, m: &ModelStatus, active: bool) {
        if self.json {
            return print_json(m);
        }
        let source = m.provenance.as_ref().map(|p| p.source.as_str()).unwrap_or("unknown source");
        say!("installed {} ({}-d) from {source}", m.spec.name, m.spec.dim);
        if active {
            say!("the library now uses {}; run `photofinder index` to embed with it", m.spec.name);
        } else {
            say!("use it with `photofinder models use {}`, then `photofinder index`", m.spec.name);
        }
    }

    pub fn models(&self, models: &[ModelStatus], active: &str, dir: &ModelDir) {
        if self.json {
            #[derive(Serialize)]
            struct Models<'a> {
                active: &'a str,
                #[serde(serialize_with = "photofinder_core::paths::lossy")]
                dir: &'a std::path::Path,
                #[serde(serialize_with = "photofinder_core::paths::lossy_opt")]
                runtime: Option<std::path::PathBuf>,
                models: &'a [ModelStatus],
            }
            return print_json(&Models { active, dir: &dir.dir, runtime: dir.runtime_library().ok(), models });
        }
        say!("models in {}", dir.dir.display());
        match dir.runtime_library() {
            Ok(p) => say!("  ONNX Runtime: {}", p.display()),
            Err(e) => say!("  ONNX Runtime: missing: {e}"),
        }
        for m in models {
            let mark = if m.spec.name == active { "*" } else { " " };
            let state = if !m.installed {
                match &m.spec.hub {
                    Some(hub) => format!("not installed: photofinder models install {} (about {} MB)", m.spec.name, hub.size_mb),
                    None => format!("missing: install with {}", m.spec.install),
                }
            } else if m.is_random() {
                "installed, RANDOM weights (plumbing tests only, results are meaningless)".to_string()
            } else {
                let source = m.provenance.as_ref().map(|p| p.source.as_str()).unwrap_or("unknown source");
                format!("installed ({source})")
            };
            say!("{mark} {:20} {:5}-d  {}", m.spec.name, m.spec.dim, state);
            if let Some(note) = &m.spec.note {
                say!("  {:20}         {note}", "");
            }
            match m.text_installed {
                Some(true) => say!("  {:20}         text tower installed (text search)", ""),
                Some(false) => say!(
                    "  {:20}         text tower missing: install with {}",
                    "",
                    m.spec.text_install.as_deref().unwrap_or("models/install.sh")
                ),
                None => {}
            }
        }
    }

    pub fn status(&self, s: &Status) {
        if self.json {
            return print_json(s);
        }
        say!("library {}", s.library.display());
        say!("model {} ({} store, {} vectors)", s.model, s.store, s.store_points);
        say!(
            "{} folders, {} files: {} indexed, {} pending, {} broken, {} unsupported, {} not images",
            s.counts.folders,
            s.counts.files,
            s.counts.indexed,
            s.counts.pending,
            s.counts.failed,
            s.counts.unsupported,
            s.counts.skipped
        );
        let d = &s.disk;
        say!(
            "on disk: {} in all (catalog {}, vector store {}, thumbnails {} in {} files, query cache {})",
            bytes(d.total()),
            bytes(d.catalog),
            bytes(d.store),
            bytes(d.thumbnails),
            d.thumbnail_files,
            bytes(d.query_cache)
        );
        self.folders(&s.folders);
        for (title, state) in [
            ("broken (corrupt or truncated, or a decoder failed on them)", FileState::Failed),
            ("unsupported (valid files using a feature not decoded here)", FileState::Unsupported),
            ("not images", FileState::Skipped),
        ] {
            let rows: Vec<_> = s.problems.iter().filter(|p| p.state == state).collect();
            if !rows.is_empty() {
                say!("{title}: {}", rows.len());
            }
            for p in rows {
                say!("  {}: {}", p.path.display(), p.error.as_deref().unwrap_or(""));
            }
        }
        if !s.recovered.is_empty() {
            say!("indexed, recovered from decoder warnings: {}", s.recovered.len());
        }
        for p in &s.recovered {
            say!("  {}: {}", p.path.display(), p.error.as_deref().unwrap_or(""));
        }
    }
}

/// ` @ 1:04.5` for a video moment, nothing for a photo.
fn moment(h: &SearchHit) -> String {
    h.frame.map(|f| format!(" @ {}", clock(f.at_ms))).unwrap_or_default()
}

/// Milliseconds as `m:ss.d` (or `h:mm:ss.d`).
pub fn clock(ms: i64) -> String {
    let tenths = ms / 100;
    let (h, m, s, d) = (tenths / 36000, tenths / 600 % 60, tenths / 10 % 60, tenths % 10);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{d}")
    } else {
        format!("{m}:{s:02}.{d}")
    }
}

/// 1234567 -> "1.2 MB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn console_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// "seashore 1.00, lakeside 0.62, ...": the classes that answered a label search, at most `n`.
fn matched_classes(matched: &[photofinder_core::MatchedClass], n: usize) -> String {
    let mut out: Vec<String> = matched.iter().take(n).map(|m| format!("{} {:.2}", m.name, m.weight)).collect();
    if matched.len() > n {
        out.push(format!("and {} more", matched.len() - n));
    }
    out.join(", ")
}
