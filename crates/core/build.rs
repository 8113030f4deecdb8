//! Compiles the small C shim over Debian's LibRaw (`libraw-dev`) that reads
//! camera RAW files: see csrc/raw_shim.c and src/decode/raw.rs.

fn main() {
    println!("cargo:rerun-if-changed=csrc/raw_shim.c");
    // The thread-safe build: photos are decoded on several threads at once.
    let libraw = pkg_config::Config::new()
        .atleast_version("0.20")
        .probe("libraw_r")
        .expect("LibRaw is needed to read camera RAW files: install Debian's libraw-dev (scripts/setup-system does)");
    let mut build = cc::Build::new();
    build.file("csrc/raw_shim.c").warnings(true);
    for path in &libraw.include_paths {
        build.include(path);
    }
    build.compile("photofinder_raw_shim");
}
