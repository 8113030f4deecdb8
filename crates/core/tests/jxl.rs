//! JPEG XL photos, made here with libjxl's own encoder (Debian's `cjxl`):
//! lossy from a PNG, and a JPEG recompressed losslessly with its EXIF. They
//! decode through jxl-oxide, keep their capture date, and are indexed and
//! found like any other photo.

mod common;

use std::path::Path;

use common::*;
use photofinder_core::catalog::FileState;
use photofinder_core::decode::{self, Format};
use photofinder_core::{preprocess, Cancel, Filter};

fn cjxl(input: &Path, output: &Path) {
    let out = std::process::Command::new("cjxl")
        .arg(input)
        .arg(output)
        .output()
        .expect("cjxl (Debian's libjxl-tools; scripts/setup-system --tests installs it)");
    assert!(out.status.success(), "cjxl: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn jpeg_xl_is_decoded_dated_indexed_and_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    write_originals(&dir, 4);
    let rocket = image::imageops::resize(&photo("rocket.jpg"), 320, 208, image::imageops::FilterType::Triangle);
    let png = tmp.path().join("rocket.png");
    rocket.save(&png).unwrap();
    cjxl(&png, &dir.join("rocket.jxl"));
    // A JPEG recompressed without loss keeps its EXIF, date included.
    let jpeg = tmp.path().join("dated.jpg");
    save_jpeg_with_exif(&rocket, &jpeg, 1, "2022:03:04 05:06:07");
    cjxl(&jpeg, &dir.join("dated.jxl"));
    let full = std::fs::read(dir.join("rocket.jxl")).unwrap();
    std::fs::write(dir.join("truncated.jxl"), &full[..full.len() / 2]).unwrap();

    for name in ["rocket.jxl", "dated.jxl"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(decode::sniff(&bytes), Some(Format::Jxl), "{name}");
        let info = decode::probe(&bytes).unwrap();
        assert_eq!((info.format, info.width, info.height), (Format::Jxl, 320, 208), "{name}");
        let decoded = decode::decode(&bytes, 100).unwrap();
        let diff = mean_diff(&decoded.pixels, &rocket);
        assert!(diff < 8.0, "{name}: differs from the photo by {diff:.1} per channel");
        let (jpeg, mime) = preprocess::viewable(bytes, 2560).unwrap();
        assert_eq!((mime, decode::sniff(&jpeg)), ("image/jpeg", Some(Format::Jpeg)), "{name}: shown as a JPEG");
    }
    let dated = decode::probe(&std::fs::read(dir.join("dated.jxl")).unwrap()).unwrap();
    assert_eq!(dated.taken_at, decode::epoch_seconds(2022, 3, 4, 5, 6, 7));

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    for name in ["rocket.jxl", "dated.jxl"] {
        let row = lib.catalog().file_by_path(&dir.join(name)).unwrap().unwrap();
        assert_eq!((row.state, row.format.as_deref()), (FileState::Indexed, Some("jxl")), "{name}: {:?}", row.error);
    }
    let row = lib.catalog().file_by_path(&dir.join("truncated.jxl")).unwrap().unwrap();
    assert_eq!(row.state, FileState::Failed);
    assert!(row.error.as_deref().unwrap_or("").contains("jxl"), "{:?}", row.error);

    let query = tmp.path().join("query.jpg");
    save_jpeg(&rocket, &query, 90);
    let hits = lib.search_file(&query, 3, &Filter::default()).unwrap().hits;
    let mut top: Vec<String> = hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    top.sort();
    assert_eq!(top, ["dated.jxl", "rocket.jpg", "rocket.jxl"]);
}
