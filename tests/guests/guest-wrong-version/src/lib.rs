//! Built against `triage:plugin@9.0.0`, which no host of this version speaks.
#![allow(missing_docs, unsafe_code)]

wit_bindgen::generate!({ world: "check", path: "wit" });

struct Future;

impl Guest for Future {
    fn info() -> String {
        triage::plugin::log::log("hello from the future");
        "future".into()
    }
    fn run(_: String) -> String {
        String::new()
    }
}

export!(Future);
