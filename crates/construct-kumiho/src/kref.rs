//! Krefs, parsed and formatted in one place (upstream parsed them five different ways, and produced
//! `kref://kref://…` when a client sent the scheme).
//!
//! Grammar: `kref://<project>(/<space>)*/<item_name>.<kind>[?r=N][&t=tag][&a=artifact]`. The kind is what
//! follows the **last** dot of the final segment, so item names may contain dots. Segments are
//! non-empty, contain no `/`, `?`, `&`, `#` or whitespace, and are never `.` or `..`.

use std::fmt;

/// The scheme prefix.
pub const SCHEME: &str = "kref://";

/// Why a string is not a kref.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KrefError {
    /// Empty input.
    #[error("a kref must not be empty")]
    Empty,
    /// A path segment is empty, `.`/`..`, or holds a forbidden character.
    #[error("invalid kref segment {0:?}")]
    Segment(String),
    /// No `<project>/<space>/<item>.<kind>` structure.
    #[error("a kref needs a project, at least one space and an item: kref://project/space/name.kind")]
    Shape,
    /// The last segment has no `.kind`.
    #[error("the item {0:?} has no kind (name.kind)")]
    NoKind(String),
    /// A query parameter is unknown, repeated or malformed.
    #[error("invalid kref query {0:?}")]
    Query(String),
}

/// A parsed kref.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kref {
    /// The project.
    pub project: String,
    /// Space segments below the project (at least one).
    pub spaces: Vec<String>,
    /// The item's name.
    pub item_name: String,
    /// The item's kind.
    pub kind: String,
    /// `r=`: a revision number.
    pub revision: Option<u32>,
    /// `t=`: a tag.
    pub tag: Option<String>,
    /// `a=`: an artifact name.
    pub artifact: Option<String>,
}

fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '&' | '#' | '='))
}

fn segment(raw: &str) -> Result<String, KrefError> {
    if valid_segment(raw) { Ok(raw.to_owned()) } else { Err(KrefError::Segment(raw.to_owned())) }
}

impl Kref {
    /// Parses a kref; the `kref://` scheme is optional (a path from a URL may lack it).
    pub fn parse(raw: &str) -> Result<Self, KrefError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(KrefError::Empty);
        }
        let rest = raw.strip_prefix(SCHEME).unwrap_or(raw);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 3 {
            return Err(KrefError::Shape);
        }
        let project = segment(parts[0])?;
        let spaces = parts[1..parts.len() - 1].iter().map(|s| segment(s)).collect::<Result<Vec<_>, _>>()?;
        let last = segment(parts[parts.len() - 1])?;
        let (item_name, kind) = match last.rsplit_once('.') {
            Some((name, kind)) if valid_segment(name) && valid_segment(kind) => {
                (name.to_owned(), kind.to_owned())
            }
            _ => return Err(KrefError::NoKind(last)),
        };
        let mut kref = Kref { project, spaces, item_name, kind, revision: None, tag: None, artifact: None };
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            let bad = || KrefError::Query(pair.to_owned());
            let (key, value) = pair.split_once('=').ok_or_else(bad)?;
            if !valid_segment(value) {
                return Err(bad());
            }
            match key {
                "r" if kref.revision.is_none() => {
                    kref.revision = Some(value.parse().ok().filter(|n| *n >= 1).ok_or_else(bad)?);
                }
                "t" if kref.tag.is_none() => kref.tag = Some(value.to_owned()),
                "a" if kref.artifact.is_none() => kref.artifact = Some(value.to_owned()),
                _ => return Err(bad()),
            }
        }
        Ok(kref)
    }

    /// The item kref (no revision, tag or artifact).
    pub fn item(&self) -> Kref {
        Kref { revision: None, tag: None, artifact: None, ..self.clone() }
    }

    /// The same item at revision `number`.
    pub fn at_revision(&self, number: u32) -> Kref {
        Kref { revision: Some(number), tag: None, artifact: None, ..self.clone() }
    }

    /// The space path, `/<project>/<space…>`.
    pub fn space_path(&self) -> String {
        format!("/{}/{}", self.project, self.spaces.join("/"))
    }
}

impl fmt::Display for Kref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}/{}.{}", self.project, self.spaces.join("/"), self.item_name, self.kind)?;
        let mut sep = '?';
        for (key, value) in [
            ("r", self.revision.map(|r| r.to_string())),
            ("t", self.tag.clone()),
            ("a", self.artifact.clone()),
        ] {
            if let Some(value) = value {
                write!(f, "{sep}{key}={value}")?;
                sep = '&';
            }
        }
        Ok(())
    }
}

/// Normalises a kref taken from a URL path or a body: parsed and formatted once, so `kref://` is present
/// exactly once whatever the client sent.
pub fn normalize(raw: &str) -> Result<String, KrefError> {
    Kref::parse(raw).map(|k| k.to_string())
}

/// A space path `/<project>[/<space>…]`, validated.
pub fn space_path(raw: &str) -> Result<Vec<String>, KrefError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let inner = trimmed.strip_prefix('/').ok_or(KrefError::Shape)?;
    inner.split('/').map(segment).collect()
}

/// An item name from a display name: lowercase, every run of characters that are not letters, digits or
/// `-` becomes one `-`, trimmed of `-`. `None` when nothing is left (upstream accepted the empty name).
pub fn slugify(name: &str) -> Option<String> {
    let lowered = name.trim().to_lowercase();
    let mapped: String =
        lowered.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let slug = mapped.split('-').filter(|piece| !piece.is_empty()).collect::<Vec<_>>().join("-");
    (!slug.is_empty()).then_some(slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_format() {
        let k = Kref::parse("kref://Construct/AgentPool/reviewer.agent?r=3&t=published").unwrap();
        assert_eq!((k.project.as_str(), k.spaces.as_slice()), ("Construct", &["AgentPool".to_owned()][..]));
        assert_eq!((k.item_name.as_str(), k.kind.as_str(), k.revision), ("reviewer", "agent", Some(3)));
        assert_eq!(k.to_string(), "kref://Construct/AgentPool/reviewer.agent?r=3&t=published");
        assert_eq!(k.item().to_string(), "kref://Construct/AgentPool/reviewer.agent");
        assert_eq!(k.space_path(), "/Construct/AgentPool");
        // Dots in names: the kind follows the last dot.
        let k = Kref::parse("Construct/Skills/v1.2-notes.skilldef").unwrap();
        assert_eq!((k.item_name.as_str(), k.kind.as_str()), ("v1.2-notes", "skilldef"));
        // The scheme is present once, however the client sent it.
        assert_eq!(normalize("kref://p/s/a.b").unwrap(), normalize("p/s/a.b").unwrap());
        assert_eq!(normalize("kref://p/s/a.b").unwrap(), "kref://p/s/a.b");
        assert_eq!(Kref::parse("kref://p/s/x/y/item.kind?a=file").unwrap().spaces, ["s", "x", "y"]);
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(Kref::parse(""), Err(KrefError::Empty));
        assert_eq!(Kref::parse("kref://p/item.kind"), Err(KrefError::Shape));
        assert_eq!(Kref::parse("kref://p/s/item"), Err(KrefError::NoKind("item".into())));
        assert_eq!(Kref::parse("kref://p/../item.kind"), Err(KrefError::Segment("..".into())));
        assert_eq!(Kref::parse("kref://p//item.kind"), Err(KrefError::Segment(String::new())));
        assert!(matches!(Kref::parse("kref://p/s/a.b?r=0"), Err(KrefError::Query(_))));
        assert!(matches!(Kref::parse("kref://p/s/a.b?r=1&r=2"), Err(KrefError::Query(_))));
        assert!(matches!(Kref::parse("kref://p/s/a.b?x=1"), Err(KrefError::Query(_))));
        assert!(Kref::parse("kref://kref://p/s/a.b").is_err(), "a doubled scheme is not a kref");
        assert_eq!(space_path("/p/s/"), Ok(vec!["p".to_owned(), "s".to_owned()]));
        assert!(space_path("p/s").is_err() && space_path("/p/../s").is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("My Agent!").as_deref(), Some("my-agent"));
        assert_eq!(slugify("a__b").as_deref(), Some("a-b"));
        assert_eq!(slugify("  Ünïcode ok ").as_deref(), Some("ünïcode-ok"));
        assert_eq!(slugify("***"), None, "an empty result is refused");
        assert_eq!(slugify(""), None);
    }

    fn seg() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}".prop_filter("not . or ..", |s| s != "." && s != "..")
    }

    proptest! {
        #[test]
        fn round_trip(
            project in seg(),
            spaces in proptest::collection::vec(seg(), 1..4),
            name in seg(),
            kind in "[a-z][a-z0-9_-]{0,7}",
            revision in proptest::option::of(1u32..10_000),
            tag in proptest::option::of("[a-z][a-z0-9_-]{0,7}"),
            artifact in proptest::option::of(seg()),
        ) {
            let kref = Kref { project, spaces, item_name: name, kind, revision, tag, artifact };
            let text = kref.to_string();
            prop_assert_eq!(Kref::parse(&text).unwrap(), kref.clone());
            prop_assert_eq!(normalize(&text).unwrap(), text.clone());
            prop_assert_eq!(Kref::parse(text.trim_start_matches(SCHEME)).unwrap(), kref);
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC{0,64}") {
            let _ = Kref::parse(&raw);
            let _ = space_path(&raw);
            let _ = slugify(&raw);
        }
    }
}
