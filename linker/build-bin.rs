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
}
