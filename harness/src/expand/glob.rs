//! Go's `filepath.Match`, which spread uses to match `systems`/`backends`/`variants` entries
//! such as `ubuntu-core-*` or `-ubuntu-*-ppc64el`: `*` any run of non-`/` characters, `?` one,
//! `[a-z]`/`[^0-9]` classes, `\` escapes. A malformed pattern is an error, as in Go.

/// Whether `text` holds any glob syntax (otherwise it only matches itself).
pub fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?', '[', '\\'])
}

/// Whether `name` matches `pattern`; `Err(())` when the pattern is malformed.
pub fn matches(pattern: &str, name: &str) -> Result<bool, ()> {
    if !is_pattern(pattern) {
        return Ok(pattern == name);
    }
    if pattern.is_ascii() && name.is_ascii() {
        return match_from(pattern.as_bytes(), name.as_bytes());
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name)
}

/// A pattern or name symbol: bytes for ASCII text (no allocation), chars otherwise.
trait Symbol: Copy + Ord {
    fn is(self, ascii: u8) -> bool;
}

impl Symbol for u8 {
    fn is(self, ascii: u8) -> bool {
        self == ascii
    }
}

impl Symbol for char {
    fn is(self, ascii: u8) -> bool {
        self == char::from(ascii)
    }
}

fn match_from<T: Symbol>(pattern: &[T], name: &[T]) -> Result<bool, ()> {
    let Some(&first) = pattern.first() else {
        return Ok(name.is_empty());
    };
    if first.is(b'*') {
        let rest = &pattern[1..];
        for skip in 0..=name.len() {
            if skip > 0 && name[skip - 1].is(b'/') {
                break;
            }
            if match_from(rest, &name[skip..])? {
                return Ok(true);
            }
        }
        // Go reports a malformed remainder even when the name ran out.
        return validate(rest).map(|()| false);
    }
    let (consumed, element) = element(pattern)?;
    match name.first() {
        Some(&symbol) if element.accepts(symbol) => match_from(&pattern[consumed..], &name[1..]),
        _ => validate(&pattern[consumed..]).map(|()| false),
    }
}

/// One single-symbol element of a pattern.
enum Element<T> {
    AnyButSlash,
    Literal(T),
    Class { negated: bool, ranges: Vec<(T, T)> },
}

impl<T: Symbol> Element<T> {
    fn accepts(&self, symbol: T) -> bool {
        match self {
            Element::AnyButSlash => !symbol.is(b'/'),
            Element::Literal(literal) => *literal == symbol,
            Element::Class { negated, ranges } => {
                let inside = ranges
                    .iter()
                    .any(|&(low, high)| low <= symbol && symbol <= high);
                inside != *negated
            }
        }
    }
}

/// The element at the start of `pattern` and how many symbols it spans.
fn element<T: Symbol>(pattern: &[T]) -> Result<(usize, Element<T>), ()> {
    let first = pattern[0];
    if first.is(b'?') {
        Ok((1, Element::AnyButSlash))
    } else if first.is(b'\\') {
        Ok((2, Element::Literal(*pattern.get(1).ok_or(())?)))
    } else if first.is(b'[') {
        class(pattern)
    } else {
        Ok((1, Element::Literal(first)))
    }
}

fn class<T: Symbol>(pattern: &[T]) -> Result<(usize, Element<T>), ()> {
    let mut at = 1;
    let negated = pattern.get(at).is_some_and(|c| c.is(b'^'));
    if negated {
        at += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if pattern.get(at).is_some_and(|c| c.is(b']')) && !ranges.is_empty() {
            at += 1;
            break;
        }
        let low = class_symbol(pattern, &mut at)?;
        let high = if pattern.get(at).is_some_and(|c| c.is(b'-')) {
            at += 1;
            class_symbol(pattern, &mut at)?
        } else {
            low
        };
        ranges.push((low, high));
    }
    Ok((at, Element::Class { negated, ranges }))
}

/// One symbol of a class, unescaping `\\x`; a bare `-` or `]` here is malformed, as in Go.
fn class_symbol<T: Symbol>(pattern: &[T], at: &mut usize) -> Result<T, ()> {
    let symbol = *pattern.get(*at).ok_or(())?;
    *at += 1;
    if symbol.is(b'\\') {
        let escaped = *pattern.get(*at).ok_or(())?;
        *at += 1;
        Ok(escaped)
    } else if symbol.is(b'-') || symbol.is(b']') {
        Err(())
    } else {
        Ok(symbol)
    }
}

fn validate<T: Symbol>(pattern: &[T]) -> Result<(), ()> {
    let mut at = 0;
    while at < pattern.len() {
        at += if pattern[at].is(b'*') {
            1
        } else {
            element(&pattern[at..])?.0
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn go_filepath_match_semantics() {
        let yes = |p, n| assert_eq!(matches(p, n), Ok(true), "{p} vs {n}");
        let no = |p, n| assert_eq!(matches(p, n), Ok(false), "{p} vs {n}");
        yes("ubuntu-core-*", "ubuntu-core-16-64");
        no("ubuntu-core-*", "ubuntu-16.04-64");
        yes("ubuntu-*-ppc64el", "ubuntu-16.04-ppc64el");
        no("ubuntu-*-ppc64el", "ubuntu-16.04-amd64");
        yes("ubuntu-core-*", "ubuntu-core-*");
        yes("debian-1?", "debian-12");
        yes("debian-1[0-2]", "debian-12");
        no("debian-1[^0-2]", "debian-12");
        yes("*", "");
        no("a*", "a/b");
        yes("a\\*", "a*");
        no("a\\*", "ab");
        yes("exact-1", "exact-1");
        no("exact-1", "exact-12");
        yes("débian-*", "débian-12");
        yes("d?bian-12", "débian-12");
    }

    #[test]
    fn malformed_patterns_are_errors() {
        assert_eq!(matches("[", "a"), Err(()));
        assert_eq!(matches("a[", "b"), Err(()));
        assert_eq!(matches("[]", "a"), Err(()));
        assert_eq!(matches("[z-a]", "b"), Ok(false));
        assert_eq!(matches("a\\", "a"), Err(()));
    }
}
