//! Perceptual hashes of photos (dHash: 64 bits, one per horizontal gradient
//! of a 9x8 greyscale copy), for duplicate groups. They match resized,
//! recompressed, darkened and greyscale copies by their pixels, where a
//! model's vector describes content and can drift under heavy compression;
//! they miss mirrored and cropped copies, which the vectors catch.

use std::path::Path;

use image_hasher::{HashAlg, HasherConfig};

/// The dHash of an image file (the photo's cached thumbnail: the hash
/// needs only 9x8 pixels), or `None` if it can't be read.
pub(crate) fn of_file(path: &Path) -> Option<u64> {
    let img = image::open(path).ok()?;
    let hash = HasherConfig::new().hash_alg(HashAlg::Gradient).hash_size(8, 8).to_hasher().hash_image(&img);
    Some(u64::from_le_bytes(hash.as_bytes().try_into().ok()?))
}

/// How many of the 64 bits may differ between near copies at a given
/// strictness (the vectors' cosine distance), so that one slider moves both:
/// 0 at 0 (only exact copies), 5 at the default 0.12. From the grouping's
/// precision and recall by threshold in BENCHMARKS.md.
pub(crate) fn max_bits(max_distance: f32) -> u32 {
    ((max_distance * 40.0).round() as u32).min(12)
}

pub(crate) fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_strictness() {
        assert_eq!(max_bits(0.0), 0);
        assert_eq!(max_bits(0.12), 5);
        assert_eq!(max_bits(1.0), 12);
        assert_eq!(distance(0b1011, 0b0001), 2);
    }
}
