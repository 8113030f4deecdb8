//! The window's TypeScript types (`ui/src/bindings/`) are generated from the
//! Rust types its commands answer with and its events carry, by ts-rs; this
//! test fails when the checked-in files differ from what the Rust types say,
//! so the two cannot drift. `scripts/bindings` writes them anew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use photofinder_core::duplicates::{Duplicates, TrashReport};
use photofinder_core::explore::Map;
use photofinder_core::{Feedback, Notice, Photo, Progress, SearchResults, TextResults};
use ts_rs::{Config, TS};

use crate::commands::{CommandError, Overview, Refined, Seed};

/// Writes one root type's binding and those of every type it uses.
type Export = fn(&Config) -> Result<(), ts_rs::ExportError>;

fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings")
}

/// Every binding, by file name, as ts-rs writes them into `dir`.
fn generate(dir: &Path) -> BTreeMap<String, String> {
    // Ids and counts are JSON numbers (well under 2^53), not bigints.
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    // The roots: what commands answer and take, and what events carry;
    // every type they use is written with them.
    let exports: [Export; 12] = [
        Overview::export_all,
        CommandError::export_all,
        Seed::export_all,
        Refined::export_all,
        Feedback::export_all,
        Photo::export_all,
        SearchResults::export_all,
        TextResults::export_all,
        Duplicates::export_all,
        TrashReport::export_all,
        Map::export_all,
        |cfg| Notice::export_all(cfg).and_then(|()| Progress::export_all(cfg)),
    ];
    for export in exports {
        export(&cfg).expect("ts-rs writes the binding");
    }
    read_dir(dir)
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

#[test]
fn the_windows_types_are_the_rust_types() {
    let tmp = std::env::temp_dir().join(format!("photofinder-bindings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let generated = generate(&tmp);
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(generated.contains_key("SearchHit.ts") && generated.contains_key("Event.ts"), "{:?}", generated.keys());
    if std::env::var_os("PHOTOFINDER_WRITE_BINDINGS").is_some() {
        let dir = checked_in();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let current = read_dir(&checked_in());
    let stale: Vec<&String> = current.keys().filter(|k| !generated.contains_key(*k)).collect();
    let missing: Vec<&String> = generated.keys().filter(|k| !current.contains_key(*k)).collect();
    let changed: Vec<&String> = generated.keys().filter(|k| current.get(*k).is_some_and(|c| c != &generated[*k])).collect();
    assert!(
        stale.is_empty() && missing.is_empty() && changed.is_empty(),
        "ui/src/bindings is not what the Rust types say (run scripts/bindings): \
         changed {changed:?}, missing {missing:?}, no longer generated {stale:?}"
    );
}
