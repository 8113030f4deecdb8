//! "More like this" that learns from good/bad marks (Rocchio), for photo and
//! text queries, with real Lite0 vectors; and photo + text with CLIP's
//! towers (random weights here: the plumbing, not the meaning).

mod common;

use std::path::Path;

use common::*;
use photofinder_core::{Cancel, Example, Feedback, Filter, Library, SearchHit};

fn names(hits: &[SearchHit]) -> Vec<String> {
    hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

/// Mean rank of the results whose name starts with `prefix` (absent ones count as last).
fn mean_rank(hits: &[SearchHit], prefix: &str, group: usize, total: usize) -> f64 {
    let mut ranks: Vec<usize> = names(hits).iter().enumerate().filter(|(_, n)| n.starts_with(prefix)).map(|(i, _)| i).collect();
    ranks.resize(group, total);
    ranks.iter().sum::<usize>() as f64 / group as f64
}

fn id_of(lib: &Library, path: &Path) -> i64 {
    lib.catalog().file_by_path(&path.canonicalize().unwrap()).unwrap().unwrap().id
}

fn library_with_variants(tmp: &Path) -> (Library, std::path::PathBuf) {
    indexed_library(tmp, |photos| write_with_variants(photos, None))
}

#[test]
fn photo_results_move_toward_the_good_and_away_from_the_bad() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = library_with_variants(tmp.path());
    let group = 1 + variants(&photo("rocket.jpg")).len();
    let total = ORIGINALS.len() * group;
    let query = photos.join("astronaut.jpg");
    let k = 24;

    let before = lib.refine_photo(&Example::Path(query.clone()), &Feedback::default(), k, &Filter::default()).unwrap();
    assert_eq!(names(&before.hits), names(&lib.search_file(&query, k, &Filter::default()).unwrap().hits), "no marks: plain search");

    let bad = photos.join("astronaut__crop70.jpg");
    let feedback = Feedback { good: vec![id_of(&lib, &photos.join("rocket.jpg"))], bad: vec![id_of(&lib, &bad)] };
    let after = lib.refine_photo(&Example::Path(query.clone()), &feedback, k, &Filter::default()).unwrap();
    assert!(!names(&after.hits).contains(&"astronaut__crop70.jpg".to_string()), "a bad result is gone");
    assert_eq!(names(&after.hits)[0], "astronaut.jpg", "the query still leads");
    let (r0, r1) = (mean_rank(&before.hits, "rocket", group, total), mean_rank(&after.hits, "rocket", group, total));
    assert!(r1 < r0, "rocket photos moved up: mean rank {r0} -> {r1}");

    // A second round with more marks moves further.
    let mut more = feedback.clone();
    more.good.push(id_of(&lib, &photos.join("rocket__flip.jpg")));
    let again = lib.refine_photo(&Example::Path(query.clone()), &more, k, &Filter::default()).unwrap();
    let r2 = mean_rank(&again.hits, "rocket", group, total);
    assert!(r2 <= r1, "mean rank {r1} -> {r2}");
}

#[test]
fn text_results_learn_from_marks_too() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = library_with_variants(tmp.path());
    let total = ORIGINALS.len() * 7;
    let before = lib.refine_text("cat", &Feedback::default(), 20, &Filter::default(), None).unwrap();
    assert!(names(&before.hits)[0].starts_with("cat"), "{:?}", names(&before.hits));

    let bad = photos.join("cat__gray.jpg");
    let feedback = Feedback { good: vec![id_of(&lib, &photos.join("coffee.jpg"))], bad: vec![id_of(&lib, &bad)] };
    let after = lib.refine_text("cat", &feedback, 20, &Filter::default(), None).unwrap();
    assert_eq!(after.method, before.method);
    let after_names = names(&after.hits);
    assert!(!after_names.contains(&"cat__gray.jpg".to_string()));
    let cats = after_names[..7].iter().filter(|n| n.starts_with("cat")).count();
    assert!(cats >= 3, "the text still counts: {after_names:?}");
    let (r0, r1) = (mean_rank(&before.hits, "coffee", 7, total), mean_rank(&after.hits, "coffee", 7, total));
    assert!(r1 < r0, "coffee photos moved up: mean rank {r0} -> {r1}");
}

/// CLIP's towers here have RANDOM weights: this checks how photo and text
/// are combined, not that "at night" means anything.
#[test]
fn photo_plus_text_lies_between_the_photo_and_the_text_plumbing_only_random_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = indexed_library(tmp.path(), |photos| {
        write_originals(photos, ORIGINALS.len());
    });
    let query = photos.join("cat.jpg");
    let err = lib.search_photo_and_text(&Example::Path(query.clone()), "at night", 1.0, &Feedback::default(), 8, &Filter::default()).unwrap_err();
    assert!(err.to_string().contains("clip-vit-b32"), "{err}");

    lib.set_model("clip-vit-b32").unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let none = Feedback::default();
    let photo_only = lib.refine_photo(&Example::Path(query.clone()), &none, 8, &Filter::default()).unwrap();
    let text_only = lib.search_text("at night", 8, &Filter::default(), None).unwrap();
    let with_zero = lib.search_photo_and_text(&Example::Path(query.clone()), "at night", 0.0, &none, 8, &Filter::default()).unwrap();
    assert_eq!(names(&with_zero.hits), names(&photo_only.hits), "weight 0: the photo alone");
    let with_huge = lib.search_photo_and_text(&Example::Path(query.clone()), "at night", 1e4, &none, 8, &Filter::default()).unwrap();
    assert_eq!(names(&with_huge.hits), names(&text_only.hits), "all weight on the text: the text alone");
    let both = lib.search_photo_and_text(&Example::Path(query.clone()), "at night", 1.0, &none, 8, &Filter::default()).unwrap();
    assert_eq!(both.hits.len(), 8);
    assert!(both.query.to_string_lossy().contains("at night"));
    // Scores of the blend differ from both ends (it is a different query).
    let sims = |r: &[SearchHit]| r.iter().map(|h| (h.id, h.similarity)).collect::<Vec<_>>();
    assert_ne!(sims(&both.hits), sims(&photo_only.hits));
    assert_ne!(sims(&both.hits), sims(&text_only.hits));
}
