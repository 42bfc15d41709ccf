//! Markdown from incident updates and maintenance descriptions, rendered to HTML that is safe
//! to put in a page: CommonMark through pulldown-cmark, then ammonia's allow-list sanitizer, so
//! raw HTML, scripts, event handlers and `javascript:` URLs never survive.

use std::collections::HashSet;

use pulldown_cmark::{Options, Parser, html};

/// The URL schemes links and images may use; everything else (javascript:, data:…) is dropped.
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Markdown → sanitized HTML. Links get `rel="nofollow noopener noreferrer"`.
pub fn to_safe_html(md: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let mut raw = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(md, options));
    ammonia::Builder::default()
        .url_schemes(HashSet::from(SCHEMES))
        .link_rel(Some("nofollow noopener noreferrer"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn markdown_renders() {
        let html = to_safe_html("**Fixed** the `db`.\n\n- one\n- two");
        assert!(html.contains("<strong>Fixed</strong>"), "{html}");
        assert!(html.contains("<code>db</code>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let payloads = [
            "<script>alert(1)</script>hello",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.test\"></iframe>",
            "<div onclick=\"alert(1)\" style=\"background:url(javascript:alert(1))\">x</div>",
            "[x](JaVaScRiPt:alert(1))",
            "<svg><script>alert(1)</script></svg>",
        ];
        for payload in payloads {
            let html = to_safe_html(payload).to_ascii_lowercase();
            for bad in ["<script", "onerror", "onclick", "javascript:", "<iframe", "style=", "<svg"] {
                assert!(!html.contains(bad), "{payload:?} left {bad:?} in {html:?}");
            }
        }
    }

    #[test]
    fn links_are_nofollow_noopener() {
        let html = to_safe_html("[status](https://status.acme.test/)");
        assert!(html.contains("href=\"https://status.acme.test/\""), "{html}");
        assert!(html.contains("rel=\"nofollow noopener noreferrer\""), "{html}");
    }
}
