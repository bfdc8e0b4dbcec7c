//! Spread's ordered environment: `KEY: value` pairs in file order, where a key may carry
//! variants (`VAR/a,b`), and the cascade that merges levels and picks one variant.
//!
//! Values stay unevaluated here: `$VAR` and `$(HOST:...)` are resolved where a script runs.
//! The exception is the project keys used on the host (`path`, `include`, `exclude`,
//! `rename`): `expand_project_fields` expands their `$VAR`/`${VAR}` from the project
//! environment and runs the `$(HOST:...)` commands they need, as spread does before packing.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::project::Project;
use crate::script::{HostError, HostEvaluator, Piece, host_pieces};

/// `$NAME` or `${NAME}`, the references spread expands on the host.
static VARIABLE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
        .expect("valid variable reference pattern")
});

/// One level's environment, in definition order. Keys are `NAME` or `NAME/v1,v2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    entries: Vec<(String, String)>,
}

impl Environment {
    /// Builds an environment from pairs already validated by the loader.
    pub fn from_pairs(entries: Vec<(String, String)>) -> Self {
        Self { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `(key, value)` pairs in definition order, keys possibly carrying `/variants`.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// Every variant name mentioned by a `VAR/a,b` key, in first-seen order.
    pub fn variants(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter_map(|(key, _)| split_variants(key).1)
            .flat_map(|variants| variants.split(','))
    }
}

/// Splits `VAR/a,b` into `("VAR", Some("a,b"))` at the last `/`, as spread does.
pub fn split_variants(key: &str) -> (&str, Option<&str>) {
    match key.rfind('/') {
        Some(at) => (&key[..at], Some(&key[at + 1..])),
        None => (key, None),
    }
}

/// The environment a job sees: `levels` (project, backend, system, suite, task) merged in
/// order, then narrowed to `variant`, with spread's exact ordering rules:
/// - a key defined again at a later level moves to the end with the later value;
/// - `VAR/a,b` keys become `VAR` for variants `a` and `b` (taking the position of the
///   variant key and dropping any plain `VAR`, wherever defined) and vanish otherwise.
pub fn cascade<'a>(
    levels: impl IntoIterator<Item = &'a Environment>,
    variant: Option<&str>,
) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for level in levels {
        for (key, value) in &level.entries {
            merged.retain(|(existing, _)| existing != key);
            merged.push((key.clone(), value.clone()));
        }
    }
    let variant = variant.unwrap_or("");
    let variant_keys: Vec<String> = merged
        .iter()
        .filter(|(key, _)| key.contains('/'))
        .map(|(key, _)| key.clone())
        .collect();
    for key in variant_keys {
        let (name, variants) = split_variants(&key);
        let selected = variants.is_some_and(|list| list.split(',').any(|v| v == variant));
        if selected {
            merged.retain(|(existing, _)| existing != name);
            if let Some(entry) = merged.iter_mut().find(|(existing, _)| *existing == key) {
                entry.0 = name.to_string();
            }
        } else {
            merged.retain(|(existing, _)| *existing != key);
        }
    }
    merged
}

/// A project key used on the host could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error(
        "spread.yaml key {key}: {value:?} refers to ${name}, which the project environment does not define; define {name} under the project's environment: or drop the reference"
    )]
    Undefined {
        key: String,
        value: String,
        name: String,
    },
    #[error(
        "spread.yaml key {key}: {value:?} needs command substitution through {source_key}, which only a test system could run; give {source_key} a plain value, or $(HOST:...) to run the command on this machine"
    )]
    Command {
        key: String,
        value: String,
        source_key: String,
    },
    #[error("spread.yaml key {key}: {value:?} needs a host command that failed: {error}")]
    Host {
        key: String,
        value: String,
        error: Box<HostError>,
    },
}

/// A copy of `project` with `path`, `include`, `exclude` and `rename` as spread sends them:
/// `$VAR`/`${VAR}` replaced by the project environment's values and each `$(HOST:cmd)` by the
/// output of `cmd` run with bash on this machine through `host` (unquoted, trailing newlines
/// removed). Only the variables these keys refer to are evaluated, each in spread's order (a
/// value sees only variables defined before it, unknown ones being empty). A reference to an
/// undefined variable, or to one needing a `$(...)` that is not `$(HOST:...)`, is refused, and
/// so is a failing host command.
pub fn expand_project_fields(
    project: &Project,
    host: &HostEvaluator,
) -> Result<Project, ExpandError> {
    let mut values = HostValues::new(&project.environment, host);
    Ok(Project {
        path: values.field("path", &project.path)?,
        include: values.fields("include", &project.include)?,
        exclude: values.fields("exclude", &project.exclude)?,
        rename: values.fields("rename", &project.rename)?,
        ..project.clone()
    })
}

/// The project variables as the host sees them, each evaluated when first referenced (so a
/// run does not depend on host commands that the keys it expands never use).
struct HostValues<'a> {
    /// Plain variables in definition order; `VAR/variant` keys name nothing on the host.
    entries: Vec<(&'a str, &'a str)>,
    /// The value of each entry once evaluated.
    evaluated: Vec<Option<String>>,
    host: &'a HostEvaluator,
}

/// The project key being expanded, which every error names.
#[derive(Clone, Copy)]
struct Field<'f> {
    key: &'f str,
    value: &'f str,
}

/// What a value being expanded may refer to.
#[derive(Clone, Copy)]
enum Scope {
    /// A project key: every variable; an undefined one is an error.
    Field,
    /// The variable at this index: those defined before it; an unknown one is empty.
    Variable(usize),
}

impl<'a> HostValues<'a> {
    fn new(environment: &'a Environment, host: &'a HostEvaluator) -> Self {
        let entries: Vec<_> = environment
            .entries()
            .iter()
            .filter(|(key, _)| !key.contains('/'))
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        Self {
            evaluated: vec![None; entries.len()],
            entries,
            host,
        }
    }

    fn fields(&mut self, key: &str, values: &[String]) -> Result<Vec<String>, ExpandError> {
        values.iter().map(|value| self.field(key, value)).collect()
    }

    fn field(&mut self, key: &str, value: &str) -> Result<String, ExpandError> {
        self.substitute(Field { key, value }, Scope::Field)
    }

    /// The value `scope` names, with its `$(HOST:...)` run and its references replaced in one
    /// pass: neither a command's text nor its output is expanded again.
    fn substitute(&mut self, field: Field, scope: Scope) -> Result<String, ExpandError> {
        let (owner, value, visible) = match scope {
            Scope::Field => (field.key, field.value, self.entries.len()),
            Scope::Variable(index) => (self.entries[index].0, self.entries[index].1, index),
        };
        let host_failed = |error| ExpandError::Host {
            key: field.key.to_owned(),
            value: field.value.to_owned(),
            error: Box::new(error),
        };
        let mut text = String::new();
        for piece in host_pieces(owner, value).map_err(host_failed)? {
            let literal = match piece {
                Piece::Host(command) => {
                    text.push_str(&self.host.output(owner, command).map_err(host_failed)?);
                    continue;
                }
                Piece::Text(literal) => literal,
            };
            if literal.contains("$(") {
                return Err(ExpandError::Command {
                    key: field.key.to_owned(),
                    value: field.value.to_owned(),
                    source_key: owner.to_owned(),
                });
            }
            let mut last = 0;
            for refs in VARIABLE_REFERENCE.captures_iter(literal) {
                let whole = refs.get(0).expect("group 0 always matches");
                text.push_str(&literal[last..whole.start()]);
                last = whole.end();
                let name = referenced_name(&refs);
                match self.entries[..visible]
                    .iter()
                    .rposition(|(key, _)| *key == name)
                {
                    Some(index) => text.push_str(&self.variable(field, index)?),
                    None if matches!(scope, Scope::Field) => {
                        return Err(ExpandError::Undefined {
                            key: field.key.to_owned(),
                            value: field.value.to_owned(),
                            name: name.to_owned(),
                        });
                    }
                    None => {}
                }
            }
            text.push_str(&literal[last..]);
        }
        Ok(text)
    }

    /// The evaluated value of entry `index`; it refers only to earlier entries, so this
    /// recursion ends.
    fn variable(&mut self, field: Field, index: usize) -> Result<String, ExpandError> {
        if let Some(text) = &self.evaluated[index] {
            return Ok(text.clone());
        }
        let text = self.substitute(field, Scope::Variable(index))?;
        self.evaluated[index] = Some(text.clone());
        Ok(text)
    }
}

fn referenced_name<'t>(refs: &Captures<'t>) -> &'t str {
    refs.get(1)
        .or_else(|| refs.get(2))
        .map_or("", |name| name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn expanded(pairs: &[(&str, &str)], value: &str) -> Result<String, ExpandError> {
        let environment = environment(pairs);
        HostValues::new(&environment, &HostEvaluator::default()).field("rename", value)
    }

    #[test]
    fn plain_and_braced_references_expand_through_earlier_values() {
        let pairs = [
            ("REF", "08dbc8b"),
            ("PREFIX", "spread-$REF/"),
            ("PATH", "/x/bin:$PATH"),
        ];
        assert_eq!(
            expanded(&pairs, "s,^,$PREFIX,S").unwrap(),
            "s,^,spread-08dbc8b/,S"
        );
        assert_eq!(expanded(&pairs, "${REF}x$").unwrap(), "08dbc8bx$");
        // As in spread, a value sees only variables defined before it; others are empty.
        assert_eq!(expanded(&pairs, "$PATH").unwrap(), "/x/bin:");
    }

    #[test]
    fn an_undefined_reference_is_refused_with_key_and_name() {
        let error = expanded(&[("VAR/a", "1")], "s,^,$VAR,").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("rename") && text.contains("$VAR"), "{text}");
    }

    #[test]
    fn host_commands_give_their_output_unquoted_and_unexpanded() {
        let pairs = [
            ("PROJECT_ONLY", "v1"),
            // $PROJECT_ONLY inside the command is bash's on the host, not the project's.
            (
                "DIR",
                "$(HOST:echo \"<$PROJECT_ONLY>\"; printf '$PROJECT_ONLY\\n\\n')",
            ),
            ("USES", "$PROJECT_ONLY-$DIR"),
        ];
        assert_eq!(expanded(&pairs, "$USES").unwrap(), "v1-<>\n$PROJECT_ONLY");
        assert_eq!(
            expanded(&pairs, "s,^,$(HOST:echo pre)/,").unwrap(),
            "s,^,pre/,"
        );
    }

    #[test]
    fn only_the_variables_referred_to_are_evaluated() {
        let pairs = [("BROKEN", "$(HOST:exit 1)"), ("FINE", "ok")];
        assert_eq!(expanded(&pairs, "$FINE").unwrap(), "ok");
    }

    #[test]
    fn a_failing_host_command_is_refused_naming_key_variable_and_command() {
        let pairs = [
            ("BROKEN", "$(HOST:echo no such cache >&2; exit 4)"),
            ("USES", "x/$BROKEN"),
        ];
        let error = expanded(&pairs, "s,^,$USES,").unwrap_err();
        assert!(matches!(&error, ExpandError::Host { error, .. } if error.variable == "BROKEN"));
        insta::assert_snapshot!(error, @r#"spread.yaml key rename: "s,^,$USES," needs a host command that failed: cannot evaluate $(HOST:...) in BROKEN, command `echo no such cache >&2; exit 4`: bash ended with exit status: 4, stderr: no such cache"#);
    }

    #[test]
    fn command_substitution_for_the_test_system_is_refused_naming_the_key_that_needs_it() {
        let pairs = [("CMD", "$(date)"), ("USES", "a-$CMD")];
        let text = expanded(&pairs, "$USES").unwrap_err().to_string();
        assert!(
            text.contains("rename") && text.contains("through CMD"),
            "{text}"
        );
        let text = expanded(&[], "$(true)").unwrap_err().to_string();
        assert!(text.contains("through rename"), "{text}");
    }
}
