//! Spread's ordered environment: `KEY: value` pairs in file order, where a key may carry
//! variants (`VAR/a,b`), and the cascade that merges levels and picks one variant.
//!
//! Values stay unevaluated here: `$VAR` and `$(HOST:...)` are resolved where a script runs.
//! The exception is the project keys used on the host (`path`, `include`, `exclude`,
//! `rename`): `expand_project_fields` expands their `$VAR`/`${VAR}` from the project
//! environment, as spread does before packing.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::project::Project;

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
        "spread.yaml key {key}: {value:?} needs command substitution through {source_key}, which this runner does not evaluate on the host; give {source_key} a plain value"
    )]
    Command {
        key: String,
        value: String,
        source_key: String,
    },
}

/// A copy of `project` with `$VAR`/`${VAR}` in `path`, `include`, `exclude` and `rename`
/// replaced by the project environment's plain values (spread's evaluation order: a value sees
/// only variables defined before it, unknown ones being empty). A reference to an undefined
/// variable, or to one whose value needs `$(...)`, is refused.
pub fn expand_project_fields(project: &Project) -> Result<Project, ExpandError> {
    let values = plain_values(&project.environment);
    let expand_list = |key: &str, list: &[String]| -> Result<Vec<String>, ExpandError> {
        list.iter().map(|item| expand(&values, key, item)).collect()
    };
    Ok(Project {
        path: expand(&values, "path", &project.path)?,
        include: expand_list("include", &project.include)?,
        exclude: expand_list("exclude", &project.exclude)?,
        rename: expand_list("rename", &project.rename)?,
        ..project.clone()
    })
}

/// A project variable's value as evaluated on the host.
enum HostValue {
    Plain(String),
    /// Needs `$(...)`, directly or through the named variable.
    NeedsCommand(String),
}

fn plain_values(environment: &Environment) -> HashMap<&str, HostValue> {
    let mut values: HashMap<&str, HostValue> = HashMap::new();
    for (key, value) in environment.entries() {
        if key.contains('/') {
            continue;
        }
        let evaluated = if value.contains("$(") {
            HostValue::NeedsCommand(key.clone())
        } else {
            let mut needs_command = None;
            let text = VARIABLE_REFERENCE.replace_all(value, |refs: &Captures| {
                match values.get(referenced_name(refs)) {
                    Some(HostValue::Plain(text)) => text.clone(),
                    Some(HostValue::NeedsCommand(source)) => {
                        needs_command.get_or_insert_with(|| source.clone());
                        String::new()
                    }
                    None => String::new(),
                }
            });
            match needs_command {
                Some(source) => HostValue::NeedsCommand(source),
                None => HostValue::Plain(text.into_owned()),
            }
        };
        values.insert(key, evaluated);
    }
    values
}

fn expand(
    values: &HashMap<&str, HostValue>,
    key: &str,
    value: &str,
) -> Result<String, ExpandError> {
    if value.contains("$(") {
        return Err(ExpandError::Command {
            key: key.to_owned(),
            value: value.to_owned(),
            source_key: key.to_owned(),
        });
    }
    let mut failure = None;
    let text = VARIABLE_REFERENCE.replace_all(value, |refs: &Captures| {
        let name = referenced_name(refs);
        match values.get(name) {
            Some(HostValue::Plain(text)) => text.clone(),
            Some(HostValue::NeedsCommand(source)) => {
                failure.get_or_insert_with(|| ExpandError::Command {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    source_key: source.clone(),
                });
                String::new()
            }
            None => {
                failure.get_or_insert_with(|| ExpandError::Undefined {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    name: name.to_owned(),
                });
                String::new()
            }
        }
    });
    match failure {
        Some(error) => Err(error),
        None => Ok(text.into_owned()),
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
        expand(&plain_values(&environment(pairs)), "rename", value)
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
    fn command_substitution_is_refused_naming_the_key_that_needs_it() {
        let pairs = [("CMD", "$(HOST:echo x)"), ("USES", "a-$CMD")];
        let text = expanded(&pairs, "$USES").unwrap_err().to_string();
        assert!(
            text.contains("rename") && text.contains("through CMD"),
            "{text}"
        );
        let text = expanded(&[], "$(HOST:true)").unwrap_err().to_string();
        assert!(text.contains("through rename"), "{text}");
    }
}
