//! Videos that are copies of each other. A video has no vector of its own,
//! so two videos are near copies when they are about as long and their
//! keyframes, moment by moment, are near copies (by vector or by perceptual
//! hash, as photos are): what a re-encoded, resized or recompressed copy of
//! a video (a phone's "send as smaller file") is.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::{keeper_first, DuplicateGroup, DuplicatePhoto, Finder, UnionFind};
use crate::catalog::{Hash, Photo};
use crate::error::Result;

/// Lengths may differ by this much, or by 2% of the longer (re-encoding
/// can add or drop frames at the ends).
const LENGTH_SLACK_MS: i64 = 500;
/// A keyframe matches the other video's keyframes this close in time.
const MOMENT_SLACK_MS: i64 = 1000;
/// Share of each video's keyframes that must match one of the other's.
const MATCHED: f64 = 0.8;

/// A keyframe: its time, vector and perceptual hash.
struct Moment {
    at: i64,
    vector: Vec<f32>,
    phash: Option<u64>,
}

/// A video's keyframes, in time order.
type Moments = Vec<Moment>;

/// How near copies may differ: cosine distance, or perceptual-hash bits.
#[derive(Clone, Copy)]
struct Limits {
    distance: f32,
    bits: u32,
}

impl Finder<'_> {
    /// Groups of videos (byte-for-byte copies; and with `max_distance` > 0,
    /// near copies by their keyframes), and how many videos were compared.
    pub(super) fn video_groups(&self, model: &str, max_distance: f32) -> Result<(usize, Vec<DuplicateGroup>)> {
        let videos = self.catalog.videos()?;
        let n = videos.len();
        let mut groups = UnionFind::new(n);
        let mut first_with: HashMap<Hash, usize> = HashMap::new();
        let mut moments: Vec<Option<Moments>> = (0..n).map(|_| None).collect();
        let limits = Limits { distance: max_distance, bits: crate::phash::max_bits(max_distance) };
        for (i, video) in videos.iter().enumerate() {
            let Some(hash) = video.hash else { continue };
            match first_with.entry(hash) {
                Entry::Occupied(first) => groups.union(i, *first.get()),
                Entry::Vacant(e) => {
                    e.insert(i);
                    if max_distance > 0.0 {
                        moments[i] = Some(self.moments(video.id, model)?);
                    }
                }
            }
        }

        // Near copies: the catalog lists videos shortest first, so each is
        // compared only with the ones about as long.
        let mut near: HashMap<(usize, usize), f32> = HashMap::new();
        for i in 0..n {
            let Some(a) = &moments[i] else { continue };
            let length = videos[i].duration_ms.unwrap_or(0);
            for j in i + 1..n {
                let other = videos[j].duration_ms.unwrap_or(0);
                if other - length > LENGTH_SLACK_MS.max(other / 50) {
                    break;
                }
                let Some(b) = &moments[j] else { continue };
                if let Some(distance) = alike(a, b, limits) {
                    groups.union(i, j);
                    near.insert((i, j), distance);
                }
            }
        }

        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for i in 0..n {
            members.entry(groups.find(i)).or_default().push(i);
        }
        let mut out = Vec::new();
        for (_, mut group) in members {
            if group.len() < 2 {
                continue;
            }
            group.sort_by_key(|&i| keeper_first(&videos[i]));
            let first = group[0];
            let content = |i: usize| videos[i].hash.and_then(|h| first_with.get(&h).copied()).unwrap_or(i);
            let mut photos = Vec::with_capacity(group.len());
            for &i in &group {
                let exact = i != first && videos[i].hash.is_some() && videos[i].hash == videos[first].hash;
                let distance = if i == first || exact {
                    0.0
                } else {
                    let (a, b) = (content(first).min(content(i)), content(first).max(content(i)));
                    match near.get(&(a, b)) {
                        Some(d) => *d,
                        // Joined through another member: measure it directly.
                        None => match (&moments[a], &moments[b]) {
                            (Some(x), Some(y)) => alike(x, y, Limits { distance: 1.0, bits: 64 }).unwrap_or(f32::NAN),
                            _ => f32::NAN,
                        },
                    }
                };
                photos.push(DuplicatePhoto { photo: Photo::from(videos[i].clone()), distance, hash_bits: None, exact });
            }
            out.push(DuplicateGroup { photos });
        }
        Ok((n, out))
    }

    fn moments(&self, video: i64, model: &str) -> Result<Moments> {
        let mut moments = Vec::new();
        for frame in self.catalog.frames_of(video)? {
            let (Some(at), Some(hash)) = (frame.frame.map(|f| f.at_ms), frame.hash) else { continue };
            if let Some(vector) = self.catalog.embedding(&hash, model)? {
                moments.push(Moment { at, vector, phash: self.perceptual_hash(&hash)? });
            }
        }
        Ok(moments)
    }
}

/// When at least [`MATCHED`] of each video's keyframes have a keyframe of
/// the other at about the same moment within the limits, the mean cosine
/// distance of the matched ones.
fn alike(a: &Moments, b: &Moments, limits: Limits) -> Option<f32> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let matched = |x: &Moments, y: &Moments| {
        let (mut count, mut sum) = (0usize, 0f32);
        for m in x {
            let from = y.partition_point(|o| o.at < m.at - MOMENT_SLACK_MS);
            let best = y[from..]
                .iter()
                .take_while(|o| o.at <= m.at + MOMENT_SLACK_MS)
                .filter_map(|o| {
                    let distance = (1.0 - m.vector.iter().zip(&o.vector).map(|(p, q)| p * q).sum::<f32>()).max(0.0);
                    let bits = match (m.phash, o.phash) {
                        (Some(p), Some(q)) => crate::phash::distance(p, q),
                        _ => u32::MAX,
                    };
                    (distance <= limits.distance || bits <= limits.bits).then_some(distance)
                })
                .min_by(f32::total_cmp);
            if let Some(d) = best {
                count += 1;
                sum += d;
            }
        }
        (count, sum)
    };
    let (in_a, sum) = matched(a, b);
    let (in_b, _) = matched(b, a);
    let enough = |count: usize, of: &Moments| count as f64 >= MATCHED * of.len() as f64;
    (enough(in_a, a) && enough(in_b, b)).then(|| sum / in_a as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at: i64, angle: f32, phash: Option<u64>) -> Moment {
        Moment { at, vector: vec![angle.cos(), angle.sin()], phash }
    }

    const STRICT: Limits = Limits { distance: 0.01, bits: 5 };

    #[test]
    fn keyframes_must_match_moment_by_moment_both_ways() {
        let a: Moments = vec![at(0, 0.0, None), at(5000, 1.0, None), at(10_000, 2.0, None)];
        // The same moments, a little off in time and in look.
        let copy = || vec![at(0, 0.05, None), at(5040, 1.05, None), at(9960, 2.05, None)];
        let d = alike(&a, &copy(), STRICT).expect("a copy");
        assert!(d > 0.0 && d < 0.002, "{d}");
        // The same pictures in another order are another video.
        let shuffled: Moments = vec![at(0, 2.0, None), at(5000, 0.0, None), at(10_000, 1.0, None)];
        assert!(alike(&a, &shuffled, STRICT).is_none());
        // A copy of the first part only matches too few of the longer one's.
        assert!(alike(&a, &copy().into_iter().take(1).collect(), STRICT).is_none());
        assert!(alike(&a, &Vec::new(), STRICT).is_none());
    }

    #[test]
    fn pixels_alike_make_a_match_where_vectors_drift() {
        let a: Moments = vec![at(0, 0.0, Some(0b1111)), at(5000, 1.0, Some(0))];
        // Vectors 0.3 apart (a small, recompressed copy), pixels 1 bit apart.
        let small: Moments = vec![at(0, 0.8, Some(0b0111)), at(5000, 1.8, Some(1))];
        let d = alike(&a, &small, STRICT).expect("a copy by its pixels");
        assert!(d > 0.25, "{d}: the reported distance is the vectors'");
        // Pixels far apart too: not a copy.
        let other: Moments = vec![at(0, 0.8, Some(u64::MAX)), at(5000, 1.8, Some(u64::MAX))];
        assert!(alike(&a, &other, STRICT).is_none());
    }
}
