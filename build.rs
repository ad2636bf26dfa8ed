//! Link-time choice that lowers the client's resident memory on Linux.
//!
//! A position-independent Rust binary carries a relocation table of about 600 KB
//! (`.rela.dyn`, mostly vtables and string tables) that the dynamic loader reads at
//! every start, so it stays resident. `-z pack-relative-relocs` (DT_RELR) stores the same
//! relocations in about 10 KB. Only glibc 2.36 and later understand it, so it is used
//! only when building natively for such a system; cross builds and older systems link
//! as before.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target == host && target.ends_with("-linux-gnu") && host_glibc_has_relr() && linker_has_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the system linker knows the option (GNU ld 2.38 and later, lld 15 and later).
fn linker_has_relr() -> bool {
    Command::new("ld")
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("pack-relative-relocs"))
}

/// Whether this machine's glibc (where the binary will run) is 2.36 or newer.
fn host_glibc_has_relr() -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else { return false };
    let text = String::from_utf8_lossy(&out.stdout);
    // "glibc 2.36"
    let Some(version) = text.split_whitespace().nth(1) else { return false };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
