//! `/history.atom` (RFC 4287) and `/history.rss` (RSS 2.0): one entry per published incident,
//! its updates (newest first, Markdown rendered and sanitized) as the entry's HTML content.
//! Hand-written XML: every text goes through [`escape`], so no input can break the document.

use std::fmt::Write as _;

use belfry_core::incident::Incident;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::markdown::to_safe_html;
use crate::page::Page;
use crate::xml::escape;

/// Entries per feed.
const ENTRIES: usize = 50;

/// Absolute links when the page has a public URL; ids stay globally unique either way.
struct Base<'a> {
    url: &'a str,
    page_id: &'a str,
}

impl Base<'_> {
    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn id(&self, path: &str) -> String {
        if self.url.is_empty() {
            format!("urn:belfry:{}:{}", self.page_id, path.trim_start_matches('/').replace('/', ":"))
        } else {
            self.link(path)
        }
    }
}

fn base(page: &Page) -> Base<'_> {
    let url = page.catalog.page.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    Base { url, page_id: &page.snapshot.page.id }
}

/// The updates of an incident as HTML, newest first, each with its time in the page's zone.
fn content(page: &Page, incident: &Incident) -> String {
    let mut html = String::new();
    let mut updates: Vec<_> = incident.updates.iter().collect();
    updates.sort_by_key(|u| std::cmp::Reverse(u.display_at));
    for u in updates {
        let _ = write!(
            html,
            "<p><small>{}</small><br><strong>{}</strong> - </p>{}",
            escape(&zoned(&page.tz, u.display_at)),
            escape(crate::html::incident_status_label(u.status)),
            to_safe_html(&u.body)
        );
    }
    html
}

fn zoned(tz: &TimeZone, at: Timestamp) -> String {
    at.to_zoned(tz.clone()).strftime("%b %-d, %H:%M %Z").to_string()
}

fn rfc3339(at: Timestamp) -> String {
    Timestamp::from_second(at.as_second()).unwrap_or(at).to_string()
}

fn rfc2822(at: Timestamp) -> String {
    at.to_zoned(TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// The Atom feed.
pub(crate) fn atom(page: &Page, incidents: &[Incident]) -> Vec<u8> {
    let b = base(page);
    let title = &page.catalog.page.title;
    let shown = &incidents[..incidents.len().min(ENTRIES)];
    let updated = shown.iter().map(|i| i.updated_at).max().unwrap_or(page.now);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    let _ = writeln!(x, "<id>{}</id>", escape(&b.id("/history")));
    let _ = writeln!(x, "<title>{} - Incident History</title>", escape(title));
    let _ =
        writeln!(x, "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", escape(&b.link("/history")));
    let _ = writeln!(
        x,
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        escape(&b.link("/history.atom"))
    );
    let _ = writeln!(x, "<updated>{}</updated>", rfc3339(updated));
    let _ = writeln!(x, "<author><name>{}</name></author>", escape(title));
    for i in shown {
        let path = format!("/incidents/{}", i.id);
        x.push_str("<entry>\n");
        let _ = writeln!(x, "<id>{}</id>", escape(&b.id(&path)));
        let _ = writeln!(x, "<title>{}</title>", escape(&i.name));
        let _ = writeln!(x, "<published>{}</published>", rfc3339(i.created_at));
        let _ = writeln!(x, "<updated>{}</updated>", rfc3339(i.updated_at));
        let _ =
            writeln!(x, "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", escape(&b.link(&path)));
        let _ = writeln!(x, "<content type=\"html\">{}</content>", escape(&content(page, i)));
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    x.into_bytes()
}

/// The RSS 2.0 feed.
pub(crate) fn rss(page: &Page, incidents: &[Incident]) -> Vec<u8> {
    let b = base(page);
    let title = &page.catalog.page.title;
    let shown = &incidents[..incidents.len().min(ENTRIES)];
    let updated = shown.iter().map(|i| i.updated_at).max().unwrap_or(page.now);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n");
    let _ = writeln!(x, "<title>{} - Incident History</title>", escape(title));
    let _ = writeln!(x, "<link>{}</link>", escape(&b.link("/history")));
    let description =
        page.catalog.page.description.clone().unwrap_or_else(|| format!("{title} incident history"));
    let _ = writeln!(x, "<description>{}</description>", escape(&description));
    if !b.url.is_empty() {
        let _ = writeln!(
            x,
            "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
            escape(&b.link("/history.rss"))
        );
    }
    let _ = writeln!(x, "<lastBuildDate>{}</lastBuildDate>", rfc2822(updated));
    for i in shown {
        let path = format!("/incidents/{}", i.id);
        x.push_str("<item>\n");
        let _ = writeln!(x, "<title>{}</title>", escape(&i.name));
        let _ = writeln!(x, "<link>{}</link>", escape(&b.link(&path)));
        let permalink = if b.url.is_empty() { "false" } else { "true" };
        let _ = writeln!(x, "<guid isPermaLink=\"{permalink}\">{}</guid>", escape(&b.id(&path)));
        let _ = writeln!(x, "<pubDate>{}</pubDate>", rfc2822(i.created_at));
        let _ = writeln!(x, "<description>{}</description>", escape(&content(page, i)));
        x.push_str("</item>\n");
    }
    x.push_str("</channel>\n</rss>\n");
    x.into_bytes()
}

#[cfg(test)]
mod tests;
