//! `rename:` entries: GNU tar `--transform` sed expressions (`s/regex/replacement/flags`,
//! any delimiter) applied to every archive member name.
//!
//! As in tar, the regex is a POSIX basic one unless the `x` flag asks for an extended one;
//! the replacement knows `&` and `\1`..`\9`; flags are `g`, `i`, `x`, a number N (replace
//! the Nth match), and tar's scope flags `r`/`R` (do/don't rename regular members) and
//! `s`/`S`, `h`/`H` (symlink and hard-link targets, which are sent as they are).

use regex::{Captures, Regex, RegexBuilder};

/// One parsed `rename:` entry.
#[derive(Debug, Clone)]
pub struct Transform {
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

impl Transform {
    /// Parses `expression`, or says what is wrong with it.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let mut chars = expression.chars();
        if chars.next() != Some('s') {
            return Err("a rename expression starts with s, as in s,^,prefix/,".into());
        }
        let delimiter = chars
            .next()
            .ok_or("the expression ends after s; expected s/regex/replacement/")?;
        let rest: String = chars.collect();
        let (pattern, rest) = split_at_delimiter(&rest, delimiter)
            .ok_or("the regex is not terminated by the delimiter")?;
        let (replacement, flags) = split_at_delimiter(rest, delimiter)
            .ok_or("the replacement is not terminated by the delimiter")?;
        let mut transform = Transform {
            regex: Regex::new("").expect("empty regex"),
            replacement: parse_replacement(&replacement),
            occurrence: 1,
            global: false,
            names: true,
        };
        let (mut extended, mut ignore_case, mut number) = (false, false, String::new());
        for flag in flags.chars() {
            match flag {
                'g' => transform.global = true,
                'i' => ignore_case = true,
                'x' => extended = true,
                'r' => transform.names = true,
                'R' => transform.names = false,
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
            transform.occurrence = match number.parse() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("the match number {number} must be 1 or more")),
            };
        }
        let pattern = if extended {
            pattern
        } else {
            basic_to_extended(&pattern)
        };
        transform.regex = RegexBuilder::new(&pattern)
            .case_insensitive(ignore_case)
            .build()
            .map_err(|error| format!("invalid regex: {error}"))?;
        Ok(transform)
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
        ] {
            let error = Transform::parse(expression).unwrap_err();
            assert!(error.contains(why), "{expression}: {error}");
        }
    }
}
