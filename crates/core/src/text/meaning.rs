//! Which ImageNet classes a typed query means, for label search.
//!
//! Two kinds of evidence:
//! - words (`labels::word_matches`): a class the query names ("tabby cat")
//!   or one of whose WordNet kinds it names ("dog" for every breed) is what
//!   the query means, fully, and then nothing else is;
//! - otherwise meaning: the sentence model's vector of the query against each
//!   class's "name: definition"; the classes nearest the query, within
//!   `MARGIN` of the nearest and above `FLOOR`, weighted by how near they
//!   are, beside weaker word evidence (the query's words inside a longer
//!   name, one of them naming a kind, or all of them in a definition).
//!
//! A single noun that no class is a kind of ("deer": ImageNet has none) stands
//! for the nearest kind above it that has classes ("ruminant": antelopes,
//! gazelles, ...; WordNet): those classes answer, weighted by meaning among
//! themselves, so the sentence model's look-alikes elsewhere ("Scottish
//! deerhound") do not.
//!
//! Photos are then ranked by the probability mass of the matched classes,
//! weighted (`text`). A class named outright is never diluted by neighbours
//! in meaning, so naming a class finds what word matching found.

use std::collections::HashMap;

use crate::models::labels::{self, ImageNetClass, WordMatch};

/// Classes this much less similar to the query than the most similar one are
/// not what it means.
const MARGIN: f32 = 0.08;
/// At most this many classes answer by meaning.
const MEANING_CLASSES: usize = 8;
/// Below this similarity a class is not what the query means, however near
/// the others are (unrelated phrases score about 0.2 against every class).
const FLOOR: f32 = 0.3;
/// The weight of the query's words inside a longer name ("beach" in "beach
/// wagon") or naming one of a class's kinds among other words ("fish" in
/// "a fish someone caught"), and in a definition only.
const PART_OF_NAME: f32 = 0.5;
const DEFINITION: f32 = 0.3;
/// The weight of every class of the kind a single noun stands for ("deer": ruminants).
const RELATED: f32 = 0.5;

/// A class the query matched, how strongly (0..1) and, where the sentence
/// model took part, how similar in meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMatch {
    pub class: u32,
    pub weight: f32,
    pub similarity: Option<f32>,
}

/// What each class says, for the sentence model: its first name and its definition.
pub fn class_text(class: &ImageNetClass) -> String {
    if class.definition.is_empty() {
        class.names.join(", ")
    } else {
        format!("{}: {}", class.name(), class.definition)
    }
}

/// The classes `query` means, strongest first. `meaning` is the query's
/// sentence vector and the classes' (in `classes` order), where the sentence
/// model is installed.
pub fn matching(
    classes: &[ImageNetClass],
    query: &str,
    meaning: Option<(&[f32], &[Vec<f32>])>,
    related: &HashMap<String, String>,
) -> Vec<ClassMatch> {
    let words = labels::word_matches(classes, query);
    let named: Vec<ClassMatch> = words
        .iter()
        .filter(|(_, how)| matches!(how, WordMatch::Name | WordMatch::Kind))
        .map(|&(class, _)| ClassMatch { class, weight: 1.0, similarity: None })
        .collect();
    let group = related_group(classes, query, related);
    let mut out = if named.is_empty() && !group.is_empty() {
        // Within the group, the nearest in meaning first; each at least RELATED.
        let mut out: Vec<ClassMatch> = group.iter().map(|&class| ClassMatch { class, weight: RELATED, similarity: None }).collect();
        if let Some((q, class_vectors)) = meaning {
            let vectors: Vec<Vec<f32>> = group.iter().map(|&c| class_vectors[c as usize].clone()).collect();
            for (i, similarity, weight) in nearest_meanings_among(q, &vectors, f32::NEG_INFINITY) {
                let m = &mut out[i as usize];
                m.weight = m.weight.max(weight);
                m.similarity = Some(similarity);
            }
        }
        out
    } else if named.is_empty() {
        let mut out: Vec<ClassMatch> = words
            .iter()
            .map(|&(class, how)| {
                let weight = match how {
                    WordMatch::PartOfName | WordMatch::KindWord => PART_OF_NAME,
                    _ => DEFINITION,
                };
                ClassMatch { class, weight, similarity: None }
            })
            .collect();
        if let Some((q, class_vectors)) = meaning {
            for (class, similarity, weight) in nearest_meanings(q, class_vectors) {
                match out.iter_mut().find(|m| m.class == class) {
                    Some(m) => {
                        m.weight = m.weight.max(weight);
                        m.similarity = Some(similarity);
                    }
                    None => out.push(ClassMatch { class, weight, similarity: Some(similarity) }),
                }
            }
        }
        out
    } else {
        named
    };
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.class.cmp(&b.class)));
    out
}

/// The classes of the kind a single-noun query stands for, if it is such a noun.
fn related_group(classes: &[ImageNetClass], query: &str, related: &HashMap<String, String>) -> Vec<u32> {
    let words = labels::query_words(query);
    let [word] = &words[..] else { return Vec::new() };
    let Some(kind) = related.get(word) else { return Vec::new() };
    classes.iter().enumerate().filter(|(_, c)| c.kinds.iter().any(|k| k == kind)).map(|(i, _)| i as u32).collect()
}

/// (class, similarity, weight) of the classes nearest in meaning: the best
/// weighs 1, one `MARGIN` below it nothing.
fn nearest_meanings(q: &[f32], class_vectors: &[Vec<f32>]) -> Vec<(u32, f32, f32)> {
    nearest_meanings_among(q, class_vectors, FLOOR)
}

fn nearest_meanings_among(q: &[f32], class_vectors: &[Vec<f32>], floor: f32) -> Vec<(u32, f32, f32)> {
    let mut sims: Vec<(u32, f32)> =
        class_vectors.iter().enumerate().map(|(i, v)| (i as u32, v.iter().zip(q).map(|(a, b)| a * b).sum())).collect();
    sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let Some(&(_, best)) = sims.first() else { return Vec::new() };
    sims.into_iter()
        .take(MEANING_CLASSES)
        .filter(|(_, s)| *s > best - MARGIN && *s >= floor)
        .map(|(c, s)| (c, s, 1.0 - (best - s) / MARGIN))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<ImageNetClass> {
        [
            "tabby, tabby cat\ta cat with a grey or tawny coat",
            "seashore, coast\tthe shore of a sea or ocean",
            "lakeside\tthe shore of a lake",
            "beach wagon\ta car with a long body",
        ]
        .iter()
        .map(|l| ImageNetClass::parse(l))
        .collect()
    }

    #[test]
    fn the_nearest_meanings_answer_weighted_by_how_near() {
        let vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.05, 0.99], vec![0.7, 0.7]];
        let q = [0.0, 1.0];
        let m = matching(&classes(), "a beach at sunset", Some((&q, &vectors)), &HashMap::new());
        assert_eq!(m.iter().map(|m| m.class).collect::<Vec<_>>(), vec![1, 2], "far in meaning, the cat and the car are out: {m:?}");
        assert_eq!(m[0].weight, 1.0);
        assert!(m[1].weight > 0.0 && m[1].weight < 1.0);
        // "beach" alone: the seashore by meaning, the wagon weakly by a word of its name.
        let m = matching(&classes(), "beach", Some((&q, &vectors)), &HashMap::new());
        assert_eq!((m[0].class, m[0].weight), (1, 1.0));
        assert_eq!(m.iter().find(|m| m.class == 3).map(|m| m.weight), Some(PART_OF_NAME));
    }

    #[test]
    fn a_phrase_near_nothing_means_nothing() {
        let vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.7, 0.7], vec![0.6, 0.8]];
        let q = [0.2, 0.1];
        assert!(matching(&classes(), "quantum chromodynamics", Some((&q, &vectors)), &HashMap::new()).is_empty());
    }

    #[test]
    fn a_noun_with_no_class_of_its_kind_stands_for_the_kind_above() {
        let classes: Vec<ImageNetClass> = [
            ("impala\tAfrican antelope", "antelope|bovid|ruminant|mammal"),
            ("bison\twild ox", "bovid|ruminant|mammal"),
            ("Scottish deerhound\ta hound", "hound|dog|mammal"),
        ]
        .iter()
        .map(|(l, k)| ImageNetClass::parse(l).with_kinds(k))
        .collect();
        let related: HashMap<String, String> = [("deer".to_string(), "ruminant".to_string())].into_iter().collect();
        // The sentence model finds the deerhound nearest; WordNet says a deer is a ruminant.
        let vectors = vec![vec![0.6, 0.8], vec![0.5, 0.87], vec![1.0, 0.0]];
        let q = [1.0, 0.0];
        let m = matching(&classes, "deer", Some((&q, &vectors)), &related);
        assert_eq!(m.iter().map(|m| m.class).collect::<Vec<_>>(), vec![0, 1], "{m:?}");
        assert_eq!(m[0].weight, 1.0, "the nearest of the group weighs most");
        assert!(m[1].weight >= RELATED);
        // A phrase is read for its meaning, not as the noun.
        assert!(matching(&classes, "a deer in the snow", Some((&q, &vectors)), &related).iter().any(|m| m.class == 2));
    }

    #[test]
    fn a_class_named_outright_answers_alone() {
        let vectors = vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
        let q = [1.0, 0.0];
        let m = matching(&classes(), "a tabby cat", Some((&q, &vectors)), &HashMap::new());
        assert_eq!(m, vec![ClassMatch { class: 0, weight: 1.0, similarity: None }]);
        assert_eq!(matching(&classes(), "tabby", None, &HashMap::new()), m, "without the sentence model, the same");
    }
}
