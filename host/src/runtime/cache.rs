//! The compiled-component cache: Cranelift output on disk, keyed by the plugin's content
//! hash and the engine's settings, so a warm start deserializes (≈0.2 ms) instead of
//! compiling (≈125 ms per plugin).
//!
//! The cache is an optimisation, never a requirement: an unusable directory, or a stale or
//! corrupt entry, falls back to compiling.
//!
//! # Trust
//!
//! A compiled artifact is native code: wasmtime maps and runs it without validating it again.
//! Whoever can write the cache directory could replace a shipped plugin with their own code
//! (a poisoned `net-probe` once reported PASS for an unreachable server, issue 7). So the
//! cache trusts nothing it did not write itself:
//! - the directory must belong to the user running triage and must not be writable by group
//!   or others; triage creates it `0700`. Otherwise the cache is not used at all (one warning)
//!   and every plugin is compiled;
//! - each entry carries an HMAC-SHA256 over the artifact, the plugin's SHA-256 and the engine
//!   key, under a random per-user key in the directory (`key`, created `0600`, refused when
//!   others may read or write it). An entry whose MAC does not verify is never deserialized:
//!   it is reported, compiled again and replaced.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled plugins are kept.
#[derive(Debug)]
pub struct CompileCache {
    dir: PathBuf,
    /// Digest of everything in the engine configuration that makes an artifact (in)compatible.
    engine_key: String,
    /// The MAC key, or why the directory is not used.
    key: Result<MacKey, String>,
    /// What the operator should hear about, each once.
    warnings: Mutex<Vec<String>>,
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

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the per-user MAC key.
const KEY_LEN: usize = 32;
/// Bytes of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;
/// The key's file name inside the cache directory.
const KEY_FILE: &str = "key";
/// First bytes of every entry: the format, which is also part of what the MAC covers.
const MAGIC: &[u8; 16] = b"triage-cwasm-v1\n";

struct MacKey([u8; KEY_LEN]);

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key in a debug print or a panic message would be a key handed out.
        f.write_str("MacKey(…)")
    }
}

impl CompileCache {
    /// A cache in `dir` for artifacts of `engine`. Creates the directory and its key when
    /// missing; refuses (and says why, through [`CompileCache::take_warnings`]) a directory
    /// or key that others could write.
    pub fn new(dir: PathBuf, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let key = open(&dir, rustix::process::geteuid().as_raw());
        let warnings = key.as_ref().err().cloned().into_iter().collect();
        CompileCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
            key,
            warnings: Mutex::new(warnings),
        }
    }

    /// The directory entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The warnings not yet taken: a refused directory or key, tampered entries.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().expect("cache warnings"))
    }

    fn warn(&self, warning: String) {
        let mut warnings = self.warnings.lock().expect("cache warnings");
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
    }

    /// The cached component for `wasm`, compiling and storing it on a miss.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheEvent)> {
        let Ok(key) = &self.key else {
            return Component::new(engine, wasm).map(|c| (c, CacheEvent::Bypassed));
        };
        let source: [u8; 32] = Sha256::digest(wasm).into();
        let path = self.entry_path(&source);
        if let Ok(entry) = fs::read(&path) {
            match self.verified_artifact(key, &source, &entry) {
                Some(artifact) => {
                    // SAFETY: `deserialize` trusts the bytes to be wasmtime's own output for
                    // this engine. These bytes carry a valid MAC under a key only this user
                    // can read, over this plugin's hash and this engine's settings: this
                    // cache wrote them, from this plugin, for this engine. An artifact of
                    // another wasmtime build fails its compatibility check and is rebuilt.
                    #[allow(unsafe_code)]
                    if let Ok(component) = unsafe { Component::deserialize(engine, artifact) } {
                        return Ok((component, CacheEvent::Hit));
                    }
                }
                None => self.warn(format!(
                    "ignored the compiled plugin {}: it failed its integrity check, so it was \
                     not written by triage for this user and plugin (someone or something \
                     changed it). The plugin was compiled again and the entry replaced; check \
                     who else can write to {}.",
                    path.display(),
                    self.dir.display()
                )),
            }
        }
        let component = Component::new(engine, wasm)?;
        let event = match self.store(key, &source, &path, &component) {
            Ok(()) => CacheEvent::Stored,
            Err(_) => CacheEvent::Bypassed,
        };
        Ok((component, event))
    }

    fn entry_path(&self, source: &[u8; 32]) -> PathBuf {
        let content: String = source[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir
            .join(format!("{content}-{}-mac.cwasm", self.engine_key))
    }

    /// The MAC binds the artifact to the plugin it was compiled from and the engine it was
    /// compiled for, so an entry cannot be moved to another plugin's name either.
    fn mac(&self, key: &MacKey, source: &[u8; 32]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&key.0).expect("HMAC takes keys of any length");
        mac.update(MAGIC);
        mac.update(source);
        mac.update(self.engine_key.as_bytes());
        mac
    }

    /// The artifact inside `entry`, if its MAC verifies.
    fn verified_artifact<'a>(
        &self,
        key: &MacKey,
        source: &[u8; 32],
        entry: &'a [u8],
    ) -> Option<&'a [u8]> {
        let rest = entry.strip_prefix(MAGIC.as_slice())?;
        let (tag, artifact) = rest.split_at_checked(TAG_LEN)?;
        let mut mac = self.mac(key, source);
        mac.update(artifact);
        mac.verify_slice(tag).ok().map(|()| artifact)
    }

    /// Write through a private temporary file and rename, so that a concurrent `triage`
    /// never reads a half-written artifact.
    fn store(
        &self,
        key: &MacKey,
        source: &[u8; 32],
        path: &Path,
        component: &Component,
    ) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(std::io::Error::other)?;
        let mut mac = self.mac(key, source);
        mac.update(&artifact);
        let tag = mac.finalize().into_bytes();
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let written = private_file(&temporary).and_then(|mut file| {
            file.write_all(MAGIC)?;
            file.write_all(&tag)?;
            file.write_all(&artifact)
        });
        written
            .and_then(|()| fs::rename(&temporary, path))
            .inspect_err(|_| {
                let _ = fs::remove_file(&temporary);
            })
    }
}

/// A new file only its owner may read or write.
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Create (`0700`) or check the directory, then read or create its key.
fn open(dir: &Path, me: u32) -> Result<MacKey, String> {
    let unusable = |why: String| {
        format!(
            "not using the compile cache {}: {why}. Plugins are compiled on every start \
             instead (slower, equally correct).",
            dir.display()
        )
    };
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(|e| unusable(e.to_string()))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unusable(e.to_string())),
    }
    let meta = fs::metadata(dir).map_err(|e| unusable(e.to_string()))?;
    if !meta.is_dir() {
        return Err(unusable("it is not a directory".into()));
    }
    if let Some(why) = refusal(
        meta.uid(),
        meta.permissions().mode(),
        me,
        Guarded::Directory,
    ) {
        return Err(unusable(format!(
            "{why}, so others could replace a compiled plugin with their own code. Fix it \
             with `chown $(id -u) {0} && chmod 700 {0}`, or use another --cache-dir",
            dir.display()
        )));
    }
    let key_path = dir.join(KEY_FILE);
    read_or_create_key(&key_path, me).map_err(unusable)
}

/// What a path protects, which decides who else may touch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guarded {
    /// The cache directory: others must not write to it (reading is harmless).
    Directory,
    /// The MAC key: others must neither read it (they could forge entries) nor write it.
    Key,
}

/// Why a path owned by `owner` with permission bits `mode` cannot be trusted by user `me`.
fn refusal(owner: u32, mode: u32, me: u32, guarded: Guarded) -> Option<String> {
    let forbidden = match guarded {
        Guarded::Directory => 0o022,
        Guarded::Key => 0o077,
    };
    if owner != me {
        Some(format!(
            "it belongs to user {owner}, not to you (user {me})"
        ))
    } else if mode & forbidden != 0 {
        let who = match guarded {
            Guarded::Directory => "writable by other users",
            Guarded::Key => "readable or writable by other users",
        };
        Some(format!("it is {who} (mode {:04o})", mode & 0o7777))
    } else {
        None
    }
}

fn read_or_create_key(path: &Path, me: u32) -> Result<MacKey, String> {
    if let Err(e) = fs::symlink_metadata(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!("{}: {e}", path.display()));
        }
        create_key(path)?;
    }
    let meta = fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("its key {} is not a regular file", path.display()));
    }
    if let Some(why) = refusal(meta.uid(), meta.permissions().mode(), me, Guarded::Key) {
        return Err(format!(
            "its key {}: {why}; delete the key (a new one is made, and entries are compiled \
             again)",
            path.display()
        ));
    }
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
        format!(
            "its key {} is not {KEY_LEN} bytes long; delete it (a new one is made)",
            path.display()
        )
    })?;
    Ok(MacKey(key))
}

/// Make a new random key. Written to a private temporary file and hard-linked into place, so
/// that two triage processes starting together agree on one complete key.
fn create_key(path: &Path) -> Result<(), String> {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for its key: {e}"))?;
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let linked = private_file(&temporary)
        .and_then(|mut file| file.write_all(&key))
        .and_then(|()| fs::hard_link(&temporary, path));
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(()),
        // Another triage made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("creating its key {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_private_directory_and_key_of_ones_own_are_trusted() {
        assert_eq!(refusal(1000, 0o40700, 1000, Guarded::Directory), None);
        assert_eq!(refusal(1000, 0o40755, 1000, Guarded::Directory), None);
        let writable = refusal(1000, 0o40777, 1000, Guarded::Directory).unwrap();
        assert_eq!(writable, "it is writable by other users (mode 0777)");
        assert!(refusal(1000, 0o40770, 1000, Guarded::Directory).is_some());
        let foreign = refusal(0, 0o40700, 1000, Guarded::Directory).unwrap();
        assert_eq!(foreign, "it belongs to user 0, not to you (user 1000)");
        assert_eq!(refusal(1000, 0o100600, 1000, Guarded::Key), None);
        assert!(refusal(1000, 0o100640, 1000, Guarded::Key).is_some());
        assert!(refusal(1000, 0o100604, 1000, Guarded::Key).is_some());
    }

    #[test]
    fn a_new_cache_is_private_and_keeps_its_key() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("nested").join("cache");
        let me = rustix::process::geteuid().as_raw();
        let first = open(&dir, me).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let key_mode = fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(key_mode, 0o600);
        assert_eq!(open(&dir, me).unwrap().0, first.0);
    }

    #[test]
    fn an_entry_verifies_only_for_its_own_plugin_and_key() {
        let root = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompileCache::new(root.path().join("cache"), &engine);
        let key = cache.key.as_ref().unwrap();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let mut mac = cache.mac(key, &a);
        mac.update(b"artifact");
        let mut entry = MAGIC.to_vec();
        entry.extend_from_slice(&mac.finalize().into_bytes());
        entry.extend_from_slice(b"artifact");
        assert_eq!(
            cache.verified_artifact(key, &a, &entry),
            Some(b"artifact".as_slice())
        );
        assert_eq!(cache.verified_artifact(key, &b, &entry), None);
        let other_key = MacKey([9; KEY_LEN]);
        assert_eq!(cache.verified_artifact(&other_key, &a, &entry), None);
        let mut tampered = entry.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(cache.verified_artifact(key, &a, &tampered), None);
        assert_eq!(cache.verified_artifact(key, &a, b"short"), None);
    }
}
