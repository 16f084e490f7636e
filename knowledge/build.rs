//! Embeds every `signatures/*.ron` file: the catalogue is whatever the directory holds, so a
//! new file (the lab-verified `lab-*.ron` ones, say) ships without touching code.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("signatures");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("knowledge/signatures/ exists")
        .map(|entry| entry.expect("readable directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".ron"))
        .collect();
    // Sorted, so the catalogue's order (and `triage list --signatures`) is stable.
    names.sort();
    let mut code = String::from(
        "/// The embedded signature files: (file name, RON source).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        println!("cargo::rerun-if-changed={}", dir.join(name).display());
        writeln!(
            code,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/signatures/{name}\"))),"
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("signature_files.rs"), code).expect("OUT_DIR is writable");
}
