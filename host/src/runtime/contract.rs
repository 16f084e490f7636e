//! Is this component a check plugin this host can run? Checked before instantiation, so a
//! plugin built for another contract version gets a message naming both versions instead of
//! a linker error about a missing import.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;
use crate::wit::{WIT_PACKAGE, WIT_VERSION};

/// The layer/version field of a binary: core modules and components differ here.
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// Refuse bytes that are not a component before handing them to Cranelift.
pub fn check_bytes(wasm: &[u8]) -> Result<(), PluginError> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(PluginError::NotWasm);
    }
    if wasm[4..8] == CORE_MODULE_VERSION {
        return Err(PluginError::CoreModule);
    }
    Ok(())
}

/// Compare the contract versions a component imports with ours, and check its exports.
pub fn check_component(engine: &Engine, component: &Component) -> Result<(), PluginError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        let Some(rest) = name.strip_prefix(WIT_PACKAGE) else {
            continue;
        };
        let Some((_, version)) = rest.split_once('@') else {
            continue;
        };
        if !compatible(version, WIT_VERSION) {
            return Err(PluginError::IncompatibleVersion {
                plugin: version.to_owned(),
                host: WIT_VERSION.to_owned(),
            });
        }
    }
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let missing: Vec<String> = ["info", "run"]
        .into_iter()
        .filter(|needed| !exports.contains(needed))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(PluginError::NotACheck { missing });
    }
    Ok(())
}

/// Semver compatibility as Cargo reads it: same major version, or for `0.x`, same minor.
fn compatible(plugin: &str, host: &str) -> bool {
    fn track(version: &str) -> Option<(u64, u64)> {
        let mut parts = version.split(['.', '-', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(if major == 0 { (0, minor) } else { (major, 0) })
    }
    matches!((track(plugin), track(host)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_follows_semver_tracks() {
        assert!(compatible("0.1.0", "0.1.3"));
        assert!(!compatible("0.2.0", "0.1.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("2.0.0", "1.0.0"));
        assert!(!compatible("garbage", "0.1.0"));
    }

    #[test]
    fn non_components_are_named() {
        assert!(matches!(check_bytes(b"hello"), Err(PluginError::NotWasm)));
        assert!(matches!(
            check_bytes(b"\0asm\x01\0\0\0"),
            Err(PluginError::CoreModule)
        ));
        assert!(check_bytes(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
