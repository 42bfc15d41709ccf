//! The seam between the alerting domain and the transports.

use async_trait::async_trait;
use belfry_core::channel::{ChannelKind, ChannelSpec, Message};

use crate::channel;
use crate::error::NotifyError;
use crate::http::HttpClient;

/// Delivers one message to one receiver, once. Retrying is the caller's decision, guided by
/// [`NotifyError::is_transient`]; the message's `idempotency_key` lets receivers drop repeats.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), NotifyError>;
}

/// The running notifier for a channel. Settings problems that [`ChannelKind::validate`]
/// cannot see (an unparsable address) surface as [`NotifyError::Permanent`] on send.
pub fn build(spec: &ChannelSpec, http: &HttpClient) -> Box<dyn Notifier> {
    let http = http.clone();
    match &spec.kind {
        ChannelKind::Email(s) => Box::new(channel::email::Email::new(s.clone())),
        ChannelKind::Webhook(s) => Box::new(channel::webhook::Webhook::new(s.clone(), http)),
        ChannelKind::Slack(s) => Box::new(channel::slack::Slack::new(s.clone(), http)),
        ChannelKind::Discord(s) => Box::new(channel::discord::Discord::new(s.clone(), http)),
        ChannelKind::Teams(s) => Box::new(channel::teams::Teams::new(s.clone(), http)),
        ChannelKind::Telegram(s) => Box::new(channel::telegram::Telegram::new(s.clone(), http)),
        ChannelKind::Ntfy(s) => Box::new(channel::ntfy::Ntfy::new(s.clone(), http)),
        ChannelKind::PagerDuty(s) => Box::new(channel::pagerduty::PagerDuty::new(s.clone(), http)),
        ChannelKind::Opsgenie(s) => Box::new(channel::opsgenie::Opsgenie::new(s.clone(), http)),
    }
}
