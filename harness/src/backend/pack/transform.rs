//! `rename:` entries: GNU tar `--transform` sed expressions (`s/regex/replacement/flags`,
//! any delimiter) applied to every archive member name. As in tar, one entry may hold several
//! expressions separated by `;` right after the flags (`s/a/b/;s/c/d/g`), applied in turn.
//!
//! As in tar, the regex is a POSIX basic one unless the `x` flag asks for an extended one;
//! the replacement knows `&` and `\1`..`\9`; flags are `g`, `i`, `x`, a number N (replace
//! the Nth match), and tar's scope flags `r`/`R` (do/don't rename regular members) and
//! `s`/`S`, `h`/`H` (symlink and hard-link targets, which are sent as they are).

use regex::{Captures, Regex, RegexBuilder};

/// One parsed `rename:` entry: its expressions in order.
#[derive(Debug, Clone)]
pub struct Transform {
    substitutions: Vec<Substitution>,
}

impl Transform {
    /// Parses `entry`, or says what is wrong with it (and where, past its first expression).
    pub fn parse(entry: &str) -> Result<Self, String> {
        let mut substitutions = Vec::new();
        let mut rest = entry;
        // An empty entry renames nothing, as in tar.
        while !rest.is_empty() {
            let (substitution, after) = Substitution::parse(rest).map_err(|reason| {
                if rest.len() == entry.len() {
                    reason
                } else {
                    format!("{reason} (in {rest:?})")
                }
            })?;
            substitutions.push(substitution);
            rest = after;
        }
        Ok(Self { substitutions })
    }

    /// `name` after every expression in turn.
    pub fn apply(&self, name: &str) -> String {
        self.substitutions
            .iter()
            .fold(name.to_owned(), |name, substitution| {
                substitution.apply(&name)
            })
    }
}

/// One `s/regex/replacement/flags` expression.
#[derive(Debug, Clone)]
struct Substitution {
    regex: Regex,
    replacement: Vec<Piece>,
    /// Which match is replaced first (1-based).
    occurrence: usize,
    /// Also every later match.
    global: bool,
    /// `R` turns renaming of member names off.
    names: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Substitution {
    /// Parses the expression at the start of `expression`; returns it with what follows its
    /// flags and the `;` ending them.
    fn parse(expression: &str) -> Result<(Self, &str), String> {
        let mut chars = expression.chars();
        if chars.next() != Some('s') {
            return Err("a rename expression starts with s, as in s,^,prefix/,".into());
        }
        let delimiter = chars
            .next()
            .ok_or("the expression ends after s; expected s/regex/replacement/")?;
        let (pattern, rest) = split_at_delimiter(chars.as_str(), delimiter)
            .ok_or("the regex is not terminated by the delimiter")?;
        let (replacement, rest) = split_at_delimiter(rest, delimiter)
            .ok_or("the replacement is not terminated by the delimiter")?;
        let (flags, next) = rest.split_once(';').unwrap_or((rest, ""));
        let mut substitution = Substitution {
            regex: Regex::new("").expect("empty regex"),
            replacement: parse_replacement(&replacement),
            occurrence: 1,
            global: false,
            names: true,
        };
        let (mut extended, mut ignore_case, mut number) = (false, false, String::new());
        for flag in flags.chars() {
            match flag {
                'g' => substitution.global = true,
                'i' => ignore_case = true,
                'x' => extended = true,
                'r' => substitution.names = true,
                'R' => substitution.names = false,
                's' | 'S' | 'h' | 'H' => {}
                digit if digit.is_ascii_digit() => number.push(digit),
                other => {
                    return Err(format!(
                        "unknown flag {other:?} (tar knows g i x r R s S h H and a number)"
                    ));
                }
            }
        }
        if !number.is_empty() {
            substitution.occurrence = match number.parse() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("the match number {number} must be 1 or more")),
            };
        }
        let pattern = if extended {
            pattern
        } else {
            basic_to_extended(&pattern)
        };
        substitution.regex = RegexBuilder::new(&pattern)
            .case_insensitive(ignore_case)
            .build()
            .map_err(|error| format!("invalid regex: {error}"))?;
        Ok((substitution, next))
    }

    /// `name` after this expression.
    pub fn apply(&self, name: &str) -> String {
        if !self.names {
            return name.to_owned();
        }
        let mut result = String::new();
        let mut last = 0;
        for (index, captures) in self.regex.captures_iter(name).enumerate() {
            let number = index + 1;
            if number < self.occurrence {
                continue;
            }
            if number > self.occurrence && !self.global {
                break;
            }
            let whole = captures.get(0).expect("group 0 always matches");
            result.push_str(&name[last..whole.start()]);
            self.substitute(&captures, &mut result);
            last = whole.end();
        }
        result.push_str(&name[last..]);
        result
    }

    fn substitute(&self, captures: &Captures, out: &mut String) {
        for piece in &self.replacement {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Group(group) => {
                    out.push_str(captures.get(*group).map_or("", |m| m.as_str()));
                }
            }
        }
    }
}

/// Splits `text` at the first unescaped `delimiter`; `\delimiter` becomes the delimiter.
fn split_at_delimiter(text: &str, delimiter: char) -> Option<(String, &str)> {
    let mut part = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == delimiter {
            return Some((part, &text[at + c.len_utf8()..]));
        }
        if c == '\\' {
            match chars.next() {
                Some((_, next)) if next == delimiter => part.push(next),
                Some((_, next)) => {
                    part.push('\\');
                    part.push(next);
                }
                None => part.push('\\'),
            }
        } else {
            part.push(c);
        }
    }
    None
}

fn parse_replacement(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let group = match c {
            '&' => Some(0),
            '\\' => match chars.next() {
                Some(digit @ '0'..='9') => Some(digit as usize - '0' as usize),
                Some('n') => {
                    literal.push('\n');
                    None
                }
                Some(other) => {
                    literal.push(other);
                    None
                }
                None => {
                    literal.push('\\');
                    None
                }
            },
            other => {
                literal.push(other);
                None
            }
        };
        if let Some(group) = group {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Group(group));
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

/// A POSIX basic regex (GNU flavour: `\(`, `\{`, `\+`, `\?`, `\|` are operators and the bare
/// characters are literals) in the `regex` crate's syntax.
fn basic_to_extended(basic: &str) -> String {
    let mut out = String::new();
    let mut chars = basic.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(op @ ('(' | ')' | '{' | '}' | '+' | '?' | '|')) => out.push(op),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push_str(r"\\"),
            },
            '(' | ')' | '{' | '}' | '+' | '?' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '[' => {
                out.push('[');
                copy_bracket(&mut chars, &mut out);
            }
            other => out.push(other),
        }
    }
    out
}

/// Copies a bracket expression up to its closing `]`: a leading `^` and `]` belong to it, and
/// a backslash inside is a literal (it escapes in the `regex` crate's classes).
fn copy_bracket(chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    if chars.peek() == Some(&'^') {
        out.push(chars.next().expect("peeked"));
    }
    if chars.peek() == Some(&']') {
        chars.next();
        out.push_str(r"\]");
    }
    while let Some(c) = chars.next() {
        match c {
            ']' => {
                out.push(']');
                return;
            }
            '\\' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '[' if chars.peek() == Some(&':') => {
                // A character class such as [:alpha:], copied whole.
                out.push('[');
                for c in chars.by_ref() {
                    out.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str(r"\["),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(expression: &str, name: &str) -> String {
        Transform::parse(expression)
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .apply(name)
    }

    #[test]
    fn prefixes_with_any_delimiter() {
        assert_eq!(apply("s,^,pre/,S", "a/b"), "pre/a/b");
        assert_eq!(apply("s|^|pre/|", "a"), "pre/a");
    }

    #[test]
    fn ampersand_and_groups_are_the_match() {
        assert_eq!(apply(r"s/\(a*\)b/<&:\1>/", "xaab"), "x<aab:aa>");
        assert_eq!(apply(r"s/(a+)b/[\1]/x", "aab"), "[aa]");
        assert_eq!(apply(r"s/a/\&/", "a"), "&");
    }

    #[test]
    fn basic_regex_operators_are_literal_when_bare() {
        assert_eq!(apply("s/a+/X/", "aa+"), "aX");
        assert_eq!(apply(r"s/a\+/X/", "aa+"), "X+");
        assert_eq!(apply("s/[.]c$/.h/", "x.c"), "x.h");
    }

    #[test]
    fn flags_pick_the_matches() {
        assert_eq!(apply("s/o/0/", "foo/boo"), "f0o/boo");
        assert_eq!(apply("s/o/0/g", "foo/boo"), "f00/b00");
        assert_eq!(apply("s/o/0/3", "foo/boo"), "foo/b0o");
        assert_eq!(apply("s/o/0/2g", "foo/boo"), "fo0/b00");
        assert_eq!(apply("s/FOO/bar/i", "foo"), "bar");
        assert_eq!(apply("s/foo/bar/R", "foo"), "foo");
        assert_eq!(apply("s/foo/bar/rsShH", "foo"), "bar");
    }

    #[test]
    fn escaped_delimiters_are_literal() {
        assert_eq!(apply(r"s/a\/b/c/", "a/b"), "c");
        assert_eq!(apply(r"s,^,x\,y/,", "f"), "x,y/f");
    }

    #[test]
    fn malformed_expressions_say_why() {
        for (expression, why) in [
            ("y/a/b/", "starts with s"),
            ("s/a/b", "replacement is not terminated"),
            ("s/a", "regex is not terminated"),
            ("s/a/b/q", "unknown flag 'q'"),
            (r"s/\(/b/", "invalid regex"),
            ("s/a/b/0", "must be 1 or more"),
            ("s/a/b/;x", r#"starts with s, as in s,^,prefix/, (in "x")"#),
            ("s/a/b/ ;s/c/d/", "unknown flag ' '"),
        ] {
            let error = Transform::parse(expression).unwrap_err();
            assert!(error.contains(why), "{expression}: {error}");
        }
    }

    /// What GNU tar's own `--transform` makes of `names` (regular files it archives), or `None`
    /// when it refuses the expression.
    fn gnu_tar(expression: &str, names: &[&str]) -> Option<Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, name).unwrap();
        }
        let output = std::process::Command::new("tar")
            .arg("-C")
            .arg(dir.path())
            .arg(format!("--transform={expression}"))
            .args(["-cf", "-"])
            .args(names)
            .output()
            .unwrap();
        if !output.status.success() {
            return None;
        }
        let mut archive = tar::Archive::new(output.stdout.as_slice());
        let renamed = archive
            .entries()
            .unwrap()
            .map(|entry| {
                entry
                    .unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        Some(renamed)
    }

    /// Numbered matches (`s/o/0/2`) are left out: GNU tar 1.34 repeats the text before a
    /// skipped match (`foo` becomes `ffo0`), where sed, and this module, give `fo0`.
    #[test]
    fn single_and_chained_expressions_rename_as_gnu_tar_does() {
        let names = ["a/b/x.c", "foo/boo", "xaab", "aa+", "FOO"];
        for expression in [
            "s,^,pre/,S",
            r"s/\(a*\)b/<&:\1>/",
            "s/a+/X/",
            r"s/a\+/X/",
            "s/FOO/bar/i",
            "s/a/A/R",
            r"s/a/A/;s,^,pre/,;s/\.c$/.cc/",
            "s/a/A/g;s/b/B/x",
            "s;a;A;g;s/A/z/",
            "s/a/A/;",
            "s/a/A/R;s/o/O/",
            "",
        ] {
            let ours: Vec<String> = match Transform::parse(expression) {
                Ok(transform) => names.iter().map(|name| transform.apply(name)).collect(),
                Err(error) => panic!("{expression:?}: {error}"),
            };
            assert_eq!(Some(ours), gnu_tar(expression, &names), "{expression:?}");
        }
        for refused in ["s/a/A/;x", ";s/a/A/", "s/a/A/;;s/b/B/", "s/a/A/; s/b/B/"] {
            assert!(Transform::parse(refused).is_err(), "{refused:?}");
            assert_eq!(gnu_tar(refused, &names), None, "{refused:?}");
        }
    }
}
