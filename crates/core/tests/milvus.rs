//! The library on a real Milvus server (started by `scripts/test`; its
//! address in `MILVUS_URI`): same answers as the embedded store, and no
//! change lost when Milvus is down or loses its collection.

mod common;

use common::*;
use photofinder_core::library::StoreChoice;
use photofinder_core::models::Metric;
use photofinder_core::store::{MilvusConfig, MilvusStore};
use photofinder_core::{Cancel, Error, Event, Filter, Library};

/// The tests here share one small server; one at a time keeps an index
/// build in one test from starving another's requests.
static SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERVER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn milvus(prefix: &str) -> MilvusConfig {
    let uri = std::env::var("MILVUS_URI").expect("MILVUS_URI: run the tests with scripts/test, which starts Milvus");
    // Generous: a two-core test machine may be busy building another index.
    MilvusConfig { uri, prefix: format!("{prefix}{}", std::process::id()), timeout_secs: 60, ..Default::default() }
}

fn top_ids(lib: &mut Library, photos: &std::path::Path) -> Vec<Vec<(i64, f32)>> {
    ORIGINALS
        .iter()
        .map(|(short, _)| {
            let q = photos.join(format!("{short}.jpg"));
            lib.search_file(&q, 3, &Filter::default()).unwrap().hits.iter().map(|h| (h.id, h.distance)).collect()
        })
        .collect()
}

#[test]
fn switching_to_milvus_gives_the_same_results_without_re_embedding() {
    let _server = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, ORIGINALS.len());
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let embedded = top_ids(&mut lib, &photos);

    let config = milvus("switch");
    lib.set_store(&StoreChoice::Milvus(Box::new(config.clone()))).unwrap();
    assert_eq!(lib.store().unwrap().kind(), "milvus");
    assert_eq!(lib.store().unwrap().len().unwrap(), ORIGINALS.len(), "filled from the catalog");
    let on_milvus = top_ids(&mut lib, &photos);
    for (a, b) in embedded.iter().zip(&on_milvus) {
        assert_eq!(a.iter().map(|x| x.0).collect::<Vec<_>>(), b.iter().map(|x| x.0).collect::<Vec<_>>());
        for (x, y) in a.iter().zip(b) {
            assert!((x.1 - y.1).abs() < 1e-3, "distances agree: {} vs {}", x.1, y.1);
        }
    }
    // A photo indexed now is found at once (read-your-writes).
    save_jpeg(&photo("retina.jpg"), &photos.join("retina.jpg"), 90);
    assert_eq!(lib.index(&ignore, &Cancel::new()).unwrap().embedding.embedded, 1);
    let hits = lib.search_file(&photos.join("retina.jpg"), 1, &Filter::default()).unwrap().hits;
    assert!(hits[0].is_query);

    // The collection is dropped behind our back: reopening rebuilds it from the catalog.
    let spec = lib.model_spec();
    MilvusStore::open(&config, &spec.name, spec.dim, Metric::Cosine).unwrap().drop_collection().unwrap();
    lib.set_store(&StoreChoice::Milvus(Box::new(config))).unwrap();
    assert_eq!(lib.store().unwrap().len().unwrap(), ORIGINALS.len() + 1);
    assert_eq!(top_ids(&mut lib, &photos)[0][0].0, embedded[0][0].0);
}

#[test]
fn milvus_down_keeps_indexing_and_catches_up_when_it_is_back() {
    let _server = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, 4);
    let mut lib = library(tmp.path());
    let down = MilvusConfig { uri: "http://127.0.0.1:9".into(), timeout_secs: 2, ..milvus("down") };
    lib.set_store(&StoreChoice::Milvus(Box::new(down))).unwrap();
    lib.add_folder(&photos).unwrap();

    let events = Events::default();
    let report = lib.index(&|e| events.push(e), &Cancel::new()).unwrap();
    assert_eq!(report.embedding.embedded, 4, "the catalog does not wait for the store");
    assert!(events.take().iter().any(|e| matches!(e, Event::StoreBehind { .. })));
    let model = lib.model().to_string();
    assert_eq!(lib.catalog().outbox(&model).unwrap().len(), 4);
    match lib.search_file(&photos.join("cat.jpg"), 3, &Filter::default()) {
        Err(Error::Store(msg)) => assert!(msg.contains("127.0.0.1:9"), "{msg}"),
        other => panic!("expected a clear store error, got {:?}", other.map(|r| r.hits.len())),
    }
    // Deleting while down is remembered too.
    std::fs::remove_file(photos.join("rocket.jpg")).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();

    // Milvus is back (the real server): everything lands once, nothing twice.
    lib.set_store(&StoreChoice::Milvus(Box::new(milvus("down")))).unwrap();
    assert_eq!(lib.store().unwrap().len().unwrap(), 3);
    assert!(lib.catalog().outbox(&model).unwrap().is_empty());
    let hits = lib.search_file(&photos.join("cat.jpg"), 5, &Filter::default()).unwrap().hits;
    assert_eq!(hits.len(), 3);
    assert!(hits[0].is_query);
}

#[test]
fn every_index_type_is_built_in_place_and_measured_against_exact_search() {
    let _server = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, Some(&["cat", "coffee", "rocket", "china"]));
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    assert!(lib.set_index(&photofinder_core::store::IndexConfig::default()).is_err(), "the embedded store is exact");
    assert_eq!(lib.recall(10, 5).unwrap().recall, 1.0);

    lib.set_store(&StoreChoice::Milvus(Box::new(milvus("index")))).unwrap();
    let kv = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (kind, build, search) in [
        ("FLAT", kv(&[]), kv(&[])),
        ("IVF_FLAT", kv(&[("nlist", "4")]), kv(&[("nprobe", "4")])),
        ("IVF_SQ8", kv(&[("nlist", "4")]), kv(&[("nprobe", "4")])),
        ("IVF_PQ", kv(&[("nlist", "4"), ("m", "8"), ("nbits", "8")]), kv(&[("nprobe", "4")])),
        ("HNSW", kv(&[("M", "8"), ("efConstruction", "64")]), kv(&[("ef", "32")])),
    ] {
        let index = photofinder_core::store::IndexConfig { kind: kind.into(), build, search };
        lib.set_index(&index).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let report = lib.recall(20, 5).unwrap();
        assert_eq!(report.vectors, 28);
        assert_eq!(report.index.as_ref().unwrap().kind, kind);
        assert!(report.recall >= 0.6, "{kind}: recall@5 {}", report.recall);
        match lib.store_choice().unwrap() {
            StoreChoice::Milvus(c) => assert_eq!(c.index, index, "the index choice is kept"),
            other => panic!("{other:?}"),
        }
    }
    let hits = lib.search_file(&photos.join("cat.jpg"), 3, &Filter::default()).unwrap().hits;
    assert!(hits[0].is_query);
}

#[test]
fn connection_check_lists_collections_and_reports_a_server_that_is_not_there() {
    let _one = one_at_a_time();
    let config = milvus("check");
    let dim = 8;
    let store = MilvusStore::open(&config, "efficientnet-lite0", dim, Metric::Cosine).unwrap();
    let names = MilvusStore::check(&config).unwrap();
    assert!(names.iter().any(|n| n == store.collection()), "{names:?}");
    store.drop_collection().unwrap();

    let nowhere = MilvusConfig { uri: "http://127.0.0.1:9".into(), timeout_secs: 2, ..Default::default() };
    let err = MilvusStore::check(&nowhere).unwrap_err().to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
}

#[test]
fn video_moments_live_in_milvus_too_and_leave_with_their_video() {
    let _server = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let media = tmp.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    save_jpeg(&photo("rocket.jpg"), &media.join("rocket.jpg"), 90);
    slideshow(&["astronaut.png", "chelsea.png"], 3, &media.join("clip.mp4"));
    let mut lib = library(tmp.path());
    lib.set_store(&StoreChoice::Milvus(Box::new(milvus("video")))).unwrap();
    lib.add_folder(&media).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let frames = lib.store().unwrap().len().unwrap() - 1;
    assert!(frames >= 2, "a keyframe per picture at least");

    let query = tmp.path().join("cat.jpg");
    save_jpeg(&photo("chelsea.png"), &query, 85);
    let top = lib.search_file(&query, 1, &Filter::default()).unwrap().hits.remove(0);
    assert!(top.path.ends_with("clip.mp4"), "{top:?}");
    assert!(top.id >= photofinder_core::catalog::FRAME_ID_BASE, "frames keep their ids in Milvus's int64 keys");
    assert!((3000..6000).contains(&top.frame.unwrap().at_ms));

    std::fs::remove_file(media.join("clip.mp4")).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    // The catalog forgets them at once, so no search shows them; Milvus's
    // own queries see a delete a moment later.
    let hits = lib.search_file(&query, 5, &Filter::default()).unwrap().hits;
    assert!(hits.iter().all(|h| h.frame.is_none()), "{hits:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lib.store().unwrap().len().unwrap() != 1 {
        assert!(std::time::Instant::now() < deadline, "the frames left Milvus with the video");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn duplicate_groups_on_milvus_match_the_embedded_store() {
    let _server = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, _) = indexed_library(tmp.path(), |dir| {
        write_originals(dir, 4);
        let cat = photo("chelsea.png");
        let half = image::imageops::resize(&cat, cat.width() / 2, cat.height() / 2, image::imageops::FilterType::Triangle);
        save_jpeg(&half, &dir.join("cat-half.jpg"), 60);
        std::fs::copy(dir.join("rocket.jpg"), dir.join("rocket copy.jpg")).unwrap();
    });
    let names = |d: &photofinder_core::duplicates::Duplicates| {
        let mut groups: Vec<Vec<String>> = d
            .groups
            .iter()
            .map(|g| {
                let mut n: Vec<String> = g.photos.iter().map(|p| p.photo.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
                n.sort();
                n
            })
            .collect();
        groups.sort();
        groups
    };
    let max = photofinder_core::duplicates::DEFAULT_MAX_DISTANCE;
    let embedded = lib.duplicates(max, &ignore, &Cancel::new()).unwrap();
    assert_eq!(names(&embedded), [vec!["cat-half.jpg", "cat.jpg"], vec!["rocket copy.jpg", "rocket.jpg"]]);
    // With Milvus, the catalog's copies of the vectors are compared.
    lib.set_store(&StoreChoice::Milvus(Box::new(milvus("dups")))).unwrap();
    let on_milvus = lib.duplicates(max, &ignore, &Cancel::new()).unwrap();
    assert_eq!(names(&on_milvus), names(&embedded));
    let d = |r: &photofinder_core::duplicates::Duplicates| r.groups.iter().flat_map(|g| g.photos.iter().map(|p| p.distance)).collect::<Vec<_>>();
    for (a, b) in d(&embedded).iter().zip(d(&on_milvus)) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
    // So a Milvus that is down does not stop it.
    let down = MilvusConfig { uri: "http://127.0.0.1:9".into(), timeout_secs: 2, ..milvus("dups") };
    lib.set_store(&StoreChoice::Milvus(Box::new(down))).unwrap();
    let while_down = lib.duplicates(max, &ignore, &Cancel::new()).unwrap();
    assert_eq!(names(&while_down), names(&embedded));
}
