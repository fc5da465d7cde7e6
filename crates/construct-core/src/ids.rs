//! Identifiers that end up in paths, store keys or URLs.

/// Whether `id` is a path id (a run, step, agent or registry slug): `[A-Za-z0-9._-]{1,128}`, not `.` or
/// `..`, so it can never climb out of a directory it is joined to or change the path of a URL.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids() {
        for good in ["run-1", "a.b_c", "X", &"x".repeat(128)] {
            assert!(valid_id(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", "é", "a b", &"x".repeat(129)] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }
}
