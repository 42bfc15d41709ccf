use serde_json::json;

use crate::fakes::*;

#[tokio::test]
async fn atom_and_rss_list_incidents_with_escaped_text() {
    let world = World::with_fixtures();
    let created = world
        .post("/api/v1/incidents", json!({"name": "Q&A <tool> \"down\"", "status": "investigating", "impact": "minor", "body": "a < b & c"}))
        .await;
    assert_eq!(created.status, 201);
    let atom = world.get("/history.atom").await;
    assert_eq!(atom.header(axum::http::header::CONTENT_TYPE), Some("application/atom+xml; charset=utf-8"));
    let atom = atom.text();
    assert!(atom.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    assert!(atom.contains("<title>Q&amp;A &lt;tool&gt; &quot;down&quot;</title>"), "{atom}");
    assert!(atom.contains("<id>https://status.acme.test/incidents/inc0fixture0</id>"));
    assert!(atom.contains("<link rel=\"alternate\" type=\"text/html\" href=\"https://status.acme.test/incidents/inc0fixture0\"/>"));
    // The update body is HTML (a &lt; b) carried as escaped text.
    assert!(atom.contains("a &amp;lt; b &amp;amp; c"), "{atom}");
    assert_eq!(atom.matches("<entry>").count(), 2);
    assert!(atom.trim_end().ends_with("</feed>"));

    let rss = world.get("/history.rss").await.text();
    assert!(rss.contains("<rss version=\"2.0\""));
    assert!(rss.contains("<title>Q&amp;A &lt;tool&gt; &quot;down&quot;</title>"));
    assert!(rss.contains("<pubDate>Sat, 01 Jun 2024 11:30:00 +0000</pubDate>"), "{rss}");
    assert_eq!(rss.matches("<item>").count(), 2);
}

#[tokio::test]
async fn without_a_public_url_ids_are_urns() {
    let world = World::with_fixtures();
    {
        let mut catalog = (*world.runtime.catalog.lock().unwrap()).as_ref().clone();
        catalog.page.public_url = None;
        *world.runtime.catalog.lock().unwrap() = std::sync::Arc::new(catalog);
    }
    let atom = world.get("/history.atom").await.text();
    assert!(atom.contains("<id>urn:belfry:acme-status:incidents:inc0fixture0</id>"), "{atom}");
}
