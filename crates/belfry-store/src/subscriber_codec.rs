//! Column values of subscribers, shared by every backend: the serde JSON (`doc`) plus the
//! copies lookups use. See `migrations/*/0004_subscribers.sql`.

use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::StoreError;
use belfry_core::subscriber::Subscriber;

use crate::codec::corrupt;

/// The columns of one `subscribers` row, in schema order.
#[derive(Debug)]
pub(crate) struct SubscriberRow {
    pub id: String,
    pub address_key: String,
    pub token_hash: String,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub doc: String,
}

impl SubscriberRow {
    pub fn encode(s: &Subscriber) -> Result<Self, StoreError> {
        Ok(Self {
            id: s.id.clone(),
            address_key: s.kind.key(),
            token_hash: s.token_hash(),
            confirmed_at: s.confirmed_at.map(epoch_ms),
            created_at: epoch_ms(s.created_at),
            doc: encode_doc(s)?,
        })
    }
}

pub(crate) fn encode_doc(s: &Subscriber) -> Result<String, StoreError> {
    serde_json::to_string(s).map_err(|e| StoreError::Other(format!("subscriber json: {e}")))
}

pub(crate) fn decode((doc,): (String,)) -> Result<Subscriber, StoreError> {
    serde_json::from_str(&doc).map_err(|e| corrupt("subscriber json", e))
}

/// The confirmed subscribers among `rows` interested in `components`.
pub(crate) fn interested(
    rows: Vec<(String,)>,
    components: &[MonitorId],
) -> Result<Vec<Subscriber>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        let s = decode(row)?;
        if s.is_confirmed() && s.wants(components) {
            out.push(s);
        }
    }
    Ok(out)
}
