//! The in-memory `IncidentStore`: whole aggregates with optimistic versions, like the real one.

use async_trait::async_trait;
use belfry_core::StoreError;
use belfry_core::incident::{Incident, TimelineEntry};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, IncidentStore};
use jiff::Timestamp;

use super::FakeStore;

impl FakeStore {
    /// Fails with `Conflict` when a test asked for one.
    fn take_conflict(&self) -> Result<(), StoreError> {
        let mut left = self.conflicts.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(StoreError::Conflict("saved by someone else".to_owned()));
        }
        Ok(())
    }
}

fn stale(what: &str, stored: u64, expected: u64) -> StoreError {
    StoreError::Conflict(format!("{what} is at version {stored}, not {expected}"))
}

#[async_trait]
impl IncidentStore for FakeStore {
    async fn save_incident(
        &self,
        incident: &Incident,
        expected_version: u64,
        timeline: &[TimelineEntry],
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.take_conflict()?;
        let mut incidents = self.incidents.lock().unwrap();
        let stored = incidents.get(&incident.id).map_or(0, |i| i.version);
        if stored != expected_version {
            return Err(stale("incident", stored, expected_version));
        }
        let mut saved = incident.clone();
        saved.version = expected_version + 1;
        incidents.insert(saved.id.clone(), saved);
        self.timeline.lock().unwrap().extend(timeline.iter().cloned());
        Ok(expected_version + 1)
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        self.check()?;
        Ok(self.incidents.lock().unwrap().get(id).cloned())
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        self.check()?;
        let mut out: Vec<Incident> = self
            .incidents
            .lock()
            .unwrap()
            .values()
            .filter(|i| !filter.unresolved_only || i.is_open())
            .filter(|i| filter.include_drafts || i.published)
            .filter(|i| filter.since.is_none_or(|s| i.created_at >= s))
            .filter(|i| {
                filter.auto_monitor.as_ref().is_none_or(|m| i.auto.as_ref().is_some_and(|a| &a.monitor == m))
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        out.truncate(filter.limit as usize);
        Ok(out)
    }

    async fn timeline(&self, incident: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        self.check()?;
        let mut out: Vec<TimelineEntry> =
            self.timeline.lock().unwrap().iter().filter(|e| e.incident == incident).cloned().collect();
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<(), StoreError> {
        self.check()?;
        self.timeline.lock().unwrap().extend(entries.iter().cloned());
        Ok(())
    }

    async fn save_maintenance(
        &self,
        maintenance: &Maintenance,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.take_conflict()?;
        let mut all = self.maintenances.lock().unwrap();
        let stored = all.get(&maintenance.id).map_or(0, |m| m.version);
        if stored != expected_version {
            return Err(stale("maintenance", stored, expected_version));
        }
        let mut saved = maintenance.clone();
        saved.version = expected_version + 1;
        all.insert(saved.id.clone(), saved);
        Ok(expected_version + 1)
    }

    async fn maintenance(&self, id: &str) -> Result<Option<Maintenance>, StoreError> {
        self.check()?;
        Ok(self.maintenances.lock().unwrap().get(id).cloned())
    }

    async fn maintenances(&self, since: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
        self.check()?;
        let mut out: Vec<Maintenance> = self
            .maintenances
            .lock()
            .unwrap()
            .values()
            .filter(|m| m.rrule.is_some() || m.ends_at >= since)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn delete_maintenance(&self, id: &str) -> Result<bool, StoreError> {
        self.check()?;
        Ok(self.maintenances.lock().unwrap().remove(id).is_some())
    }

    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.check()?;
        Ok(self.cursors.lock().unwrap().get(name).cloned())
    }

    async fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.check()?;
        self.cursors.lock().unwrap().insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}
