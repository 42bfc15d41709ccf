//! A real SMTP server for the tests: aiosmtpd on 127.0.0.1 at a free port, started as a child
//! process. It saves each accepted mail, decoded by Python's `email` package, as JSON; it
//! accepts AUTH PLAIN/LOGIN for `mailer` / `smtp-pass-0001` without TLS, refuses recipients
//! starting with `reject` (550) and defers those starting with `later` (451). It can also
//! offer STARTTLS or implicit TLS with a certificate no client trusts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use belfry_core::channel::SmtpTls;

pub const USER: &str = "mailer";
pub const PASSWORD: &str = "smtp-pass-0001";

const SERVER: &str = r#"
import email, json, os, socket, sys
from email import policy
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

OUT = sys.argv[1]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": getattr(session, "belfry_login", None),
            "content_type": msg.get_content_type(),
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "parts": [p.get_content_type() for p in msg.iter_parts()],
            "text": plain.get_content() if plain else None,
            "html": html.get_content() if html else None,
        }
        n = len([f for f in os.listdir(OUT) if f.endswith(".json")])
        tmp = os.path.join(OUT, "mail-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(OUT, "mail-%d.json" % n))
        return "250 2.0.0 accepted"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" \
        and auth_data.password == b"smtp-pass-0001"
    if ok:
        session.belfry_login = auth_data.login.decode()
    return AuthResult(success=ok, handled=False)

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
tls = {}
if len(sys.argv) > 2:
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    tls = {"tls_context": ctx} if sys.argv[4] == "starttls" else {"ssl_context": ctx}
controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                        auth_require_tls=False, auth_required=False, **tls)
controller.start()
print("READY %d" % port, flush=True)
sys.stdin.read()
controller.stop()
"#;

pub struct Smtp {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Smtp {
    pub fn start() -> Self {
        Self::spawn(None)
    }

    /// A server that offers STARTTLS (`SmtpTls::StartTls`) or speaks TLS from the first byte
    /// (`SmtpTls::Tls`), with a self-signed certificate for 127.0.0.1 that no client trusts.
    pub fn start_with_untrusted_tls(tls: SmtpTls) -> Self {
        Self::spawn(Some(tls))
    }

    fn spawn(tls: Option<SmtpTls>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let mails = dir.path().join("mails");
        std::fs::create_dir(&mails).unwrap();
        let mut command = Command::new("python3");
        command.arg(&script).arg(&mails);
        if let Some(tls) = tls {
            let self_signed = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
            let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&cert, self_signed.cert.pem()).unwrap();
            std::fs::write(&key, self_signed.signing_key.serialize_pem()).unwrap();
            command.arg(cert).arg(key).arg(tls.as_str());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/test installs it with aiosmtpd)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aiosmtpd did not start (is it installed? `pip install aiosmtpd`); it said {line:?}");
        };
        Self { port, dir, child }
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mails")
    }

    /// Every mail accepted so far, in order.
    pub fn mails(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.mail_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort_by_key(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
            stem.trim_start_matches("mail-").parse::<u32>().unwrap()
        });
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
