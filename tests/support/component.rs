//! Hostile check components that no Rust guest can be: a Rust (LLVM) module has exactly one
//! linear memory and one table, so a plugin with many memories or tables is written here as
//! a core module in WAT and wrapped as a component of the real `check` world (sdk/wit) by
//! wit-component, as `cargo component` and wit-bindgen's tooling do. The host loads it like
//! any third-party plugin, by path. Its `run` always passes, with the summary "grew".

use std::fmt::Write as _;

use wasm_encoder::{ComponentSection, InstanceSection, Module, ModuleArg, ModuleSection};

/// Bytes of a WebAssembly page.
pub const PAGE: u32 = 64 << 10;

/// The shape of a hostile plugin: how many memories and tables it declares, how big, and what
/// `run` does with them.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostileComponent {
    /// Linear memories besides the one the canonical ABI uses.
    pub extra_memories: u32,
    /// Initial size of each extra memory, in pages.
    pub initial_pages: u32,
    /// Pages `run` grows each extra memory by, then writes a byte into every 4 KiB of them so
    /// that the host really holds the memory (untouched pages would cost nothing).
    pub grow_pages: u32,
    /// Tables besides none (a plain module needs no table).
    pub tables: u32,
    /// A parameter `info()` declares (so that a playbook may pass it); none by default.
    pub param: Option<&'static str>,
    /// Core instances of an empty module the component creates besides its own one, as it
    /// is instantiated (each costs the host a VM context outside any linear memory).
    pub extra_instances: u32,
}

impl HostileComponent {
    /// The component's bytes.
    pub fn component(&self) -> Vec<u8> {
        let mut module = wat::parse_str(self.core_wat()).expect("the hostile WAT parses");
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve
            .push_dir(super::root().join("sdk/wit"))
            .expect("sdk/wit parses");
        let world = resolve
            .select_world(&[package], Some("check"))
            .expect("the check world");
        wit_component::embed_component_metadata(
            &mut module,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
            false,
        )
        .expect("embedding the check world");
        let mut component = wit_component::ComponentEncoder::default()
            .module(&module)
            .expect("a core module of the check world")
            .validate(true)
            .encode()
            .expect("encoding the component");
        if self.extra_instances > 0 {
            // A component's sections may come in any order: an empty core module (index 1,
            // after the plugin's own), then that many instances of it.
            ModuleSection(&Module::new()).append_to_component(&mut component);
            let mut instances = InstanceSection::new();
            for _ in 0..self.extra_instances {
                instances.instantiate(1, std::iter::empty::<(&str, ModuleArg)>());
            }
            instances.append_to_component(&mut component);
        }
        component
    }

    /// The core module: the canonical ABI's memory and `cabi_realloc`, static answers for
    /// `info` and `run`, and the hostile memories and tables.
    fn core_wat(&self) -> String {
        let mut declarations = String::new();
        let mut grow_and_touch = String::new();
        for m in 1..=self.extra_memories {
            writeln!(declarations, "(memory $m{m} {})", self.initial_pages).unwrap();
            if self.grow_pages > 0 {
                let end = (self.initial_pages + self.grow_pages) * PAGE;
                write!(
                    grow_and_touch,
                    "(if (i32.eq (memory.grow $m{m} (i32.const {pages})) (i32.const -1))
                        (then unreachable))
                     (local.set $at (i32.const 0))
                     (loop $touch{m}
                        (i32.store8 $m{m} (local.get $at) (i32.const 1))
                        (local.set $at (i32.add (local.get $at) (i32.const 4096)))
                        (br_if $touch{m} (i32.lt_u (local.get $at) (i32.const {end}))))\n",
                    pages = self.grow_pages
                )
                .unwrap();
            }
        }
        for t in 1..=self.tables {
            writeln!(declarations, "(table $t{t} 1 funcref)").unwrap();
        }
        // params: list<param>, each param { name: string, help: string, required: bool }.
        let (param_name, params) = match self.param {
            Some(name) => {
                assert!(name.len() <= 48 && name.is_ascii() && !name.contains(['"', '\\']));
                let len = name.len();
                let param = format!(
                    r#"(data (i32.const 160) "\50\00\00\00\{len:02x}\00\00\00" "\80\00\00\00\03\00\00\00" "\00")"#
                );
                (
                    format!("(data (i32.const 80) \"{name}\") {param}"),
                    r"\a0\00\00\00\01\00\00\00",
                )
            }
            None => (String::new(), r"\00\00\00\00\00\00\00\00"),
        };
        format!(
            r#"(module
  (memory (export "memory") 1)
  {declarations}
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $at) (local.get 3)))
    (local.get $at))
  (data (i32.const 16) "hostile")
  (data (i32.const 32) "0.1.0")
  (data (i32.const 48) "many memories")
  (data (i32.const 64) "grew")
  (data (i32.const 128) "any")
  {param_name}
  ;; plugin-info: name, version, description (ptr, len), params (ptr, len), needs (empty)
  (data (i32.const 256)
    "\10\00\00\00\07\00\00\00" "\20\00\00\00\05\00\00\00" "\30\00\00\00\0d\00\00\00"
    "{params}" "\00\00\00\00\00\00\00\00")
  ;; result<report, run-error>: ok; report: status pass, summary "grew", no findings, no facts
  (data (i32.const 512)
    "\00\00\00\00" "\00\00\00\00" "\40\00\00\00\04\00\00\00"
    "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00")
  (func (export "info") (result i32) (i32.const 256))
  (func (export "run") (param i32 i32) (result i32)
    (local $at i32)
    {grow_and_touch}
    (i32.const 512))
)"#
        )
    }
}
