//! tauri-build for the desktop shell.
//!
//! The configuration lives at the repository's top level (`../tauri.conf.json`, as the
//! design's layout has it) rather than in `src-tauri/`: `Attributes::config_path` points
//! tauri-build at it, and `tauri::generate_context!("../tauri.conf.json")` in main.rs reads
//! the same file, so there is one config and no copy or symlink to keep in sync. Paths in it
//! (the icons under `assets/icons/`) are relative to the repository root.
//!
//! The window is not declared in the config: main.rs opens it on the workbench URL, which is
//! only known once the engine has bound its port. No `frontendDist` either: the UI is served
//! by the engine's workbench port, the same way a browser gets it, not embedded in the binary.

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../assets/icons");
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build");
}
