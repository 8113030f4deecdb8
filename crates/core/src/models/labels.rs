//! The ImageNet class names a classifying model ships with, and matching
//! words against them (offline text search, naming the map's clusters).
//!
//! EfficientNet-Lite0 gives each photo its top classes with probabilities
//! (from the same inference as its vector). A query is matched against each
//! class's names ("tabby, tabby cat") and, more weakly, its WordNet
//! definition ("espresso: strong black coffee ..."), word by word, ignoring
//! case and plurals; photos are ranked by the probability mass of the classes
//! that match.

use std::collections::HashSet;

/// The model whose ImageNet labels answer text queries offline and name
/// the map's clusters.
pub const LABEL_MODEL: &str = "efficientnet-lite0";

/// How much a match in a class's definition counts against one in its names.
const DEFINITION_WEIGHT: f32 = 0.3;

const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "to", "for", "by", "from", "my", "some",
    "photo", "photos", "picture", "pictures", "image", "images", "shot", "shots", "showing", "is", "are",
];

#[derive(Debug, Clone)]
pub struct ImageNetClass {
    /// Names, most common first: "tabby", "tabby cat".
    pub names: Vec<String>,
    pub definition: String,
}

impl ImageNetClass {
    /// `names<TAB>definition`, or just names.
    pub fn parse(line: &str) -> ImageNetClass {
        let (names, definition) = line.split_once('\t').unwrap_or((line, ""));
        ImageNetClass {
            names: names.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
            definition: definition.trim().to_string(),
        }
    }

    pub fn name(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or("")
    }
}

/// The singular of an English noun, good enough for label names: cats ->
/// cat, boxes -> box, puppies -> puppy, glasses -> glass; "bus" stays.
pub fn singular(word: &str) -> String {
    let w = word.to_lowercase();
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    for end in ["sses", "xes", "zes", "ches", "shes"] {
        if w.len() > end.len() + 1 && w.ends_with(end) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_string();
    }
    w
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(singular).collect()
}

/// The words of a query that carry meaning.
pub fn query_words(query: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.to_lowercase().as_str()))
        .map(singular)
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// Classes the query names, with how strongly: 1 for a match in the names,
/// `DEFINITION_WEIGHT` for one in the definition only.
pub fn matching_classes(classes: &[ImageNetClass], query: &str) -> Vec<(u32, f32)> {
    let q = query_words(query);
    if q.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        let in_names = class.names.iter().any(|n| {
            let w = words(n);
            q.iter().all(|x| w.contains(x))
        });
        if in_names {
            out.push((i as u32, 1.0));
            continue;
        }
        let w = words(&class.definition);
        if q.iter().all(|x| w.contains(x)) {
            out.push((i as u32, DEFINITION_WEIGHT));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_become_singular() {
        for (p, s) in [("cats", "cat"), ("boxes", "box"), ("puppies", "puppy"), ("glasses", "glass"), ("bus", "bus"), ("Dishes", "dish"), ("cat", "cat")] {
            assert_eq!(singular(p), s);
        }
    }

    #[test]
    fn queries_match_names_before_definitions() {
        let classes: Vec<ImageNetClass> = [
            "tabby, tabby cat\ta cat with a grey or tawny coat mottled with black",
            "espresso\tstrong black coffee brewed by forcing steam under pressure through powdered coffee beans",
            "coffee mug\ta mug intended for serving coffee",
            "catamaran\ta sailboat with two parallel hulls",
        ]
        .iter()
        .map(|l| ImageNetClass::parse(l))
        .collect();
        assert_eq!(matching_classes(&classes, "Cats"), vec![(0, 1.0)]);
        assert_eq!(matching_classes(&classes, "a photo of a tabby cat"), vec![(0, 1.0)]);
        assert_eq!(matching_classes(&classes, "coffee"), vec![(1, DEFINITION_WEIGHT), (2, 1.0)]);
        assert!(matching_classes(&classes, "zebra").is_empty());
        assert!(matching_classes(&classes, "a photo of").is_empty());
    }
}
