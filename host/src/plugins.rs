//! Where plugins and playbooks come from.
//!
//! A step's `plugin` names one of:
//! - a path to a `.wasm` component (anything with a `/` or ending in `.wasm`), relative to
//!   the playbook's directory;
//! - a plugin in a `--plugin-dir` (`NAME.wasm`, `-` and `_` interchangeable); these take
//!   precedence over shipped plugins so a team can test a patched check;
//! - a shipped plugin, compiled into this binary by `build.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::playbook::validate::{ParamSpec, PluginCatalog, PluginLookup, closest};
use crate::runtime::{Plugin, PluginError, Runtime};

mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// Plugins compiled into this binary: `(name, component bytes)`.
pub fn shipped_plugins() -> &'static [(&'static str, &'static [u8])] {
    shipped::PLUGINS
}

/// Playbooks compiled into this binary: `(name, RON source)`.
pub fn shipped_playbooks() -> &'static [(&'static str, &'static str)] {
    shipped::PLAYBOOKS
}

/// Where a plugin's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into this binary.
    Shipped(&'static str),
    /// A file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Shipped(_) => f.write_str("shipped"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Find a plugin reference's bytes' origin.
pub fn resolve(reference: &str, playbook_dir: &Path, plugin_dirs: &[PathBuf]) -> Option<Origin> {
    if reference.contains('/') || reference.ends_with(".wasm") {
        let path = playbook_dir.join(reference);
        return path.is_file().then_some(Origin::File(path));
    }
    for dir in plugin_dirs {
        for name in [reference.to_owned(), reference.replace('-', "_")] {
            let path = dir.join(format!("{name}.wasm"));
            if path.is_file() {
                return Some(Origin::File(path));
            }
        }
    }
    shipped_plugins()
        .iter()
        .find(|(name, _)| *name == reference)
        .map(|(name, _)| Origin::Shipped(name))
}

/// Every plugin a playbook refers to, loaded (or the reason it could not be).
pub struct LoadedPlugins {
    /// By reference as written in the playbook.
    pub by_reference: BTreeMap<String, Result<(Origin, Plugin), String>>,
    known: Vec<String>,
}

impl LoadedPlugins {
    /// Load each distinct reference once.
    pub async fn load<'a>(
        runtime: &Runtime,
        references: impl IntoIterator<Item = &'a str>,
        playbook_dir: &Path,
        plugin_dirs: &[PathBuf],
    ) -> LoadedPlugins {
        let mut by_reference = BTreeMap::new();
        for reference in references {
            if by_reference.contains_key(reference) {
                continue;
            }
            let Some(origin) = resolve(reference, playbook_dir, plugin_dirs) else {
                continue;
            };
            let loaded = match load_origin(runtime, &origin).await {
                Ok(plugin) => Ok((origin, plugin)),
                Err(error) => Err(error),
            };
            by_reference.insert(reference.to_owned(), loaded);
        }
        LoadedPlugins {
            by_reference,
            known: known_names(plugin_dirs),
        }
    }

    /// The loaded plugin for a reference.
    pub fn get(&self, reference: &str) -> Option<&Plugin> {
        match self.by_reference.get(reference) {
            Some(Ok((_, plugin))) => Some(plugin),
            _ => None,
        }
    }

    /// Where a reference's plugin came from.
    pub fn origin(&self, reference: &str) -> Option<&Origin> {
        match self.by_reference.get(reference) {
            Some(Ok((origin, _))) => Some(origin),
            _ => None,
        }
    }
}

impl PluginCatalog for LoadedPlugins {
    fn lookup(&self, reference: &str) -> PluginLookup {
        match self.by_reference.get(reference) {
            Some(Ok((_, plugin))) => PluginLookup::Found(
                plugin
                    .info
                    .params
                    .iter()
                    .map(|p| ParamSpec {
                        name: p.name.clone(),
                        required: p.required,
                    })
                    .collect(),
            ),
            Some(Err(why)) => PluginLookup::Broken(why.clone()),
            None => PluginLookup::Missing {
                suggestions: closest(reference, self.known.iter().map(String::as_str))
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                known: self.known.clone(),
            },
        }
    }
}

/// Read and load one plugin.
pub async fn load_origin(runtime: &Runtime, origin: &Origin) -> Result<Plugin, String> {
    let describe = |e: PluginError| e.to_string();
    match origin {
        Origin::Shipped(name) => {
            let (_, bytes) = shipped_plugins()
                .iter()
                .find(|(n, _)| n == name)
                .expect("resolve only returns shipped names that exist");
            runtime.load(bytes).await.map_err(describe)
        }
        Origin::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            runtime.load(&bytes).await.map_err(describe)
        }
    }
}

/// Names of every plugin reachable by name: `--plugin-dir` files, then shipped ones.
pub fn known_names(plugin_dirs: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = plugin_dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "wasm").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.extend(shipped_plugins().iter().map(|(name, _)| (*name).to_owned()));
    names.sort();
    names.dedup();
    names
}
