//! Every supported model loads in ONNX Runtime and makes vectors of its size.
//!
//! ResNet50 and CLIP run here with architecture-identical RANDOM weights
//! (`models/install.sh --random-test-models`): these are plumbing tests of
//! shapes, preprocessing and storage, never of search quality.

mod common;

use common::*;
use photofinder_core::embed::Embedder;
use photofinder_core::{Cancel, Error, Filter, ModelDir};

fn index_with(model: &str) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, 3);
    let mut lib = library(tmp.path());
    lib.set_model(model).unwrap();
    lib.add_folder(&photos).unwrap();
    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(report.embedding.embedded, 3);
    let hits = lib.search_file(&photos.join("cat.jpg"), 3, &Filter::default()).unwrap().hits;
    assert!(hits[0].is_query, "{model}: a photo is nearest to itself");
    let row = lib.catalog().file_by_path(&hits[0].path).unwrap().unwrap();
    let v = lib.catalog().embedding(&row.hash.unwrap(), model).unwrap().unwrap();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{model}: stored vectors are unit length");
    (v.len(), lib.store().unwrap().dim())
}

#[test]
fn efficientnet_lite0_real_weights_make_1280_d_vectors_and_labels() {
    assert_eq!(index_with("efficientnet-lite0"), (1280, 1280));
    let models = models();
    let status = models.require("efficientnet-lite0").unwrap();
    assert!(!status.is_random(), "Lite0 is installed with its real ImageNet weights");
    let labels = models.labels(&status.spec).unwrap().unwrap();
    assert_eq!(labels.len(), 1000);
    assert_eq!(labels[281].names, ["tabby", "tabby cat"]);
    assert!(labels[967].definition.contains("coffee"), "espresso is defined as coffee");
}

#[test]
fn lite0_classifies_the_real_photos() {
    let models = models();
    let mut e = Embedder::load(&models, "efficientnet-lite0", 2).unwrap();
    let labels = models.labels(e.spec()).unwrap().unwrap();
    for (file, expect) in [("chelsea.png", "cat"), ("coffee.png", "espresso"), ("rocket.jpg", "missile")] {
        let bytes = std::fs::read(photos_dir().join(file)).unwrap();
        let decoded = photofinder_core::decode::decode(&bytes, 256).unwrap();
        let mut t = vec![0.0; e.input_len()];
        photofinder_core::preprocess::to_tensor(&decoded.pixels, e.spec(), &mut t);
        let out = e.embed_batch(t).unwrap().remove(0);
        let top = photofinder_core::embed::top_k(out.probabilities.as_ref().unwrap(), 3);
        let names: Vec<String> = top.iter().map(|(c, _)| labels[*c as usize].names.join(", ")).collect();
        assert!(names.iter().any(|n| n.contains(expect)), "{file}: top-3 {names:?} should include {expect}");
    }
}

#[test]
fn resnet50_random_weights_plumbing_makes_2048_d_vectors() {
    assert_eq!(index_with("resnet50"), (2048, 2048));
}

#[test]
fn clip_image_tower_random_weights_plumbing_makes_512_d_vectors() {
    assert_eq!(index_with("clip-vit-b32"), (512, 512));
}

#[test]
fn a_missing_model_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let models = ModelDir::new(empty.path());
    match Embedder::load(&models, "resnet50", 1) {
        Err(Error::ModelMissing { name, hint }) => {
            assert_eq!(name, "resnet50");
            assert!(hint.contains("models/install.sh"), "{hint}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("loaded a model that is not there"),
    }
    assert!(matches!(ModelDir::spec("vgg16"), Err(Error::UnknownModel(_))));
}

/// The int8 EfficientNet-Lite0 (`models/install.sh` makes it) gives nearly the
/// fp32 model's vectors and the same classes, in a quarter of the weights.
#[test]
fn lite0_int8_makes_nearly_the_vectors_of_fp32() {
    let models = models();
    let mut fp32 = Embedder::load(&models, "efficientnet-lite0", 2).unwrap();
    let mut int8 = Embedder::load(&models, "efficientnet-lite0-int8", 2).unwrap();
    let labels = models.labels(int8.spec()).unwrap().unwrap();
    for file in ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "china.jpg"] {
        let bytes = std::fs::read(photos_dir().join(file)).unwrap();
        let decoded = photofinder_core::decode::decode(&bytes, 256).unwrap();
        let mut t = vec![0.0; fp32.input_len()];
        photofinder_core::preprocess::to_tensor(&decoded.pixels, fp32.spec(), &mut t);
        let a = fp32.embed_batch(t.clone()).unwrap().remove(0);
        let b = int8.embed_batch(t).unwrap().remove(0);
        let cosine: f32 = a.vector.iter().zip(&b.vector).map(|(x, y)| x * y).sum();
        assert!(cosine > 0.97, "{file}: cosine {cosine:.4} between the fp32 and int8 vectors");
        let top = |p: &[f32]| photofinder_core::embed::top_k(p, 1)[0].0;
        let (ta, tb) = (top(a.probabilities.as_ref().unwrap()), top(b.probabilities.as_ref().unwrap()));
        assert_eq!(ta, tb, "{file}: fp32 says {}, int8 {}", labels[ta as usize].names[0], labels[tb as usize].names[0]);
    }
    let size = |name: &str| std::fs::metadata(models.dir.join(name)).unwrap().len();
    assert!(size("efficientnet-lite0-int8.onnx") * 10 < size("efficientnet-lite0.onnx") * 6, "int8 weights are smaller");

    // A library indexed with it answers by photo and, from its own labels, by words.
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, 6);
    let mut lib = library(tmp.path());
    lib.set_model("efficientnet-lite0-int8").unwrap();
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let text = lib.search_text("cat", 1, &Filter::default(), None).unwrap();
    assert_eq!(text.model, "efficientnet-lite0-int8");
    assert_eq!(text.hits[0].path.file_name().unwrap(), "cat.jpg", "{:?}", text.hits);
    let query = photos.join("coffee.jpg");
    assert_eq!(lib.search_file(&query, 1, &Filter::default()).unwrap().hits[0].path, query);
}

/// The installed models without the int8 build, as links in `dir`.
fn models_without_int8(dir: &std::path::Path) -> ModelDir {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(models().dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("efficientnet-lite0-int8") {
            std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
        }
    }
    ModelDir::new(dir)
}

#[test]
fn a_new_library_uses_the_int8_build_where_installed_and_keeps_its_model() {
    use photofinder_core::library::{DEFAULT_MODEL, FAST_MODEL};
    use photofinder_core::Library;
    let tmp = tempfile::tempdir().unwrap();
    assert!(models().status(FAST_MODEL).unwrap().installed, "scripts/test installs the int8 build");

    // New, with the int8 build installed: int8.
    let lib = Library::open(tmp.path().join("new"), models()).unwrap();
    assert_eq!(lib.model(), FAST_MODEL);

    // New, without it: fp32, and it stays fp32 once int8 is installed.
    let photos = tmp.path().join("photos");
    write_originals(&photos, 2);
    let fp32_only = models_without_int8(&tmp.path().join("fp32-models"));
    let mut lib = Library::open(tmp.path().join("plain"), fp32_only).unwrap();
    assert_eq!(lib.model(), DEFAULT_MODEL);
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    drop(lib);
    let lib = Library::open(tmp.path().join("plain"), models()).unwrap();
    assert_eq!(lib.model(), DEFAULT_MODEL, "the model is recorded when the library is made");

    // A library made before int8 was the default (photos, no model recorded)
    // holds fp32 vectors: it stays fp32.
    drop(lib);
    let db = rusqlite::Connection::open(tmp.path().join("plain/catalog.db")).unwrap();
    db.execute("DELETE FROM settings WHERE key = 'model'", []).unwrap();
    drop(db);
    let mut lib = Library::open(tmp.path().join("plain"), models()).unwrap();
    assert_eq!(lib.model(), DEFAULT_MODEL);
    assert_eq!(lib.index(&ignore, &Cancel::new()).unwrap().embedding.embedded, 0, "nothing is embedded again");
}
