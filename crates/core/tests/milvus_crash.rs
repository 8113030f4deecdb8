//! Milvus crashes in the middle of a sync and comes back: nothing is lost and
//! nothing is duplicated. This kills and restarts the test server itself
//! (`scripts/milvus-server`, directory in `MILVUS_DIR`), so it lives in its own
//! test binary: cargo runs test binaries one at a time.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use photofinder_core::library::StoreChoice;
use photofinder_core::progress::Phase;
use photofinder_core::store::MilvusConfig;
use photofinder_core::{Cancel, Event};

fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn milvus_killed_mid_sync_and_restarted_loses_and_duplicates_nothing() {
    let dir = std::env::var("MILVUS_DIR").expect("MILVUS_DIR: run with scripts/test, which starts Milvus");
    let uri = std::env::var("MILVUS_URI").expect("MILVUS_URI");
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, Some(&["cat", "coffee"]));
    let mut lib = library(tmp.path());
    let config = MilvusConfig { uri, prefix: format!("crash{}", std::process::id()), timeout_secs: 5, ..Default::default() };
    lib.set_store(&StoreChoice::Milvus(Box::new(config.clone()))).unwrap();
    lib.options.batch = 2;
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(lib.store().unwrap().len().unwrap(), 14);

    // More photos arrive; Milvus dies (SIGKILL) once the first batch is in.
    write_with_variants(&photos, Some(&["rocket", "china"]));
    let killed = AtomicBool::new(false);
    let events = Events::default();
    let sink = |e: Event| {
        if let Event::Progress(p) = &e {
            if p.phase == Phase::Embedding && p.done >= 2 && !killed.swap(true, Ordering::SeqCst) {
                let status = Command::new("pkill").args(["-KILL", "-f", &format!("{dir}/data/bin/milvus")]).status().unwrap();
                assert!(status.success(), "the Milvus server was running");
            }
        }
        events.push(e);
    };
    let report = lib.index(&sink, &Cancel::new()).unwrap();
    assert!(killed.load(Ordering::SeqCst));
    assert_eq!(report.embedding.embedded, 14, "indexing went on without the store");
    assert!(events.take().iter().any(|e| matches!(e, Event::StoreBehind { .. })));
    let model = lib.model().to_string();
    assert!(!lib.catalog().outbox(&model).unwrap().is_empty());

    // Milvus restarts on its data; the library reconnects and catches up.
    let out = Command::new(repo().join("scripts/milvus-server")).args(["start", &dir]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Recovering a collection after a crash takes the server a while.
    let patient = MilvusConfig { timeout_secs: 60, ..config };
    lib.set_store(&StoreChoice::Milvus(Box::new(patient))).unwrap();
    let ids = lib.store().unwrap().ids().unwrap();
    let want = lib.catalog().embedded_ids(&model).unwrap();
    assert_eq!(ids, want, "exactly the catalog's photos, each once");
    assert_eq!(ids.len(), 28);
    assert!(lib.catalog().outbox(&model).unwrap().is_empty());
    let hits = lib.search_file(&photos.join("rocket.jpg"), 1, &photofinder_core::Filter::default()).unwrap().hits;
    assert!(hits[0].is_query);
}
