//! Files that once crashed a decoder decode now, or fail with a reason:
//! what `scripts/fuzz` found (tests/fuzz-regressions/) and the valid tiled
//! planar TIFFs of Pillow's test images, on which the tiff crate panics.

use std::path::{Path, PathBuf};

use photofinder_core::decode::{self, DecodeError};

fn hostile_dir() -> PathBuf {
    let dir = std::env::var_os("PHOTOFINDER_HOSTILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/hostile"));
    assert!(dir.join(".complete").is_file(), "run scripts/test (or scripts/fetch-hostile {})", dir.display());
    dir
}

#[test]
fn inputs_that_crashed_a_decoder_are_handled() {
    let found = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&found)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    let pillow = hostile_dir();
    for name in ["tiff_tiled_planar_raw.tif", "tiff_tiled_planar_lzw.tiff", "tiff_tiled_planar_16bit_RGB.tiff", "tiff_tiled_planar_16bit_RGBa.tiff"] {
        files.push(pillow.join(name));
    }
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        // Returning at all is most of the test: these aborted the process.
        let _ = decode::probe(&bytes);
        match decode::decode(&bytes, 224) {
            Ok(d) => assert!(d.pixels.width() >= 2, "{name}"),
            Err(e @ DecodeError::Crashed { .. }) => panic!("{name}: a decoder still panics on it: {e}"),
            Err(e) => assert!(!e.to_string().is_empty(), "{name}"),
        }
    }
}
