//! The default template per event kind.

use std::fmt::Write as _;

use belfry_core::channel::{Message, MessageEvent, Severity};

use super::escape::{escape_html, http_url};
use super::time::format_instant;

/// One labelled line of an alert ("Monitor": "Internal API (api-http)"), plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// A message rendered with the default template. `title`, `headline`, `text` and fact values
/// are plain text; `html` is a complete, escaped HTML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line, e.g. `Down: Internal API`.
    pub title: String,
    /// One sentence of what happened, e.g. `Internal API is down.`
    pub headline: String,
    /// Monitor, component and time facts, in display order.
    pub facts: Vec<Fact>,
    /// The whole plain-text body (without the title).
    pub text: String,
    pub html: String,
    /// The incident link, if it is an absolute http(s) URL.
    pub incident_url: Option<String>,
    /// The acknowledge link, if it is an absolute http(s) URL.
    pub ack_url: Option<String>,
    /// The unsubscribe link of a subscriber message, if it is an absolute http(s) URL.
    pub unsubscribe_url: Option<String>,
    /// `#rrggbb` for the severity, used by chat cards and the mail heading.
    pub color: &'static str,
}

/// Renders a message with the default template for its event kind.
pub fn render(message: &Message) -> Rendered {
    let subject = message.monitor.as_ref().map_or(message.title.as_str(), |m| m.name.as_str());
    let (label, headline) = wording(message.event, subject, &message.title);
    let title =
        if message.title.is_empty() { label.to_owned() } else { format!("{label}: {}", message.title) };

    let mut facts = Vec::new();
    if let Some(m) = &message.monitor {
        facts.push(Fact { label: "Monitor", value: format!("{} ({})", m.name, m.id) });
    }
    if let Some(c) = &message.component {
        facts.push(Fact { label: "Component", value: format!("{} ({})", c.name, c.id) });
    }
    if let Some(since) = message.since {
        facts.push(Fact {
            label: since_label(message.event),
            value: format_instant(since, &message.page_time_zone),
        });
    }
    let incident_url = http_url(message.incident_url.as_deref()).map(str::to_owned);
    let ack_url = http_url(message.ack_url.as_deref()).map(str::to_owned);

    let unsubscribe_url = http_url(message.unsubscribe_url.as_deref()).map(str::to_owned);

    let mut text = text_body(message, &headline, &facts, incident_url.as_deref(), ack_url.as_deref());
    let color = color(message.severity);
    let mut html =
        html_body(message, &title, &headline, &facts, incident_url.as_deref(), ack_url.as_deref(), color);
    if let Some(url) = &unsubscribe_url {
        let _ = write!(text, "\nUnsubscribe: {url}\n");
        let footer = format!(
            "<p style=\"color:#59636e;font-size:12px\"><a href=\"{}\">Unsubscribe</a></p>\n</body></html>\n",
            escape_html(url)
        );
        if let Some(cut) = html.rfind("</body></html>") {
            html.truncate(cut);
        }
        html.push_str(&footer);
    }
    Rendered { title, headline, facts, text, html, incident_url, ack_url, unsubscribe_url, color }
}

/// The label in titles and the headline sentence.
fn wording(event: MessageEvent, subject: &str, title: &str) -> (&'static str, String) {
    match event {
        MessageEvent::Down => ("Down", format!("{subject} is down.")),
        MessageEvent::Up => ("Recovered", format!("{subject} is back up.")),
        MessageEvent::Degraded => ("Degraded", format!("{subject} is degraded.")),
        MessageEvent::CertificateExpiring => {
            ("Certificate expiring", format!("The TLS certificate of {subject} expires soon."))
        }
        MessageEvent::HeartbeatMissed => {
            ("Heartbeat missed", format!("{subject} has not checked in on time."))
        }
        MessageEvent::IncidentCreated => ("Incident", format!("New incident: {title}.")),
        MessageEvent::IncidentUpdated => ("Incident update", format!("Incident updated: {title}.")),
        MessageEvent::IncidentResolved => ("Incident resolved", format!("Incident resolved: {title}.")),
        MessageEvent::MaintenanceScheduled => {
            ("Maintenance scheduled", format!("Maintenance scheduled: {title}."))
        }
        MessageEvent::MaintenanceStarted => ("Maintenance started", format!("Maintenance started: {title}.")),
        MessageEvent::SubscriptionConfirm => {
            ("Confirm your subscription", format!("Please confirm your subscription to {title}."))
        }
        MessageEvent::Test => ("Test", "This is a test notification from Belfry.".to_owned()),
        MessageEvent::ProbeMissing => ("Probe missing", format!("{title}: its monitors keep their state.")),
    }
}

fn since_label(event: MessageEvent) -> &'static str {
    match event {
        MessageEvent::Down | MessageEvent::HeartbeatMissed => "Down since",
        MessageEvent::Up => "Was down since",
        MessageEvent::Degraded => "Degraded since",
        MessageEvent::CertificateExpiring => "Expires",
        MessageEvent::IncidentCreated | MessageEvent::IncidentUpdated | MessageEvent::IncidentResolved => {
            "Started"
        }
        MessageEvent::MaintenanceScheduled => "Starts",
        MessageEvent::MaintenanceStarted => "Started",
        MessageEvent::SubscriptionConfirm | MessageEvent::Test => "Sent",
        MessageEvent::ProbeMissing => "Last report",
    }
}

fn color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#d1242f",
        Severity::Warning => "#bf8700",
        Severity::Info => "#0969da",
        Severity::Resolved => "#1a7f37",
    }
}

fn text_body(
    m: &Message,
    headline: &str,
    facts: &[Fact],
    incident: Option<&str>,
    ack: Option<&str>,
) -> String {
    let mut out = String::new();
    out.push_str(headline);
    out.push('\n');
    if !m.summary.trim().is_empty() && m.summary.trim() != headline {
        out.push_str(m.summary.trim());
        out.push('\n');
    }
    if !facts.is_empty() {
        out.push('\n');
        for fact in facts {
            let _ = writeln!(out, "{}: {}", fact.label, fact.value);
        }
    }
    if !m.failing_conditions.is_empty() {
        out.push_str("\nFailing conditions:\n");
        for condition in &m.failing_conditions {
            let _ = writeln!(out, "- {condition}");
        }
    }
    if incident.is_some() || ack.is_some() {
        out.push('\n');
    }
    if let Some(url) = incident {
        let _ = writeln!(out, "Incident: {url}");
    }
    if let Some(url) = ack {
        let _ = writeln!(out, "Acknowledge: {url}");
    }
    out
}

fn html_body(
    m: &Message,
    title: &str,
    headline: &str,
    facts: &[Fact],
    incident: Option<&str>,
    ack: Option<&str>,
    color: &str,
) -> String {
    let e = escape_html;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328\">\n\
         <h2 style=\"color:{color};margin:0 0 8px\">{}</h2>\n<p><strong>{}</strong></p>\n",
        e(title),
        e(title),
        e(headline)
    );
    if !m.summary.trim().is_empty() && m.summary.trim() != headline {
        let _ = writeln!(out, "<p>{}</p>", e(m.summary.trim()).replace('\n', "<br>"));
    }
    if !facts.is_empty() {
        out.push_str("<table cellpadding=\"4\" style=\"border-collapse:collapse\">\n");
        for fact in facts {
            let _ = writeln!(
                out,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                e(fact.label),
                e(&fact.value)
            );
        }
        out.push_str("</table>\n");
    }
    if !m.failing_conditions.is_empty() {
        out.push_str("<p>Failing conditions:</p>\n<ul>\n");
        for condition in &m.failing_conditions {
            let _ = writeln!(out, "<li><code>{}</code></li>", e(condition));
        }
        out.push_str("</ul>\n");
    }
    let mut links = Vec::new();
    if let Some(url) = ack {
        links.push(format!("<a href=\"{}\"><strong>Acknowledge</strong></a>", e(url)));
    }
    if let Some(url) = incident {
        links.push(format!("<a href=\"{}\">View incident</a>", e(url)));
    }
    if !links.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", links.join(" &middot; "));
    }
    out.push_str("<p style=\"color:#59636e;font-size:12px\">Sent by Belfry.</p>\n</body></html>\n");
    out
}
