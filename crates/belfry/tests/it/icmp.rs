//! `icmp` monitors: a ping of 127.0.0.1 when this machine allows pings, and `belfry validate`
//! rejecting icmp monitors, with what to change, for a process that may not ping.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use belfry::config;
use belfry_probe::Checkers;

#[tokio::test]
async fn loopback_is_pinged_when_the_machine_allows_it() {
    if let Err(reason) = belfry_probe::check::icmp::permitted() {
        println!("skipped: {reason}");
        return;
    }
    let yaml = "monitors:\n  - {id: lo, kind: icmp, host: 127.0.0.1, count: 3, packet_interval: 10ms, timeout: 2s}\n";
    let settings = config::load_str("t.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let spec = &settings.catalog.monitors[0];

    let obs = Checkers::new().run(&spec.check, spec.timeout).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.values["ping"]["received"], 3);
    assert!(spec.conditions.iter().all(|c| c.evaluate(&obs).ok), "the default conditions hold");
    assert!(obs.duration_ms < Duration::from_secs(1).as_millis() as u64);
}

#[test]
fn validate_says_what_to_change_when_pings_are_not_allowed() {
    // An unprivileged user without capabilities, when the tests run as root with setpriv.
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let unprivileged_pings = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").is_ok_and(|r| {
        r.split_whitespace()
            .map(|n| n.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] <= 65534 && 65534 <= w[1])
    });
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if !root || !setpriv || unprivileged_pings {
        println!(
            "skipped: needs root and setpriv to run belfry as an unprivileged user, and a ping_group_range excluding it"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("belfry.yaml");
    std::fs::write(&file, "monitors:\n  - id: gateway\n    kind: icmp\n    host: 127.0.0.1\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        .arg(env!("CARGO_BIN_EXE_belfry"))
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();

    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}:3:11: monitors[0].kind: this process may not send pings: ", file.display());
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains("which does not include this process's group 65534"), "{stderr}");
    assert!(stderr.contains("`sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`"), "{stderr}");
    assert!(stderr.contains("`setcap cap_net_raw+ep $(command -v belfry)`"), "{stderr}");
}
