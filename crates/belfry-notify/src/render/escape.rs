//! Escaping for the formats channels speak.

/// `text` safe inside HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The URL if it is an absolute `http(s)://` URL without whitespace, else `None`: only such
/// URLs become links or buttons (no `javascript:` or relative links in alerts).
pub fn http_url(url: Option<&str>) -> Option<&str> {
    let url = url?.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let ok = !rest.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(url)
}

/// Slack `mrkdwn` escaping: only `&`, `<` and `>` are special.
pub(crate) fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Discord markdown escaping, so names and conditions show literally: inline markers
/// everywhere, block markers (`#`, `-`, `>`) at the start of a line.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        out.push_str(&line[..line.len() - trimmed.len()]);
        if trimmed.starts_with(['#', '-', '>']) {
            out.push('\\');
        }
        for c in trimmed.chars() {
            if "\\*_~`|[]".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// An HTTP header value: ASCII as is, anything else as an RFC 2047 encoded word
/// (`=?UTF-8?Q?…?=`), which ntfy decodes. Control characters become spaces.
pub(crate) fn header_value(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.is_ascii() {
        return text;
    }
    let mut out = String::from("=?UTF-8?Q?");
    for byte in text.bytes() {
        match byte {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("={byte:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// At most `max` characters, with `…` as the last one when cut (receivers reject or
/// truncate long fields on their own, less gracefully).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
