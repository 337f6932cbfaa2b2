// Build script shared by every package that ships no_std binaries
// (`build = "../linker/build-bin.rs"`). The link arguments reach [[bin]]
// targets only, so library unit tests and the host test crate keep std.
fn main() {
    let ld = concat!(env!("CARGO_MANIFEST_DIR"), "/../linker/tiny.ld");
    println!("cargo:rerun-if-changed={ld}");
    println!("cargo:rerun-if-changed=../linker/build-bin.rs");
    for a in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-Wl,--gc-sections,--build-id=none,-z,norelro,--no-eh-frame-hdr",
    ] {
        println!("cargo:rustc-link-arg-bins={a}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{ld}");
    check_cross_linker();
}

/// A cross build whose linker (.cargo/config.toml) is not installed fails
/// here with one line saying what to install, not at the end with a
/// linker error.
fn check_cross_linker() {
    let (Ok(linker), Ok(target)) = (std::env::var("RUSTC_LINKER"), std::env::var("TARGET")) else { return };
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(&linker).is_file()))
        .unwrap_or(false);
    if !found && !std::path::Path::new(&linker).is_file() {
        eprintln!("error: the linker {linker} for {target} is not installed: run scripts/cross-deps (docs/architectures.md)");
        std::process::exit(1);
    }
}
