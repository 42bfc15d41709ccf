//! Status page subscribers through the real binary and a real SMTP server (aiosmtpd):
//! double opt-in, one mail per announced incident update with an unsubscribe link, and
//! nothing after unsubscribing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Server, eventually, request_text, send_json, write};

/// aiosmtpd on a free port of 127.0.0.1; each accepted mail is saved as JSON.
const SMTP_SERVER: &str = r#"
import email, json, os, socket, sys
from email import policy
from aiosmtpd.controller import Controller

OUT = sys.argv[1]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        plain = msg.get_body(("plain",))
        record = {"rcpt_tos": envelope.rcpt_tos, "subject": str(msg["subject"]),
                  "text": plain.get_content() if plain else None}
        n = len([f for f in os.listdir(OUT) if f.endswith(".json")])
        tmp = os.path.join(OUT, "mail-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(OUT, "mail-%d.json" % n))
        return "250 2.0.0 accepted"

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("READY %d" % port, flush=True)
sys.stdin.read()
controller.stop()
"#;

struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Smtp {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SMTP_SERVER).unwrap();
        std::fs::create_dir(dir.path().join("mails")).unwrap();
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("mails"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/test installs it with aiosmtpd)");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aiosmtpd did not start (is it installed? `pip install aiosmtpd`); it said {line:?}");
        };
        Self { port, dir, child }
    }

    fn mails(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mails"))
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

fn token(dir: &std::path::Path, config: &str, scope: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The path of the first `http://status.acme.test/<prefix>…` link in `text`.
fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(&format!("http://status.acme.test{prefix}"))
        .unwrap_or_else(|| panic!("{prefix} in {text}"));
    let url: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    url.strip_prefix("http://status.acme.test").unwrap().to_owned()
}

async fn mails(smtp: &Smtp, what: &str, count: usize) -> Vec<Value> {
    eventually(what, Duration::from_secs(30), || async {
        let mails = smtp.mails();
        (mails.len() >= count).then_some(mails)
    })
    .await
}

#[tokio::test]
async fn a_subscriber_confirms_gets_one_mail_per_update_and_nothing_after_unsubscribing() {
    let smtp = Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            r#"
page: {{title: Acme Status, public_url: "http://status.acme.test"}}
components: [{{id: api, name: API}}, {{id: web, name: Website}}]
channels:
  - {{id: mail, kind: email, to: ops@acme.test, from: status@acme.test, smtp: {{host: 127.0.0.1, port: {}, tls: none}}}}
subscribers: {{email_channel: mail}}
"#,
            smtp.port
        ),
    );
    let write_token = token(dir.path(), &cfg, "write");
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);

    let subscribe = json!({"email": "fan@example.test", "components": ["api"]});
    let (status, answer) = send_json("POST", &server.url("/subscribe"), None, &subscribe).await;
    assert_eq!(status, 202, "{answer}");
    let confirmation = mails(&smtp, "the confirmation request", 1).await.remove(0);
    assert_eq!(confirmation["rcpt_tos"], json!(["fan@example.test"]));
    let text = confirmation["text"].as_str().unwrap();
    let confirm = link(text, "/subscribe/confirm/");
    let unsubscribe = link(text, "/unsubscribe/");

    // An incident on another component is not for this subscriber; unconfirmed, nothing is sent.
    let incidents = server.url("/api/v1/incidents");
    let web = json!({"name": "Website slow", "status": "investigating", "impact": "minor",
        "body": "Pages load slowly.", "components": {"web": "degraded_performance"}, "notify": true});
    let api = json!({"name": "API errors", "status": "investigating", "impact": "major",
        "body": "Requests fail.", "components": {"api": "major_outage"}, "notify": true});
    assert_eq!(send_json("POST", &incidents, Some(&write_token), &api).await.0, 201);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.mails().len(), 1, "no mail to an unconfirmed address");

    let (status, page) = request_text("GET", &server.url(&confirm), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Subscription confirmed"));

    assert_eq!(send_json("POST", &incidents, Some(&write_token), &web).await.0, 201);
    let (status, incident) = send_json("POST", &incidents, Some(&write_token), &api).await;
    assert_eq!(status, 201, "{incident}");
    let got = mails(&smtp, "the incident mail", 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got_later = smtp.mails();
    assert_eq!(got_later.len(), 2, "exactly one mail for the API incident: {got_later:?}");
    let mail = &got[1];
    assert_eq!(mail["rcpt_tos"], json!(["fan@example.test"]));
    assert!(mail["subject"].as_str().unwrap().contains("API errors"), "{mail}");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("Requests fail."), "{text}");
    assert_eq!(link(text, "/unsubscribe/"), unsubscribe);

    let (status, page) = request_text("GET", &server.url(&unsubscribe), None).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = request_text("POST", &server.url(&unsubscribe), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Unsubscribed"));

    let id = incident["id"].as_str().unwrap();
    let update = json!({"status": "resolved", "body": "Fixed.", "notify": true});
    let (status, body) =
        send_json("POST", &format!("{incidents}/{id}/updates"), Some(&write_token), &update).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(smtp.mails().len(), 2, "nothing after unsubscribing: {:?}", smtp.mails());
}
