//! The YAML shapes of spread.yaml and task.yaml exactly as written, for serde: every key spread
//! accepts (plus our docker system keys) and nothing else. Validation and defaults happen when
//! these become the model types (`project::convert`), not here.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawProject {
    pub project: String,
    pub path: String,
    #[serde(default)]
    pub environment: RawEnvironment,
    #[serde(default)]
    pub variants: Vec<String>,
    #[serde(default)]
    pub backends: OrderedMap<Option<RawBackend>>,
    #[serde(default)]
    pub suites: OrderedMap<Option<RawSuite>>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub rename: Vec<String>,
    pub repack: Option<String>,
    pub prepare: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    pub prepare_each: Option<String>,
    pub restore_each: Option<String>,
    pub debug_each: Option<String>,
    pub kill_timeout: Option<String>,
    pub warn_timeout: Option<String>,
    pub priority: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBackend {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub systems: Vec<RawSystem>,
    #[serde(default)]
    pub environment: RawEnvironment,
    #[serde(default)]
    pub variants: Vec<String>,
    pub prepare: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    pub prepare_each: Option<String>,
    pub restore_each: Option<String>,
    pub debug_each: Option<String>,
    pub kill_timeout: Option<String>,
    pub warn_timeout: Option<String>,
    pub halt_timeout: Option<String>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub manual: bool,
    pub allocate: Option<String>,
    pub discard: Option<String>,
    pub key: Option<String>,
    pub location: Option<String>,
    pub plan: Option<String>,
    pub memory: Option<String>,
    pub storage: Option<String>,
    pub cpu_family: Option<String>,
}

/// A `systems:` entry: a bare name, or a one-key map `name: {settings}`.
#[derive(Debug)]
pub struct RawSystem {
    pub name: String,
    pub settings: RawSystemSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSystemSettings {
    pub image: Option<String>,
    pub workers: Option<u32>,
    pub username: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub environment: RawEnvironment,
    #[serde(default)]
    pub variants: Vec<String>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub manual: bool,
    // docker (our extension)
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub read_only_paths: Vec<String>,
    #[serde(default)]
    pub tmpfs: Vec<String>,
    // spread's VM and cloud backends
    pub kernel: Option<String>,
    pub storage: Option<String>,
    pub plan: Option<String>,
    pub bios: Option<String>,
    pub cpu_family: Option<String>,
    #[serde(default)]
    pub secure_boot: bool,
    #[serde(default)]
    pub attach_service_account: bool,
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSuite {
    pub summary: Option<String>,
    #[serde(default)]
    pub environment: RawEnvironment,
    #[serde(default)]
    pub variants: Vec<String>,
    #[serde(default)]
    pub systems: Vec<String>,
    #[serde(default)]
    pub backends: Vec<String>,
    pub prepare: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    pub prepare_each: Option<String>,
    pub restore_each: Option<String>,
    pub debug_each: Option<String>,
    pub kill_timeout: Option<String>,
    pub warn_timeout: Option<String>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub manual: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTask {
    pub summary: Option<String>,
    pub details: Option<String>,
    #[serde(default)]
    pub environment: RawEnvironment,
    #[serde(default)]
    pub variants: Vec<String>,
    #[serde(default)]
    pub systems: Vec<String>,
    #[serde(default)]
    pub backends: Vec<String>,
    pub prepare: Option<String>,
    pub execute: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    #[serde(default)]
    pub artifacts: Vec<String>,
    pub samples: Option<u32>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub kill_timeout: Option<String>,
    pub warn_timeout: Option<String>,
    pub priority: Option<i64>,
    #[serde(default)]
    pub manual: bool,
}

/// A YAML mapping kept in file order, duplicates included (the converter reports them).
#[derive(Debug)]
pub struct OrderedMap<T>(pub Vec<(String, T)>);

impl<T> Default for OrderedMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, T>()? {
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_any(OrderedVisitor(PhantomData))
    }
}

/// An `environment:` mapping in file order; values are any scalar, kept as written
/// (`SNAPD_DEBUG: 0` is `"0"`, an empty value or `~` is `""`), as spread reads them.
#[derive(Debug, Default)]
pub struct RawEnvironment(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawEnvironment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let OrderedMap(entries) = OrderedMap::<Option<String>>::deserialize(deserializer)?;
        Ok(RawEnvironment(
            entries
                .into_iter()
                .map(|(key, value)| (key, value.unwrap_or_default()))
                .collect(),
        ))
    }
}

impl<'de> Deserialize<'de> for RawSystem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SystemVisitor;
        impl<'de> Visitor<'de> for SystemVisitor {
            type Value = RawSystem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a system name or a one-key map `name: {settings}`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawSystem, E> {
                Ok(RawSystem {
                    name: name.to_string(),
                    settings: RawSystemSettings::default(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSystem, A::Error> {
                let Some((name, settings)) =
                    map.next_entry::<String, Option<RawSystemSettings>>()?
                else {
                    return Err(de::Error::custom("empty system entry"));
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "system entry `{name}` has a second key `{extra}`; \
                         write one `- name: {{settings}}` item per system"
                    )));
                }
                Ok(RawSystem {
                    name,
                    settings: settings.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_any(SystemVisitor)
    }
}
