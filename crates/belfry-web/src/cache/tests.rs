use std::io::Read as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::BodyExt;

use super::Entry;

fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    map
}

async fn body(response: axum::response::Response) -> Vec<u8> {
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn page() -> Entry {
    Entry::new("text/html; charset=utf-8", "<p>All Systems Operational</p>\n".repeat(40))
}

#[tokio::test]
async fn the_etag_is_a_strong_hash_of_the_bytes_and_a_match_is_a_304() {
    let entry = page();
    assert_eq!(entry.etag(), page().etag(), "same bytes, same tag");
    assert_ne!(entry.etag(), Entry::new("text/html", "other").etag());
    assert!(entry.etag().starts_with('"') && !entry.etag().starts_with("W/"));

    let full = entry.respond(&HeaderMap::new());
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()[header::ETAG], entry.etag());
    assert_eq!(full.headers()[header::CACHE_CONTROL], "public, no-cache");
    assert_eq!(full.headers()[header::VARY], "Accept-Encoding");

    for tag in [
        entry.etag().to_owned(),
        format!("W/{}", entry.etag()),
        format!("\"x\", {}", entry.etag()),
        "*".into(),
    ] {
        let reply = entry.respond(&headers(&[(header::IF_NONE_MATCH, &tag)]));
        assert_eq!(reply.status(), StatusCode::NOT_MODIFIED, "{tag}");
        assert!(body(reply).await.is_empty());
    }
    let stale = entry.respond(&headers(&[(header::IF_NONE_MATCH, "\"0123456789abcdef01234567\"")]));
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn brotli_and_gzip_are_chosen_by_accept_encoding_and_decode_to_the_same_bytes() {
    let entry = page();
    let original = entry.body().to_vec();

    let br = entry.respond(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")]));
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    let br_tag = br.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(br_tag, entry.etag(), "each representation has its own strong tag");
    let compressed = body(br).await;
    assert!(compressed.len() < original.len() / 4, "{} bytes", compressed.len());
    let mut decoded = Vec::new();
    brotli::Decompressor::new(compressed.as_slice(), 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, original);

    let gz = entry.respond(&headers(&[(header::ACCEPT_ENCODING, "gzip;q=1.0, br;q=0")]));
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = body(gz).await;
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice()).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, original);

    for accept in ["identity", "br;q=0, gzip;q=0", "deflate"] {
        let plain = entry.respond(&headers(&[(header::ACCEPT_ENCODING, accept)]));
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none(), "{accept}");
        assert_eq!(body(plain).await, original, "{accept}");
    }
    let any = entry.respond(&headers(&[(header::ACCEPT_ENCODING, "*")]));
    assert_eq!(any.headers()[header::CONTENT_ENCODING], "br");

    // A tag received with a compressed variant revalidates too.
    let again = entry.respond(&headers(&[(header::IF_NONE_MATCH, &br_tag)]));
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn tiny_documents_are_not_compressed() {
    let entry = Entry::new("image/svg+xml", "<svg/>");
    let reply = entry.respond(&headers(&[(header::ACCEPT_ENCODING, "br, gzip")]));
    assert!(reply.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(body(reply).await, b"<svg/>");
}

#[test]
fn unchanged_bytes_reuse_the_previous_entry() {
    let first = std::sync::Arc::new(page());
    let same = Entry::reuse(Some(&first), "text/html; charset=utf-8", first.body().to_vec());
    assert!(std::sync::Arc::ptr_eq(&first, &same), "no recompression for equal bytes");
    let changed = Entry::reuse(Some(&first), "text/html; charset=utf-8", b"new".to_vec());
    assert!(!std::sync::Arc::ptr_eq(&first, &changed));
}

#[tokio::test]
async fn served_pages_answer_304_to_their_etag_and_negotiate_encodings() {
    use crate::fakes::*;
    let world = World::with_fixtures();
    for path in ["/", "/history", "/api/v2/summary.json", "/history.atom", "/incidents/inc0fixture0"] {
        let first = world.get(path).await;
        assert_eq!(first.status, 200, "{path}");
        let etag = first.header(header::ETAG).expect("an etag").to_owned();
        let req = axum::http::Request::get(path)
            .header(header::IF_NONE_MATCH, &etag)
            .body(axum::body::Body::empty())
            .unwrap();
        let revalidated = world.send(req).await;
        assert_eq!(revalidated.status, 304, "{path}");
        let req = axum::http::Request::get(path)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(axum::body::Body::empty())
            .unwrap();
        let gz = world.send(req).await;
        assert_eq!(gz.header(header::CONTENT_ENCODING), Some("gzip"), "{path}");
    }
}

#[test]
fn variants_are_compressed_on_first_request_and_kept_by_reuse() {
    let first = std::sync::Arc::new(page());
    assert!(first.gzip.get().is_none() && first.br.get().is_none(), "nothing compressed up front");
    let _ = first.respond(&headers(&[(header::ACCEPT_ENCODING, "gzip")]));
    assert!(first.gzip.get().is_some_and(Option::is_some));
    assert!(first.br.get().is_none(), "only what was asked for");
    let same = Entry::reuse(Some(&first), "text/html; charset=utf-8", first.body().to_vec());
    assert!(same.gzip.get().is_some_and(Option::is_some), "an unchanged document keeps its variants");
}
