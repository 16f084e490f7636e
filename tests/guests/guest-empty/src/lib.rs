//! A valid component that exports nothing: not a check plugin.

/// Never exported to the component; the crate only needs some code.
pub fn nothing() -> u32 {
    42
}
