//! Spread's ordered environment: `KEY: value` pairs in file order, where a key may carry
//! variants (`VAR/a,b`), and the cascade that merges levels and picks one variant.
//!
//! Values stay unevaluated here: `$VAR` and `$(HOST:...)` are resolved where a script runs.

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
