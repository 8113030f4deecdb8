//! The evaluation and the store benchmark on small real data: the figures
//! they print must be right, not only printed.

use std::path::{Path, PathBuf};

use photofinder_bench::data::LabelledSet;
use photofinder_bench::{quality, stores, variants};
use photofinder_core::ModelDir;

fn installed_dir(var: &str, name: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache").join(name))
}

fn models() -> ModelDir {
    let dir = installed_dir("PHOTOFINDER_MODELS_DIR", "models");
    assert!(dir.join("efficientnet-lite0.onnx").is_file(), "models missing in {}: run scripts/test", dir.display());
    ModelDir::new(dir)
}

/// Three labels, each a real photo and four variants of it, plus a
/// labels.csv with an extra column and paths in a subfolder.
fn labelled_set(root: &Path) -> LabelledSet {
    let photos = installed_dir("PHOTOFINDER_TEST_PHOTOS", "photos");
    let mut csv = String::from("path,label,note\n");
    for (label, file) in [("cat", "chelsea.png"), ("rocket", "rocket.jpg"), ("coffee", "coffee.png")] {
        let img = image::open(photos.join(file)).expect("test photo (run scripts/test)").into_rgb8();
        std::fs::create_dir_all(root.join("images").join(label)).unwrap();
        for kind in ["crop", "mirror", "darker", "greyscale", "recompress"] {
            let rel = format!("images/{label}/{kind}.jpg");
            std::fs::write(root.join(&rel), variants::make(&img, kind)).unwrap();
            csv.push_str(&format!("{rel},{label},x\n"));
        }
    }
    std::fs::write(root.join("labels.csv"), csv).unwrap();
    LabelledSet::open(root).unwrap()
}

#[test]
fn evaluation_scores_a_set_of_near_copies_as_nearly_perfect() {
    let tmp = tempfile::tempdir().unwrap();
    let set = labelled_set(&tmp.path().join("set"));
    assert_eq!((set.photos.len(), set.labels()), (15, vec!["cat".to_string(), "coffee".into(), "rocket".into()]));
    let q = quality::evaluate(&models(), &set, "efficientnet-lite0", &tmp.path().join("work")).unwrap();
    assert_eq!(q.photos, 15, "every labelled photo is a query");
    // Each photo has 4 same-label neighbours among 14: at most 4/10 relevant.
    assert!((q.precision - 0.4).abs() < 1e-9, "variants of one photo are each other's nearest: {}", q.precision);
    assert!(q.map > 0.99 && q.map_retrieved > 0.99, "relevant results come first: {} {}", q.map, q.map_retrieved);
    // Here every original's 4 siblings (variants of the same photo) compete
    // with its 6 new variants for the 6 places; a blind guess among the 89
    // other photos would find about 7%.
    assert!(q.near_duplicate_recall >= 0.4, "made variants are found: {}", q.near_duplicate_recall);
    // Two phrasings a label (this set has no plain-words file), word for word and by meaning.
    assert_eq!(q.text.len(), 3 * 2 * 2, "{:?}", q.text);
    assert!(q.text.iter().all(|t| (0.0..=1.0).contains(&t.precision)));
    let by = |m: photofinder_core::TextMethod| q.text.iter().filter(|t| t.method == m).count();
    assert_eq!((by(photofinder_core::TextMethod::Words), by(photofinder_core::TextMethod::Labels)), (6, 6));
    // "a photo of a cat" names the class: by meaning no worse than word for word.
    for t in q.text.iter().filter(|t| t.method == photofinder_core::TextMethod::Labels) {
        let words = q.text.iter().find(|u| u.method == photofinder_core::TextMethod::Words && u.query == t.query).unwrap();
        assert!(t.precision >= words.precision, "{t:?} below {words:?}");
    }
}

#[test]
fn a_set_without_labels_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("labels.csv"), "file,class\na.jpg,x\n").unwrap();
    let err = LabelledSet::open(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("path and label"), "{err}");
}

#[test]
fn store_benchmark_recall_is_measured_against_exact_search() {
    let tmp = tempfile::tempdir().unwrap();
    let set = stores::Dataset::new(3000, 64);
    let measured = stores::embedded(&set, tmp.path()).unwrap();
    assert_eq!(measured.len(), 1);
    assert!((measured[0].recall - 1.0).abs() < 1e-9, "int8 scan + exact re-rank: recall {}", measured[0].recall);
    assert!(measured[0].p50_ms > 0.0 && measured[0].p95_ms >= measured[0].p50_ms);
}
