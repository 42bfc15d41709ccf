//! The dependency direction of STYLE.md: core imports no workspace crate; store, probe and web
//! import only core; only `belfry` wires them.

use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn workspace_crates_depend_only_in_the_allowed_direction() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: BTreeSet<String> =
        meta["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    let allowed = |from: &str, to: &str| match from {
        "belfry" => true,
        "belfry-core" => false,
        _ => to == "belfry-core",
    };
    let mut bad = vec![];
    for package in meta["packages"].as_array().unwrap() {
        let from = package["name"].as_str().unwrap();
        for dep in package["dependencies"].as_array().unwrap() {
            let to = dep["name"].as_str().unwrap();
            if members.contains(to) && !allowed(from, to) {
                bad.push(format!("{from} -> {to} ({})", dep["kind"].as_str().unwrap_or("normal")));
            }
        }
    }
    assert!(bad.is_empty(), "forbidden workspace dependency edges: {bad:?}");
    assert!(members.contains("belfry-core") && members.len() >= 5, "{members:?}");
}
