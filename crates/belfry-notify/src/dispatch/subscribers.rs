//! Status page subscribers: announces incident updates posted with `notify: true` and
//! maintenance (announced, started) to every confirmed subscriber interested in the
//! components, and builds the notifier of a `subscriber:<id>` delivery.
//!
//! The step remembers in the store cursor [`CURSOR`] up to when it looked (epoch ms). Each
//! look re-reads a short overlap before the cursor, so an update saved while the previous look
//! ran is not missed; the deliveries' idempotency keys (`sub:<subscriber>:<what>`) keep the
//! overlap from sending anything twice.

use std::sync::Arc;

use belfry_core::alert::Delivery;
use belfry_core::channel::{ChannelKind, ChannelSpec, Message, MessageEvent, Severity, WebhookSettings};
use belfry_core::incident::{Incident, IncidentStatus};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, Storage};
use belfry_core::subscriber::{Subscriber, SubscriberKind};
use belfry_core::{Catalog, MonitorId, StoreError};
use jiff::{SignedDuration, Timestamp};

use crate::{HttpClient, Notifier, build};

pub(super) const CURSOR: &str = "subscribers";
/// How far before the cursor each look starts again.
const OVERLAP: SignedDuration = SignedDuration::from_secs(60);
/// Incidents looked at per step, newest first.
const INCIDENTS: u32 = 200;

/// One piece of news for subscribers of `components`.
struct News {
    /// Unique per news item: with the subscriber id, the idempotency key.
    key: String,
    /// When it happened: only subscribers confirmed by then hear of it.
    at: Timestamp,
    components: Vec<MonitorId>,
    message: Message,
}

/// Queues the news since the cursor for every interested, confirmed subscriber; returns how
/// many deliveries were queued.
pub(super) async fn announce(
    storage: &dyn Storage,
    catalog: &Catalog,
    now: Timestamp,
) -> Result<usize, StoreError> {
    if catalog.alerting.subscribers.is_none() {
        return Ok(0);
    }
    let position = now.as_millisecond().to_string();
    let Some(since) = storage.cursor(CURSOR).await?.and_then(|raw| raw.parse::<i64>().ok()) else {
        // First start: subscribers hear about what happens from now on.
        storage.set_cursor(CURSOR, &position).await?;
        return Ok(0);
    };
    let since = Timestamp::from_millisecond(since).unwrap_or(now).checked_sub(OVERLAP).unwrap_or(now);
    let mut news = Vec::new();
    let filter = IncidentFilter { limit: INCIDENTS, ..IncidentFilter::default() };
    for incident in storage.incidents(&filter).await? {
        if incident.published {
            incident_news(catalog, &incident, since, now, &mut news);
        }
    }
    for maintenance in storage.maintenances(since).await? {
        maintenance_news(catalog, &maintenance, since, now, &mut news);
    }
    let mut deliveries = Vec::new();
    for item in news {
        for s in storage.confirmed_subscribers(&item.components).await? {
            // The overlap re-reads older news; someone who confirmed since must not get it.
            if s.confirmed_at.is_some_and(|c| c <= item.at) {
                deliveries.push(delivery(catalog, &s, &item, now));
            }
        }
    }
    storage.route(&[], &[], &deliveries, Some((CURSOR, &position))).await?;
    Ok(deliveries.len())
}

fn base(catalog: &Catalog) -> String {
    catalog.page.public_url.as_deref().unwrap_or("").trim_end_matches('/').to_owned()
}

fn message(
    catalog: &Catalog,
    event: MessageEvent,
    severity: Severity,
    title: &str,
    summary: String,
) -> Message {
    Message {
        idempotency_key: String::new(),
        event,
        severity,
        title: title.to_owned(),
        summary,
        monitor: None,
        component: None,
        failing_conditions: vec![],
        since: None,
        incident_url: None,
        ack_url: None,
        unsubscribe_url: None,
        dedup_key: String::new(),
        page_time_zone: catalog.page.time_zone.clone(),
    }
}

fn incident_news(
    catalog: &Catalog,
    incident: &Incident,
    since: Timestamp,
    now: Timestamp,
    out: &mut Vec<News>,
) {
    for (i, update) in incident.updates.iter().enumerate() {
        if !update.notify || update.created_at <= since || update.created_at > now {
            continue;
        }
        let (event, severity) = match update.status {
            IncidentStatus::Resolved | IncidentStatus::Postmortem => {
                (MessageEvent::IncidentResolved, Severity::Resolved)
            }
            _ if i == 0 => (MessageEvent::IncidentCreated, Severity::Warning),
            _ => (MessageEvent::IncidentUpdated, Severity::Warning),
        };
        let summary = format!("{}: {}", capitalised(update.status.as_str()), update.body.trim());
        let mut m = message(catalog, event, severity, &incident.name, summary);
        m.since = Some(incident.started_at);
        m.dedup_key = format!("belfry-incident-{}", incident.id);
        if !base(catalog).is_empty() {
            m.incident_url = Some(format!("{}/incidents/{}", base(catalog), incident.id));
        }
        out.push(News {
            key: format!("incident:{}:{}", incident.id, update.id),
            at: update.created_at,
            components: incident.components.keys().cloned().collect(),
            message: m,
        });
    }
}

fn maintenance_news(
    catalog: &Catalog,
    m: &Maintenance,
    since: Timestamp,
    now: Timestamp,
    out: &mut Vec<News>,
) {
    let announced = m.created_at > since && m.created_at <= now;
    if let Some(window) = m.current_window(now).or_else(|| m.next_window(now)).filter(|_| announced) {
        let summary = format!("{} From {} to {}.", m.description.trim(), window.start, window.end);
        let mut msg = message(
            catalog,
            MessageEvent::MaintenanceScheduled,
            Severity::Info,
            &m.name,
            summary.trim().to_owned(),
        );
        msg.since = Some(window.start);
        msg.dedup_key = format!("belfry-maintenance-{}", m.id);
        out.push(News {
            key: format!("maintenance:{}:announced", m.id),
            at: m.created_at,
            components: m.components.clone(),
            message: msg,
        });
    }
    for window in m.windows(since, now) {
        if window.start <= since || window.start > now {
            continue;
        }
        let summary = format!("{} Until {}.", m.description.trim(), window.end);
        let mut msg = message(
            catalog,
            MessageEvent::MaintenanceStarted,
            Severity::Info,
            &m.name,
            summary.trim().to_owned(),
        );
        msg.since = Some(window.start);
        msg.dedup_key = format!("belfry-maintenance-{}", m.id);
        out.push(News {
            key: format!("maintenance:{}:started:{}", m.id, window.start.as_millisecond()),
            at: window.start,
            components: m.components.clone(),
            message: msg,
        });
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn delivery(catalog: &Catalog, s: &Subscriber, item: &News, now: Timestamp) -> Delivery {
    let key = format!("sub:{}:{}", s.id, item.key);
    let mut message = item.message.clone();
    message.idempotency_key = key.clone();
    message.unsubscribe_url = Some(format!("{}/unsubscribe/{}", base(catalog), s.token));
    let id = key.replace(':', "-");
    Delivery::queued(id, None, &s.channel(), message, now)
}

/// The notifier of a subscriber: the subscribers' email channel with the subscriber as the
/// only recipient, or a plain webhook to the subscriber's URL. `Err` says why none can send.
pub(super) fn notifier(
    catalog: &Catalog,
    http: &HttpClient,
    s: &Subscriber,
    message: &Message,
) -> Result<Arc<dyn Notifier>, String> {
    if !s.is_confirmed() && message.event != MessageEvent::SubscriptionConfirm {
        return Err("the subscriber has not confirmed; nothing but the confirmation request is sent".into());
    }
    let settings = catalog.alerting.subscribers.as_ref().ok_or("subscriptions are not configured")?;
    let spec =
        match &s.kind {
            SubscriberKind::Email { address } => {
                let channel =
                    catalog.alerting.channels.iter().find(|c| c.id == settings.email_channel).ok_or_else(
                        || format!("email channel `{}` is not configured", settings.email_channel),
                    )?;
                let ChannelKind::Email(email) = &channel.kind else {
                    return Err(format!("channel `{}` is not an email channel", settings.email_channel));
                };
                let mut email = email.clone();
                email.to = vec![address.clone()];
                ChannelSpec { id: channel.id.clone(), kind: ChannelKind::Email(email) }
            }
            SubscriberKind::Webhook { url } => {
                if !settings.webhooks {
                    return Err("webhook subscriptions are turned off".into());
                }
                ChannelSpec {
                    id: settings.email_channel.clone(),
                    kind: ChannelKind::Webhook(WebhookSettings {
                        url: url.clone(),
                        secret: None,
                        headers: vec![],
                    }),
                }
            }
        };
    Ok(Arc::from(build(&spec, http)))
}
