//! The ImageNet class names a classifying model ships with, and matching
//! words against them (offline text search, naming the map's clusters).
//!
//! EfficientNet-Lite0 gives each photo its top classes with probabilities
//! (from the same inference as its vector). A query is matched against each
//! class's names ("tabby, tabby cat"), its WordNet kinds (a tabby is a
//! domestic cat, a cat, a feline, ...) and, more weakly, its WordNet
//! definition ("espresso: strong black coffee ..."), word by word, ignoring
//! case and plurals; photos are ranked by the probability mass of the classes
//! that match.

use std::collections::HashSet;

/// The model whose ImageNet labels answer text queries offline and name
/// the map's clusters.
pub const LABEL_MODEL: &str = "efficientnet-lite0";

/// The model whose stored labels a library whose active model is `active`
/// reads: `active` itself where it is a build of the label model (the int8
/// EfficientNet-Lite0 labels photos with the same classes as it indexes
/// them), else `LABEL_MODEL`.
pub fn label_model(active: &str) -> &str {
    if active.strip_prefix(LABEL_MODEL).is_some_and(|rest| rest == "-int8") {
        active
    } else {
        LABEL_MODEL
    }
}

/// How much a match in a class's definition counts against one in its names.
const DEFINITION_WEIGHT: f32 = 0.3;

const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "to", "for", "by", "from", "my", "some",
    "photo", "photos", "picture", "pictures", "image", "images", "shot", "shots", "showing", "is", "are", "not", "no",
];

#[derive(Debug, Clone)]
pub struct ImageNetClass {
    /// Names, most common first: "tabby", "tabby cat".
    pub names: Vec<String>,
    pub definition: String,
    /// The names of its WordNet hypernyms, nearest first ("domestic cat",
    /// "house cat", "cat", ..., "animal", ...); empty without WordNet.
    pub kinds: Vec<String>,
}

impl ImageNetClass {
    /// `names<TAB>definition`, or just names.
    pub fn parse(line: &str) -> ImageNetClass {
        let (names, definition) = line.split_once('\t').unwrap_or((line, ""));
        ImageNetClass {
            names: names.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
            definition: definition.trim().to_string(),
            kinds: Vec::new(),
        }
    }

    /// Its kinds from a line of `<model>.kinds.tsv`: `kind|kind|...`, each
    /// kind's names joined by ", " (models/wordnet_kinds.py).
    pub fn with_kinds(mut self, line: &str) -> ImageNetClass {
        self.kinds = line.split(['|', ',']).map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        self
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

/// How a query's words met a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WordMatch {
    /// Every word of the query is in its definition.
    Definition,
    /// A word of the query is one of its kinds, among other words ("fish"
    /// in "a fish someone caught" for the tench).
    KindWord,
    /// In one of its names, among other words ("beach" in "beach wagon").
    PartOfName,
    /// One of its kinds is what the query says ("dog" for a beagle).
    Kind,
    /// One of its names is what the query says ("tabby cat").
    Name,
}

/// How the query's words meet each class they meet, the best way for each.
pub fn word_matches(classes: &[ImageNetClass], query: &str) -> Vec<(u32, WordMatch)> {
    let q = query_words(query);
    if q.is_empty() {
        return Vec::new();
    }
    let wanted: HashSet<String> = q.iter().cloned().collect();
    let says = |text: &str| -> Option<bool> {
        let w = words(text);
        q.iter().all(|x| w.contains(x)).then(|| w == wanted)
    };
    let mut out = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        let names: Vec<bool> = class.names.iter().filter_map(|n| says(n)).collect();
        let how = if names.contains(&true) {
            Some(WordMatch::Name)
        } else if class.kinds.iter().any(|k| says(k) == Some(true)) {
            Some(WordMatch::Kind)
        } else if !names.is_empty() {
            Some(WordMatch::PartOfName)
        } else if class.kinds.iter().any(|k| {
            let k = words(k);
            k.len() == 1 && q.iter().any(|x| k.contains(x))
        }) {
            Some(WordMatch::KindWord)
        } else if says(&class.definition).is_some() {
            Some(WordMatch::Definition)
        } else {
            None
        };
        if let Some(how) = how {
            out.push((i as u32, how));
        }
    }
    out
}

/// Classes the query names, with how strongly: 1 for a match in the names,
/// `DEFINITION_WEIGHT` for one in the definition only. Word for word, no
/// kinds: label search as it was before kinds and meanings.
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

    #[test]
    fn words_meet_names_kinds_parts_of_names_and_definitions() {
        let classes: Vec<ImageNetClass> = [
            ("beagle\ta small short-legged smooth-coated breed of hound", "hound, hound dog|hunting dog|dog, domestic dog, Canis familiaris|canine, canid"),
            ("hotdog, hot dog, red hot\ta frankfurter served hot on a bun", "sandwich|snack food|dish|nutriment|food"),
            ("beach wagon, station wagon, wagon\ta car that has a long body", "car, auto, automobile|motor vehicle"),
            ("seashore, coast\tthe shore of a sea or ocean, where the beach is", "shore|geological formation"),
        ]
        .iter()
        .map(|(l, k)| ImageNetClass::parse(l).with_kinds(k))
        .collect();
        assert_eq!(word_matches(&classes, "dogs"), vec![(0, WordMatch::Kind), (1, WordMatch::PartOfName)]);
        // (the beagle is a dog: at the level of words, that counts too; `text` lets the name win)
        assert_eq!(word_matches(&classes, "a hot dog"), vec![(0, WordMatch::KindWord), (1, WordMatch::Name)]);
        assert_eq!(word_matches(&classes, "automobile"), vec![(2, WordMatch::Kind)]);
        assert_eq!(word_matches(&classes, "beach"), vec![(2, WordMatch::PartOfName), (3, WordMatch::Definition)]);
        assert!(word_matches(&classes, "a beach at sunset").is_empty());
        assert_eq!(word_matches(&classes, "a dog with long ears"), vec![(0, WordMatch::KindWord)]);
    }
}
