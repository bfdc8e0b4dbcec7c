//! Go's `filepath.Match`, which spread uses to match `systems`/`backends`/`variants` entries
//! such as `ubuntu-core-*` or `-ubuntu-*-ppc64el`: `*` any run of non-`/` characters, `?` one,
//! `[a-z]`/`[^0-9]` classes, `\` escapes. A malformed pattern is an error, as in Go.

/// Whether `name` matches `pattern`; `Err(())` when the pattern is malformed.
pub fn matches(pattern: &str, name: &str) -> Result<bool, ()> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name)
}

fn match_from(pattern: &[char], name: &[char]) -> Result<bool, ()> {
    match pattern.first() {
        None => Ok(name.is_empty()),
        Some('*') => {
            // Validate the rest of the pattern even when the name runs out, as Go does.
            let rest = &pattern[1..];
            let mut matched = false;
            for skip in 0..=name.len() {
                if skip > 0 && name[skip - 1] == '/' {
                    break;
                }
                if match_from(rest, &name[skip..])? {
                    matched = true;
                    break;
                }
            }
            Ok(matched)
        }
        Some(_) => {
            let (consumed, accepts) = single(pattern)?;
            match name.first() {
                Some(&c) if accepts(c) => match_from(&pattern[consumed..], &name[1..]),
                _ => {
                    validate(&pattern[consumed..])?;
                    Ok(false)
                }
            }
        }
    }
}

type Accepts = Box<dyn Fn(char) -> bool>;

/// The single-character element at the start of `pattern`: its length and its test.
fn single(pattern: &[char]) -> Result<(usize, Accepts), ()> {
    match pattern[0] {
        '?' => Ok((1, Box::new(|c| c != '/'))),
        '\\' => {
            let literal = *pattern.get(1).ok_or(())?;
            Ok((2, Box::new(move |c| c == literal)))
        }
        '[' => class(pattern),
        literal => Ok((1, Box::new(move |c| c == literal))),
    }
}

fn class(pattern: &[char]) -> Result<(usize, Accepts), ()> {
    let mut at = 1;
    let negated = pattern.get(at) == Some(&'^');
    if negated {
        at += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if pattern.get(at) == Some(&']') && !ranges.is_empty() {
            at += 1;
            break;
        }
        let low = class_char(pattern, &mut at)?;
        let high = if pattern.get(at) == Some(&'-') {
            at += 1;
            class_char(pattern, &mut at)?
        } else {
            low
        };
        ranges.push((low, high));
    }
    let accepts = move |c: char| {
        let inside = ranges.iter().any(|&(low, high)| low <= c && c <= high);
        inside != negated
    };
    Ok((at, Box::new(accepts)))
}

/// One character of a class, unescaping `\x`; a bare `-` or `]` here is malformed, as in Go.
fn class_char(pattern: &[char], at: &mut usize) -> Result<char, ()> {
    let c = *pattern.get(*at).ok_or(())?;
    *at += 1;
    match c {
        '\\' => {
            let escaped = *pattern.get(*at).ok_or(())?;
            *at += 1;
            Ok(escaped)
        }
        '-' | ']' => Err(()),
        _ => Ok(c),
    }
}

fn validate(pattern: &[char]) -> Result<(), ()> {
    let mut at = 0;
    while at < pattern.len() {
        at += match pattern[at] {
            '*' => 1,
            _ => single(&pattern[at..])?.0,
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
