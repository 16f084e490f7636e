//! The compiled-component cache: Cranelift output on disk, keyed by the plugin's content
//! hash and the engine's settings, so a warm start deserializes (≈0.2 ms) instead of
//! compiling (≈125 ms per plugin).
//!
//! The cache is an optimisation, never a requirement: an unreadable or unwritable directory,
//! or a stale or corrupt entry, falls back to compiling.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled plugins are kept.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    /// Digest of everything in the engine configuration that makes an artifact (in)compatible.
    engine_key: String,
}

/// How a component was obtained, for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEvent {
    /// Loaded from the cache.
    Hit,
    /// Compiled, then stored.
    Stored,
    /// Compiled; the cache could not be used.
    Bypassed,
}

impl CompileCache {
    /// A cache in `dir` for artifacts of `engine`.
    pub fn new(dir: PathBuf, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The directory entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cached component for `wasm`, compiling and storing it on a miss.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheEvent)> {
        let path = self.entry_path(wasm);
        if path.is_file() {
            // SAFETY: `deserialize_file` trusts the artifact to be wasmtime's own output for
            // this engine. Entries are written only by this cache, under a name that binds
            // the source hash and the engine settings; the directory belongs to the user
            // running triage. A corrupt or stale entry fails to deserialize and is rebuilt.
            #[allow(unsafe_code)]
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, CacheEvent::Hit));
            }
        }
        let component = Component::new(engine, wasm)?;
        let event = match self.store(&path, &component) {
            Ok(()) => CacheEvent::Stored,
            Err(_) => CacheEvent::Bypassed,
        };
        Ok((component, event))
    }

    fn entry_path(&self, wasm: &[u8]) -> PathBuf {
        let digest = Sha256::digest(wasm);
        let content: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir
            .join(format!("{content}-{}.cwasm", self.engine_key))
    }

    /// Write through a temporary file and rename, so that a concurrent `triage` never reads
    /// a half-written artifact.
    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }
}
