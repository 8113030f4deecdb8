//! The decode entry point on arbitrary bytes, as indexing and queries call it.
//!
//! Panics inside decoders are contained by `decode` itself (they become
//! `DecodeError::Crashed` for the file), so what this target finds is what
//! containment cannot catch: aborts, memory errors, runaway allocations and
//! hangs, in our code or in the C libraries (libjpeg-turbo, libheif).
#![no_main]

use libfuzzer_sys::fuzz_target;
use photofinder_core::decode;

fuzz_target!(|data: &[u8]| {
    let _ = decode::probe(data);
    if let Ok(decoded) = decode::decode(data, 224) {
        // What indexing does next with the pixels.
        let _ = photofinder_core::preprocess::thumbnail_jpeg(&decoded.pixels, 64);
    }
});
