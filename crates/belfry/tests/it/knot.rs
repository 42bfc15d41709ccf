//! A real authoritative DNS server for the tests: Knot DNS (`knotd`, Debian's `knot` package)
//! started as a child process on a loopback address and a port chosen at run time, with its
//! config, zone file, storage and control socket in a temp dir. Records change at run time with
//! `knotc zone-begin / zone-set / zone-unset / zone-commit`, as an operator would.

use std::net::{IpAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The zone every test server serves; `{extra}` is replaced by per-server records.
const ZONE: &str = r#"$ORIGIN example.test.
$TTL 300
@    SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@    NS  ns1
@    NS  ns2
ns1  A   127.0.0.1
ns2  A   127.0.0.2
mail A   192.0.2.25
@    MX  10 mail
www  TXT "belfry test"
{extra}
"#;

pub const ZONE_NAME: &str = "example.test";

/// A zone every test server is configured for but cannot load (its file is not a zone), so it
/// answers SERVFAIL for names in it.
pub const BROKEN_ZONE_NAME: &str = "broken.test";

/// Why Knot cannot run here (not installed), for tests to print and skip; `None` when it can.
/// Under `scripts/test` (which installs Knot and sets `BELFRY_TEST_REQUIRE_KNOT`) a missing Knot
/// is a failure, so a broken install cannot turn the DNS tests into silent skips.
pub fn unavailable() -> Option<String> {
    let found =
        |bin: &str| Command::new(bin).arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if found("knotd") && found("knotc") {
        return None;
    }
    let reason = "knotd/knotc not found: install Debian's `knot` package (scripts/test does)";
    assert!(std::env::var_os("BELFRY_TEST_REQUIRE_KNOT").is_none(), "{reason}");
    Some(reason.to_owned())
}

/// One running `knotd`.
pub struct Knot {
    child: Child,
    conf: PathBuf,
    dir: tempfile::TempDir,
    pub ip: IpAddr,
    pub port: u16,
}

impl Knot {
    /// Serves `example.test` on `ip`:`port` with the common records plus `extra` (zone-file
    /// lines), and waits until it answers.
    pub fn start(ip: &str, port: u16, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("example.test.zone"), ZONE.replace("{extra}", extra)).unwrap();
        std::fs::write(dir.path().join(format!("{BROKEN_ZONE_NAME}.zone")), "this is not a zone file\n")
            .unwrap();
        let conf = dir.path().join("knot.conf");
        std::fs::write(
            &conf,
            format!(
                "server:\n    rundir: \"{d}\"\n    user: {user}\n    listen: [ {ip}@{port} ]\n\
                 log:\n  - target: stderr\n    any: info\n\
                 database:\n    storage: \"{d}\"\n\
                 control:\n    listen: \"{d}/knot.sock\"\n\
                 template:\n  - id: default\n    storage: \"{d}\"\n    file: \"%s.zone\"\n    zonefile-sync: -1\n\
                 zone:\n  - domain: {ZONE_NAME}\n  - domain: {BROKEN_ZONE_NAME}\n",
                user = current_user(),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("knotd.log")).unwrap();
        let child = Command::new("knotd")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("knotd starts (install Debian's `knot` package)");
        let mut knot = Self { child, conf, dir, ip: ip.parse().unwrap(), port };
        knot.wait_ready();
        knot
    }

    /// `127.0.0.1:5353`, as a `servers` entry.
    pub fn server(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Replaces the records of `owner` (relative to the zone) and `rtype` with `data`.
    pub fn set(&self, owner: &str, rtype: &str, data: &str) {
        self.transaction(&[
            &["zone-unset", ZONE_NAME, owner, rtype],
            &["zone-set", ZONE_NAME, owner, "300", rtype, data],
        ]);
    }

    /// Deletes the records of `owner` and `rtype`.
    pub fn unset(&self, owner: &str, rtype: &str) {
        self.transaction(&[&["zone-unset", ZONE_NAME, owner, rtype]]);
    }

    /// Runs `commands` between `zone-begin` and `zone-commit`.
    fn transaction(&self, commands: &[&[&str]]) {
        self.knotc(&["zone-begin", ZONE_NAME]);
        for command in commands {
            // Unsetting what is not there is fine: the set that follows is what matters.
            let strict = command[0] != "zone-unset" || commands.len() == 1;
            let ok = self.knotc_status(command);
            assert!(ok || !strict, "knotc {command:?} failed; log:\n{}", self.log());
        }
        self.knotc(&["zone-commit", ZONE_NAME]);
    }

    fn knotc(&self, args: &[&str]) {
        assert!(self.knotc_status(args), "knotc {args:?} failed; log:\n{}", self.log());
    }

    fn knotc_status(&self, args: &[&str]) -> bool {
        let out = Command::new("knotc").arg("-c").arg(&self.conf).args(args).output().unwrap();
        out.status.success()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("knotd.log")).unwrap_or_default()
    }

    /// Polls with a SOA query until the zone is served (or fails after 10 s with the log).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let socket = UdpSocket::bind((self.ip, 0)).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        // A hand-made SOA query for example.test (id 0x4b4e, no recursion).
        let mut query = vec![0x4b, 0x4e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ZONE_NAME.split('.') {
            query.push(label.len() as u8);
            query.extend_from_slice(label.as_bytes());
        }
        query.extend_from_slice(&[0, 0, 6, 0, 1]);
        let mut buf = [0u8; 512];
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("knotd exited with {status}; log:\n{}", self.log());
            }
            let _ = socket.send_to(&query, (self.ip, self.port));
            // An answer with rcode NOERROR (low 4 bits of byte 3) means the zone is loaded.
            if let Ok(n) = socket.recv(&mut buf)
                && n > 12
                && buf[..2] == query[..2]
                && buf[3] & 0x0f == 0
            {
                return;
            }
            assert!(Instant::now() < deadline, "knotd did not serve the zone in 10s; log:\n{}", self.log());
        }
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `user:group` of this process, for knotd's `server.user` (it would otherwise try root).
fn current_user() -> String {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    format!("{}:{}", id("-un"), id("-gn"))
}

/// A port free for UDP and TCP on every one of `ips` (bound, then released).
pub fn free_port(ips: &[&str]) -> u16 {
    'pick: loop {
        let probe = std::net::TcpListener::bind((ips[0], 0)).unwrap();
        let port = probe.local_addr().unwrap().port();
        for ip in ips {
            if std::net::TcpListener::bind((*ip, port)).is_err() && *ip != ips[0] {
                continue 'pick;
            }
            if UdpSocket::bind((*ip, port)).is_err() {
                continue 'pick;
            }
        }
        return port;
    }
}
