//! What triage knows about Kafka, as data: the cause keys findings are ranked by, and the
//! catalogue of log signatures — the wordings Kafka brokers, controllers and clients write
//! when something fails, each with its meaning, cause, severity, fix and the source class it
//! comes from.
//!
//! # Layout
//!
//! - [`cause`]: the one definition of the cause keys (the SDK re-exports it as
//!   `triage_sdk::cause`), with [`cause::ALL`] and the rule for a team's own keys.
//! - [`Signature`], [`parse`]: one catalogue entry and the reader of a signature file, with
//!   file:line:column errors.
//! - [`catalogue`]: every `knowledge/signatures/*.ron` file, embedded at build time.
//!
//! Regexes are not compiled here: this crate is compiled into every wasm plugin and stays
//! light (serde + ron). The host compiles them for the scan and for `triage validate`.

pub mod cause;
mod signature;

use std::sync::OnceLock;

pub use signature::{
    Component, EntryPositions, Field, ParseError, Position, Problem, Severity, Signature,
    SignatureFile, parse,
};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/signature_files.rs"));
}

/// The embedded signature files: (file name, RON source).
pub fn files() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

/// The shipped catalogue: every entry of every embedded file, in file-name then file order.
///
/// # Panics
///
/// If an embedded file does not parse, or two files share an id. The catalogue is compiled
/// in, so this is a build defect, not an operator's input: the crate's tests
/// (`the_catalogue_parses_...`) fail on it before it can ship.
pub fn catalogue() -> &'static [Signature] {
    static CATALOGUE: OnceLock<Vec<Signature>> = OnceLock::new();
    CATALOGUE.get_or_init(|| match load_catalogue() {
        Ok(signatures) => signatures,
        Err(error) => panic!("the embedded signature catalogue is broken:\n{error}"),
    })
}

/// Parse every embedded file, checking ids are unique across files too.
pub fn load_catalogue() -> Result<Vec<Signature>, ParseError> {
    let mut all: Vec<Signature> = Vec::new();
    let mut problems = Vec::new();
    let mut owner: std::collections::BTreeMap<String, String> = Default::default();
    for (name, text) in files() {
        let file_name = format!("knowledge/signatures/{name}");
        match parse(&file_name, text) {
            Ok(file) => {
                for (index, signature) in file.signatures.iter().enumerate() {
                    if let Some(first) = owner.insert(signature.id.clone(), file_name.clone()) {
                        problems.push(file.problem(
                            index,
                            Field::Id,
                            format!("id `{}` is already used in {first}", signature.id),
                        ));
                    }
                }
                all.extend(file.signatures);
            }
            Err(error) => problems.extend(error.problems),
        }
    }
    if problems.is_empty() {
        Ok(all)
    } else {
        Err(ParseError { problems })
    }
}
