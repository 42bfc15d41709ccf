//! How a delivery failed, and whether trying again can help.

/// A failed delivery. The text names the receiver's answer (status and a short excerpt of its
/// body) or the transport failure, and never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Worth retrying: timeouts, connection failures, HTTP 5xx/429/408, SMTP 4xx.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: HTTP 4xx, SMTP 5xx, bad settings.
    #[error("{0}")]
    Permanent(String),
}

impl NotifyError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Transient(m) | Self::Permanent(m) => m,
        }
    }

    /// The same error with every occurrence of each non-empty secret replaced by `***`:
    /// a last guard, as receivers and libraries may echo URLs or tokens back.
    pub(crate) fn scrub(self, secrets: &[&str]) -> Self {
        let clean = |mut text: String| {
            for secret in secrets.iter().filter(|s| s.len() >= 4) {
                text = text.replace(*secret, "***");
            }
            text
        };
        match self {
            Self::Transient(m) => Self::Transient(clean(m)),
            Self::Permanent(m) => Self::Permanent(clean(m)),
        }
    }
}

/// At most `max` characters of `text` on one line, with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let one_line: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max).collect();
    cut.push('…');
    cut
}
