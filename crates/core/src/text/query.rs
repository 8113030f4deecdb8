//! The search box's query language: the operators people know from web and
//! photo search, taken out of a query before its meaning is read.
//!
//! - `-word`, `NOT word`, `without word`, `-"two words"`: photos showing it
//!   are left out;
//! - `"exact phrase"`: matched word for word (a class's name or kind);
//! - dates: `2023`, `2023-07`, `2023-07-14`, `summer 2022` (also spring,
//!   autumn/fall, winter: northern seasons), `after:2021`, `before:2020-06`;
//! - `type:heic` (any format: jpeg/jpg, png, heic/heif, avif, tiff, ...);
//! - `in:Holidays`: a folder of that name anywhere in the path;
//! - `portrait`, `landscape` (and `is:square`): the photo's upright shape;
//! - `is:video` (moments of videos), `is:photo`.
//!
//! What is left is the query's meaning ("beach 2023 -people" is a beach,
//! taken in 2023, without people).

use crate::decode::epoch_seconds;

/// A photo's upright shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Portrait,
    Landscape,
    Square,
}

impl Shape {
    pub fn of(width: u32, height: u32) -> Shape {
        match width.cmp(&height) {
            std::cmp::Ordering::Less => Shape::Portrait,
            std::cmp::Ordering::Greater => Shape::Landscape,
            std::cmp::Ordering::Equal => Shape::Square,
        }
    }
}

/// Photos or moments of videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Photo,
    Video,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// What the photos should show, operators taken out.
    pub text: String,
    /// Phrases in quotes: matched word for word.
    pub exact: Vec<String>,
    /// What they should not show.
    pub not: Vec<String>,
    /// Capture time range, epoch seconds, inclusive.
    pub after: Option<i64>,
    pub before: Option<i64>,
    /// Formats as the catalog names them (`jpeg`, `heic`, ...).
    pub formats: Vec<String>,
    /// Folder names, any of which must be in the path.
    pub folders: Vec<String>,
    pub shape: Option<Shape>,
    pub kind: Option<Kind>,
}

impl Query {
    /// True when the query says what to show (not only dates, types, ...).
    pub fn has_meaning(&self) -> bool {
        !self.text.is_empty() || !self.exact.is_empty()
    }

    /// True when the query narrows the photos (dates, types, folders, shape, kind).
    pub fn narrows(&self) -> bool {
        self.after.is_some()
            || self.before.is_some()
            || !self.formats.is_empty()
            || !self.folders.is_empty()
            || self.shape.is_some()
            || self.kind.is_some()
    }

    /// The text to read for meaning: the free words and the exact phrases.
    pub fn meaning(&self) -> String {
        let mut parts = vec![self.text.clone()];
        parts.extend(self.exact.iter().cloned());
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }
}

/// Split `input` into its meaning and its operators.
pub fn parse(input: &str) -> Query {
    let mut q = Query::default();
    let mut words: Vec<String> = Vec::new();
    let tokens = tokens(input);
    let mut i = 0;
    while i < tokens.len() {
        let (token, quoted) = &tokens[i];
        let lower = token.to_lowercase();
        i += 1;
        if *quoted {
            q.exact.push(token.clone());
            continue;
        }
        if (lower == "not" || lower == "without") && i < tokens.len() {
            q.not.push(tokens[i].0.clone());
            i += 1;
            continue;
        }
        if let Some(rest) = token.strip_prefix('-').filter(|r| !r.is_empty()) {
            q.not.push(rest.to_string());
            continue;
        }
        if lower == "-" && i < tokens.len() && tokens[i].1 {
            q.not.push(tokens[i].0.clone());
            i += 1;
            continue;
        }
        if let Some((key, value)) = lower.split_once(':').filter(|(_, v)| !v.is_empty()) {
            let original_value = &token[key.len() + 1..];
            if operator(&mut q, key, value, original_value) {
                continue;
            }
        }
        match lower.as_str() {
            "portrait" => q.shape = Some(Shape::Portrait),
            "landscape" => q.shape = Some(Shape::Landscape),
            _ => {
                if let Some(season) = season(&lower) {
                    if let Some(year) = tokens.get(i).and_then(|t| t.0.parse::<i64>().ok()).filter(|y| plausible_year(*y)) {
                        i += 1;
                        let (from, to) = season_range(season, year);
                        narrow(&mut q, Some(from), Some(to));
                        continue;
                    }
                }
                match date_range(&lower) {
                    Some((from, to)) => narrow(&mut q, Some(from), Some(to)),
                    None => words.push(token.clone()),
                }
            }
        }
    }
    q.text = words.join(" ");
    q
}

/// `key:value` operators; false when `key` is not one (the token stays a word).
fn operator(q: &mut Query, key: &str, value: &str, original_value: &str) -> bool {
    match key {
        "type" | "ext" | "format" => q.formats.extend(formats(value)),
        "in" | "folder" => q.folders.push(original_value.trim_matches('/').to_string()),
        "is" => match value {
            "video" | "videos" | "moment" => q.kind = Some(Kind::Video),
            "photo" | "photos" | "image" => q.kind = Some(Kind::Photo),
            "portrait" => q.shape = Some(Shape::Portrait),
            "landscape" => q.shape = Some(Shape::Landscape),
            "square" => q.shape = Some(Shape::Square),
            _ => return false,
        },
        "after" | "since" => match date_range(value) {
            // After 2021: from its first moment on.
            Some((from, _)) => narrow(q, Some(from), None),
            None => return false,
        },
        "before" | "until" => match date_range(value) {
            // Before 2020-06: up to the last moment of May.
            Some((from, _)) => narrow(q, None, Some(from - 1)),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// The query's words and quoted phrases, in order; a `-` glued to a quote
/// comes as its own token before it.
fn tokens(input: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\u{201c}' || c == '\u{201d}' {
            if current == "-" {
                out.push(("-".to_string(), false));
                current.clear();
            } else if !current.is_empty() {
                out.push((std::mem::take(&mut current), false));
            }
            let phrase: String = chars.by_ref().take_while(|&c| c != '"' && c != '\u{201d}').collect();
            if !phrase.trim().is_empty() {
                out.push((phrase.trim().to_string(), true));
            }
        } else if c.is_whitespace() || c == ',' {
            if !current.is_empty() {
                out.push((std::mem::take(&mut current), false));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push((current, false));
    }
    out
}

fn formats(value: &str) -> Vec<String> {
    match value.trim_start_matches('.') {
        "jpg" | "jpeg" | "jpe" => vec!["jpeg".into()],
        "heic" | "heif" => vec!["heic".into(), "heif".into()],
        "tif" | "tiff" => vec!["tiff".into()],
        other => vec![other.to_string()],
    }
}

fn narrow(q: &mut Query, from: Option<i64>, to: Option<i64>) {
    if let Some(f) = from {
        q.after = Some(q.after.map_or(f, |a| a.max(f)));
    }
    if let Some(t) = to {
        q.before = Some(q.before.map_or(t, |b| b.min(t)));
    }
}

fn plausible_year(y: i64) -> bool {
    (1826..=2200).contains(&y)
}

/// `2023`, `2023-07`, `2023-07-14`: the first and last second it covers.
fn date_range(s: &str) -> Option<(i64, i64)> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) || parts[0].len() != 4 {
        return None;
    }
    let nums: Vec<i64> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let y = nums[0];
    if !plausible_year(y) {
        return None;
    }
    let start = |y: i64, m: i64, d: i64| epoch_seconds(y, m, d, 0, 0, 0);
    match nums[..] {
        [_] => Some((start(y, 1, 1)?, start(y + 1, 1, 1)? - 1)),
        [_, m] => {
            let next = if m == 12 { start(y + 1, 1, 1)? } else { start(y, m + 1, 1)? };
            Some((start(y, m, 1)?, next - 1))
        }
        [_, m, d] => {
            let day = start(y, m, d)?;
            Some((day, day + 86_399))
        }
        _ => None,
    }
}

/// `t` (epoch seconds, UTC) as YYYY-MM-DD.
pub fn day(t: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The first month of a (northern) season.
fn season(word: &str) -> Option<i64> {
    match word {
        "spring" => Some(3),
        "summer" => Some(6),
        "autumn" | "fall" => Some(9),
        "winter" => Some(12),
        _ => None,
    }
}

/// Three months from `first` of `year` (winter 2022: December 2022 to February 2023).
fn season_range(first: i64, year: i64) -> (i64, i64) {
    let start = epoch_seconds(year, first, 1, 0, 0, 0).unwrap_or(0);
    let (end_year, end_month) = if first + 3 > 12 { (year + 1, first + 3 - 12) } else { (year, first + 3) };
    let end = epoch_seconds(end_year, end_month, 1, 0, 0, 0).unwrap_or(start) - 1;
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: i64, d: i64) -> i64 {
        epoch_seconds(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn meaning_and_operators_come_apart() {
        let q = parse("beach 2023 -people");
        assert_eq!(q.text, "beach");
        assert_eq!(q.not, vec!["people"]);
        assert_eq!((q.after, q.before), (Some(day(2023, 1, 1)), Some(day(2024, 1, 1) - 1)));

        let q = parse(r#""golden retriever" NOT cat in:Holidays type:HEIC portrait is:video"#);
        assert_eq!(q.text, "");
        assert_eq!(q.exact, vec!["golden retriever"]);
        assert_eq!(q.meaning(), "golden retriever");
        assert_eq!(q.not, vec!["cat"]);
        assert_eq!(q.folders, vec!["Holidays"]);
        assert_eq!(q.formats, vec!["heic", "heif"]);
        assert_eq!((q.shape, q.kind), (Some(Shape::Portrait), Some(Kind::Video)));

        let q = parse("a beach without people");
        assert_eq!((q.text.as_str(), q.not.clone()), ("a beach", vec!["people".to_string()]));
        assert!(!parse("\"\"").has_meaning() && !parse("\"\"").narrows());
        let q = parse(r#"a red car -"parking lot""#);
        assert_eq!((q.text.as_str(), q.not.clone()), ("a red car", vec!["parking lot".to_string()]));
    }

    #[test]
    fn dates_cover_what_they_say() {
        let q = parse("2023-07");
        assert_eq!((q.after, q.before), (Some(day(2023, 7, 1)), Some(day(2023, 8, 1) - 1)));
        assert!(!q.has_meaning());
        let q = parse("2023-12-31");
        assert_eq!((q.after, q.before), (Some(day(2023, 12, 31)), Some(day(2024, 1, 1) - 1)));
        let q = parse("summer 2022 mountains");
        assert_eq!((q.text.as_str(), q.after, q.before), ("mountains", Some(day(2022, 6, 1)), Some(day(2022, 9, 1) - 1)));
        let q = parse("winter 2022");
        assert_eq!((q.after, q.before), (Some(day(2022, 12, 1)), Some(day(2023, 3, 1) - 1)));
        let q = parse("after:2021 before:2020-06");
        assert_eq!((q.after, q.before), (Some(day(2021, 1, 1)), Some(day(2020, 6, 1) - 1)));
    }

    #[test]
    fn days_are_written_back_as_they_were_read() {
        for (y, m, d) in [(2023, 7, 14), (2000, 2, 29), (1999, 12, 31), (2024, 1, 1)] {
            assert_eq!(super::day(super::epoch_seconds(y, m, d, 13, 5, 0).unwrap()), format!("{y:04}-{m:02}-{d:02}"));
        }
    }

    #[test]
    fn words_that_only_look_like_operators_stay_words() {
        // A number that is no year, a season without one, a key that is no operator.
        for text in ["747 jet", "summer dress", "re:union", "spring"] {
            let q = parse(text);
            assert_eq!(q.text, text, "{text:?}");
            assert_eq!((q.after, q.before), (None, None));
        }
        assert_eq!(parse("-").text, "-");
        let q = parse("a landscape with a lake");
        assert_eq!((q.shape, q.text.as_str()), (Some(Shape::Landscape), "a with a lake"));
    }
}
