//! `belfry export-static`: the public site written as static files with relative links, so
//! any static host (or a directory opened in a browser) can show it while Belfry is down.
//! Rendered by the same code as the live site; only the links differ.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ApiError;
use crate::links::Links;
use crate::site::{Model, Stats, render_all, uptime_badge};
use crate::state::WebState;

/// Days of the exported uptime badges (`badge/{component}/uptime.svg`).
const BADGE_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the status page data: {0}")]
    Read(#[from] ApiError),
    #[error("writing {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// Writes every page, JSON document, feed and badge under `out`; returns the files written
/// (relative to `out`), in order.
pub async fn export_static(state: &WebState, out: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let now = state.clock.now();
    let stats = Stats::load(state, &Model::stats_monitors(state), now).await?;
    let model = Model::load(state, Arc::new(stats)).await?;
    let mut docs: Vec<(String, Vec<u8>)> =
        render_all(&model, Links::Static).into_iter().map(|d| (d.path, d.body)).collect();
    for view in &model.page.snapshot.components {
        let path = format!("/badge/{}/uptime.svg", view.id);
        docs.push((path, uptime_badge(&model, &view.id, BADGE_DAYS)));
    }
    let mut written = Vec::with_capacity(docs.len());
    for (path, body) in docs {
        let relative = PathBuf::from(Links::file_for(&path));
        let target = out.join(&relative);
        let io = |source| ExportError::Write { path: target.clone(), source };
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&target, body).map_err(io)?;
        written.push(relative);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use crate::fakes::*;

    #[tokio::test]
    async fn the_export_has_every_page_with_relative_links_only() {
        let world = World::with_fixtures();
        let dir = tempfile::tempdir().unwrap();
        let written = super::export_static(&world.state, dir.path()).await.unwrap();
        let names: Vec<String> = written.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        for expected in [
            "index.html",
            "history.html",
            "404.html",
            "incidents/inc0fixture0.html",
            "components/api.html",
            "components/platform.html",
            "api/v2/summary.json",
            "api/v2/scheduled-maintenances/upcoming.json",
            "history.atom",
            "history.rss",
            "maintenance.ics",
            "badge/api.svg",
            "badge/api/uptime.svg",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
            assert!(dir.path().join(expected).is_file(), "{expected}");
        }
        for page in names.iter().filter(|n| n.ends_with(".html")) {
            let html = std::fs::read_to_string(dir.path().join(page)).unwrap();
            assert!(!html.contains("href=\"/"), "{page} has an absolute link");
            assert!(!html.contains("data-live"), "{page}: no live updates on a static host");
        }
        let index = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(index.contains("href=\"incidents/inc0fixture0.html\""));
        assert!(index.contains("href=\"history.html\""));
        let incident = std::fs::read_to_string(dir.path().join("incidents/inc0fixture0.html")).unwrap();
        assert!(incident.contains("href=\"../index.html\""));
        assert!(incident.contains("href=\"../components/api.html\""));
    }
}
