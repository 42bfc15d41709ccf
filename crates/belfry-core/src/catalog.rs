//! The configured world at one moment: the page, its components and the monitors.
//! Built from the YAML config (and later the admin console); replaced whole on reload.

use std::sync::Arc;
use std::time::Duration;

use crate::component::Component;
use crate::monitor::{MonitorId, MonitorSpec};

/// `page:` in the config.
#[derive(Debug, Clone)]
pub struct PageSettings {
    pub title: String,
    pub description: Option<String>,
    /// IANA time zone the page shows times in, e.g. `America/New_York`.
    pub time_zone: String,
    /// Absolute base URL of the public page, used in links and the Statuspage `page.url`.
    pub public_url: Option<String>,
    pub logo_url: Option<String>,
}

impl Default for PageSettings {
    fn default() -> Self {
        Self {
            title: "Status".to_owned(),
            description: None,
            time_zone: "UTC".to_owned(),
            public_url: None,
            logo_url: None,
        }
    }
}

/// `connectivity:` in the config: when every target is unreachable the problem is our own
/// network, so failing results are recorded as inconclusive and cause no transitions.
#[derive(Debug, Clone)]
pub struct ConnectivityGuard {
    /// `host:port` TCP endpoints.
    pub targets: Vec<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub page: PageSettings,
    pub components: Vec<Component>,
    /// Shared with the engine, which holds each spec without copying it.
    pub monitors: Vec<Arc<MonitorSpec>>,
    pub connectivity: Option<ConnectivityGuard>,
    /// `channels`, `escalations` and `alerts`.
    pub alerting: crate::alert::Alerting,
}

impl Catalog {
    /// Puts the components in `order` (ids; the page groups them where each group first
    /// appears). Components it does not name keep their relative order after those it does.
    pub fn order_components(&mut self, order: &[String]) {
        let rank = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
        self.components.sort_by_key(|c| rank(c.id.as_str())); // stable: unnamed ones keep their order
    }

    pub fn monitor(&self, id: &str) -> Option<&MonitorSpec> {
        self.monitors.iter().map(Arc::as_ref).find(|m| m.id.as_str() == id)
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id.as_str() == id)
    }

    /// The monitors that drive a component's status.
    pub fn monitors_of<'a>(&'a self, component: &'a MonitorId) -> impl Iterator<Item = &'a MonitorSpec> + 'a {
        self.monitors.iter().map(Arc::as_ref).filter(move |m| m.component.as_ref() == Some(component))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_take_the_stored_order_and_unnamed_ones_follow_in_theirs() {
        let mut catalog = Catalog::default();
        for id in ["a", "b", "c", "d"] {
            catalog.components.push(Component {
                id: MonitorId::parse(id).unwrap(),
                name: id.to_owned(),
                description: None,
                group: None,
                incident: None,
            });
        }
        catalog.order_components(&["c".to_owned(), "a".to_owned(), "gone".to_owned()]);
        let ids: Vec<&str> = catalog.components.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b", "d"]);
    }
}
