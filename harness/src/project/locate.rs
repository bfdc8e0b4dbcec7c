//! Finds the line of a key path in a YAML text, so errors found after parsing can still point
//! at a line. Best effort: it follows indentation and keys (`key:`, `- key:`, `- key`), which
//! is how spread files are written; it returns `None` rather than guess.

/// The 1-based line holding the last key of `path`, each key nested under the previous one.
pub fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    if path.is_empty() {
        return None;
    }
    let mut depth = 0;
    let mut parent_indent: Option<usize> = None;
    let mut child_indent: Option<usize> = None;
    let mut last_found = None;
    for (index, line) in text.lines().enumerate() {
        let Some((indent, key)) = key_of(line) else {
            continue;
        };
        if parent_indent.is_some_and(|parent| indent <= parent) {
            // Left the block of the last matched key without finding the next one.
            return last_found;
        }
        let level = *child_indent.get_or_insert(indent);
        if indent == level && key == path[depth] {
            last_found = Some(index + 1);
            depth += 1;
            if depth == path.len() {
                return last_found;
            }
            parent_indent = Some(indent);
            child_indent = None;
        }
    }
    last_found
}

/// The indentation and key of a mapping or list line, quotes removed.
fn key_of(line: &str) -> Option<(usize, &str)> {
    let content = line.trim_start();
    if content.is_empty() || content.starts_with('#') {
        return None;
    }
    let mut indent = line.len() - content.len();
    let mut rest = content;
    while let Some(item) = rest.strip_prefix("- ") {
        let item_content = item.trim_start();
        indent += rest.len() - item_content.len();
        rest = item_content;
    }
    let key = match rest.find(':') {
        Some(at) if rest[at + 1..].is_empty() || rest[at + 1..].starts_with(' ') => &rest[..at],
        _ if content.starts_with("- ") => rest,
        _ => return None,
    };
    Some((indent, key.trim().trim_matches(|c| c == '"' || c == '\'')))
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const TEXT: &str = "\
project: p
backends:
    docker:
        systems:
            - debian-12:
                workers: 2
            - ubuntu-24.04
suites:
    \"tests/\":
        summary: x
";

    #[test]
    fn finds_nested_keys_and_list_items() {
        assert_eq!(line_of(TEXT, &["project"]), Some(1));
        assert_eq!(
            line_of(
                TEXT,
                &["backends", "docker", "systems", "debian-12", "workers"]
            ),
            Some(6)
        );
        assert_eq!(
            line_of(TEXT, &["backends", "docker", "systems", "ubuntu-24.04"]),
            Some(7)
        );
        assert_eq!(line_of(TEXT, &["suites", "tests/", "summary"]), Some(10));
    }

    #[test]
    fn stops_at_the_nearest_written_ancestor() {
        assert_eq!(line_of(TEXT, &["suites", "tests/", "manual"]), Some(9));
        assert_eq!(line_of(TEXT, &["nothing"]), None);
        assert_eq!(line_of(TEXT, &[]), None);
    }
}
