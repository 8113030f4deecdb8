//! Text search (ImageNet labels offline; CLIP plumbing) and "more like these".

mod common;

use std::path::{Path, PathBuf};

use common::*;
use photofinder_core::embed::TextEmbedder;
use photofinder_core::{Cancel, Error, Filter, Library, ModelDir, TextMethod};

fn library_of_originals(tmp: &Path, model: &str) -> (Library, PathBuf) {
    let photos = tmp.join("photos");
    write_originals(&photos, ORIGINALS.len());
    let mut lib = library(tmp);
    lib.set_model(model).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    (lib, std::fs::canonicalize(photos).unwrap())
}

#[test]
fn label_search_finds_cats_and_coffee_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = library_of_originals(tmp.path(), "efficientnet-lite0");
    for (query, file) in [("cat", "cat.jpg"), ("cats", "cat.jpg"), ("Tabby CAT", "cat.jpg"), ("espresso", "coffee.jpg"), ("coffee", "coffee.jpg"), ("a photo of a rocket", "rocket.jpg")] {
        let r = lib.search_text(query, 5, &Filter::default(), None).unwrap();
        assert_eq!(r.method, TextMethod::Labels, "no CLIP vectors in this library");
        assert!(!r.hits.is_empty(), "{query:?} found nothing");
        assert_eq!(r.hits[0].path, photos.join(file), "{query:?}");
        assert!(!r.matched.is_empty());
    }
    let none = lib.search_text("zebra", 5, &Filter::default(), None).unwrap();
    assert!(none.hits.is_empty(), "nothing in the library is a zebra");
    // A phrase that means none of the classes answers nothing, by words or by meaning.
    for query in ["qwertyuiop", "quantum chromodynamics"] {
        let nothing = lib.search_text(query, 5, &Filter::default(), Some(TextMethod::Words)).unwrap();
        assert!(nothing.hits.is_empty() && nothing.matched.is_empty());
    }
    let nothing = lib.search_text("quantum chromodynamics", 5, &Filter::default(), None).unwrap();
    assert!(nothing.hits.is_empty() && nothing.matched.is_empty(), "{:?}", nothing.matched);

    let labels = lib.labels_of(&photos.join("cat.jpg")).unwrap();
    assert!(labels[0].0.contains("cat") && labels[0].1 > 0.2, "{labels:?}");
    let outside = tmp.path().join("espresso.jpg");
    save_jpeg(&image::imageops::flip_horizontal(&photo("coffee.png")), &outside, 80);
    assert!(lib.labels_of(&outside).unwrap()[0].0.contains("espresso"));
}

/// With the real sentence model and WordNet's kinds (both installed by
/// models/install.sh from registry packages): phrases no class is named by
/// find photos by what they mean, category words cover their kinds, and the
/// answer says which classes answered.
#[test]
fn label_search_understands_phrases_and_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = library_of_originals(tmp.path(), "efficientnet-lite0");
    for (query, file) in [
        ("kitten", "cat.jpg"),
        ("a hot drink in a cup", "coffee.jpg"),
        ("something launched into space", "rocket.jpg"),
        ("an animal", "cat.jpg"),
        ("a feline", "cat.jpg"),
    ] {
        let r = lib.search_text(query, 3, &Filter::default(), None).unwrap();
        assert_eq!(r.method, TextMethod::Labels);
        assert_eq!(r.hits.first().map(|h| h.path.clone()), Some(photos.join(file)), "{query:?}: {:?}", r.matched);
        assert!(r.matched.iter().all(|m| m.weight > 0.0 && m.weight <= 1.0), "{:?}", r.matched);
    }
    // By meaning, the classes say how near they are; by kind, a category covers every breed.
    let r = lib.search_text("kitten", 3, &Filter::default(), None).unwrap();
    assert!(r.matched.iter().any(|m| m.name == "tabby" && m.similarity.is_some()), "{:?}", r.matched);
    let dogs = lib.search_text("dog", 3, &Filter::default(), None).unwrap();
    assert!(dogs.matched.len() > 100, "every breed is a dog: {} classes", dogs.matched.len());
    assert!(!dogs.matched.iter().any(|m| m.name == "hotdog"), "a class named outright (or by kind) answers alone");
    // Word for word, as label search first was: the phrase finds nothing.
    let words = lib.search_text("kitten", 3, &Filter::default(), Some(TextMethod::Words)).unwrap();
    assert_eq!(words.method, TextMethod::Words);
    assert!(words.hits.is_empty() && words.matched.is_empty());
    // The classes' sentence vectors are kept beside the models after the first query.
    assert!(std::fs::read_dir(models().dir).unwrap().flatten().any(|e| e.file_name().to_string_lossy().starts_with("minilm-l6.") && e.file_name().to_string_lossy().ends_with(".f32")));
}

/// The search box's operators narrow what the meaning finds, with labels
/// (the CLIP path shares the same narrowing; see the query parser's tests).
#[test]
fn the_query_language_narrows_and_excludes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = library_of_originals(tmp.path(), "efficientnet-lite0");
    let names = |lib: &mut Library, q: &str| -> Vec<String> {
        let r = lib.search_text(q, 10, &Filter::default(), None).unwrap();
        r.hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    let cat = vec!["cat.jpg".to_string()];
    assert_eq!(names(&mut lib, "kitten")[..1], cat[..]);
    // The cat photo is wider than tall, a JPEG, in the folder "photos", and no video.
    assert_eq!(names(&mut lib, "kitten landscape")[..1], cat[..]);
    assert_eq!(names(&mut lib, "kitten type:jpg in:PHOTOS is:photo")[..1], cat[..]);
    for narrowed in ["kitten portrait", "kitten type:png", "kitten in:Holidays", "kitten is:video", "kitten 2023"] {
        assert!(!names(&mut lib, narrowed).contains(&cat[0]), "{narrowed:?}");
    }
    // Not wanted: what the words mean counts against a photo.
    assert!(names(&mut lib, "an animal").contains(&cat[0]));
    assert!(!names(&mut lib, "an animal -cat").contains(&cat[0]));
    assert!(!names(&mut lib, "an animal NOT kitten").contains(&cat[0]));
    // Operators alone list the photos they let through; the answer says what it understood.
    assert_eq!(names(&mut lib, "type:jpg").len(), ORIGINALS.len());
    let r = lib.search_text("kitten -dog type:jpg", 10, &Filter::default(), None).unwrap();
    assert_eq!(r.query, "kitten -dog type:jpg");
    assert_eq!(r.understood, vec!["without dog".to_string(), "type: jpeg".to_string()]);
    assert_eq!(r.hits[0].path, photos.join("cat.jpg"));
}

/// The sentence model's tokenizer is the Hugging Face one, from the model's
/// own tokenizer.json: the ids are those the model was trained with.
#[test]
fn the_sentence_model_reads_phrases_as_it_was_trained_to() {
    let sentence = photofinder_core::embed::sentence::SentenceEmbedder::load(&models(), 2);
    let mut sentence = sentence.unwrap();
    // Reference ids from the Python `tokenizers` package on the same tokenizer.json.
    assert_eq!(sentence.token_ids("a beach at sunset").unwrap(), vec![101, 1037, 3509, 2012, 10434, 102]);
    assert_eq!(sentence.token_ids("Kitten").unwrap(), vec![101, 18401, 102]);
    let v = sentence.embed(&["a beach at sunset", "the shore of a sea or ocean", "a cup of coffee"]).unwrap();
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4, "unit vectors");
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.1, "a beach is nearer the shore than coffee");
    // One phrase alone and within a padded batch: the same vector.
    let alone = sentence.embed(&["a beach at sunset"]).unwrap();
    assert!(alone[0].iter().zip(&v[0]).all(|(a, b)| (a - b).abs() < 1e-5));
}

/// CLIP's towers here have RANDOM weights: this checks that text goes through
/// the tokenizer and the text tower into the image tower's space and comes
/// back as ranked photos, not that the ranking means anything.
#[test]
fn clip_text_search_runs_end_to_end_plumbing_only_random_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, _) = library_of_originals(tmp.path(), "clip-vit-b32");
    assert!(lib.model_status().unwrap().is_random());
    let r = lib.search_text("a photo of a cat", 5, &Filter::default(), None).unwrap();
    assert_eq!(r.method, TextMethod::Clip, "CLIP answers once the library has CLIP vectors");
    assert_eq!(r.hits.len(), 5);
    assert!(r.hits.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    assert!(r.hits.iter().all(|h| h.similarity.is_finite() && h.similarity.abs() <= 1.0001));

    let models = models();
    let mut text = TextEmbedder::load(&models, &ModelDir::spec("clip-vit-b32").unwrap(), 2).unwrap();
    let a = text.embed("a photo of a cat").unwrap();
    let b = text.embed("a diagram of a rocket engine").unwrap();
    assert_eq!(a.len(), 512);
    assert!((a.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4);
    assert_ne!(a, b, "different texts, different vectors");
    assert_eq!(a, text.embed("A photo of a CAT").unwrap(), "case does not matter");
}

#[test]
fn clip_text_search_without_the_text_tower_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let partial = tmp.path().join("models");
    std::fs::create_dir_all(&partial).unwrap();
    for f in ["efficientnet-lite0.onnx", "efficientnet-lite0.labels.tsv", "onnxruntime"] {
        std::os::unix::fs::symlink(models().dir.join(f), partial.join(f)).unwrap();
    }
    let mut lib = Library::open(tmp.path().join("library"), ModelDir::new(&partial)).unwrap();
    match lib.search_text("cat", 5, &Filter::default(), Some(TextMethod::Clip)) {
        Err(Error::ModelMissing { hint, .. }) => assert!(hint.contains("--clip-text"), "{hint}"),
        other => panic!("expected a missing-model error, got {:?}", other.map(|r| r.method)),
    }
    // Without CLIP, text queries go to the labels, and say how to get CLIP.
    let r = lib.search_text("cat", 5, &Filter::default(), None).unwrap();
    assert_eq!(r.method, TextMethod::Labels);
    assert!(r.note.unwrap().contains("--clip-text"));
}

#[test]
fn more_like_these_ranks_the_shared_near_duplicates_first() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, None);
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();

    // Two new variants of the cat, from outside the library.
    let cat = photo("chelsea.png");
    let (a, b) = (tmp.path().join("q1.jpg"), tmp.path().join("q2.jpg"));
    save_jpeg(&image::imageops::flip_horizontal(&image::imageops::brighten(&cat, 30)), &a, 75);
    save_jpeg(&image::imageops::resize(&cat, 200, 130, image::imageops::FilterType::Triangle), &b, 75);
    let group = 1 + variants(&cat).len();
    let r = lib.search_many(&[a.clone(), b.clone()], &[], group, &Filter::default()).unwrap();
    let names: Vec<String> = r.hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| n.starts_with("cat")), "the cat group first: {names:?}");

    // Marking the original "not like this" removes it from the results.
    let r = lib.search_many(&[a], &[photos.join("cat.jpg")], group, &Filter::default()).unwrap();
    assert!(r.hits.iter().all(|h| !h.path.ends_with("cat.jpg")));

    // By id, as the window asks: the same answer as by path, and an id that
    // is gone is passed over.
    let ids: Vec<i64> = r.hits.iter().take(2).map(|h| h.id).collect();
    let paths: Vec<_> = r.hits.iter().take(2).map(|h| h.path.clone()).collect();
    let by_path = lib.search_many(&paths, &[], group, &Filter::default()).unwrap();
    let by_id = lib.search_many_ids(&[ids[0], 987_654_321, ids[1]], group, &Filter::default()).unwrap();
    let order = |r: &photofinder_core::SearchResults| r.hits.iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(order(&by_id), order(&by_path));
}
