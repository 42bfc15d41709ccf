//! A precomputed response: the bytes, their gzip and brotli variants and a strong ETag, served
//! to every request as they are (P5). The identity bytes and their hash are made once per
//! rebuild; each compressed variant is made once, by the first request that asks for it (many
//! documents of a build are never asked for compressed, and an unchanged document keeps its
//! variants across rebuilds, see [`Entry::reuse`]). Conditional GETs answer 304; the encoding is
//! chosen from `Accept-Encoding`.

use std::io::Write as _;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Bodies smaller than this are sent as they are: compression would not pay for its header.
const COMPRESS_FROM: usize = 256;
/// Brotli quality: fast enough to run once per changed document, close to the best ratio for
/// text.
const BROTLI_QUALITY: u32 = 6;
/// Everything in the cache is live state: a client may keep it but must revalidate (P4).
pub(crate) const REVALIDATE: &str = "public, no-cache";
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static(REVALIDATE);
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding");
const GZIP: HeaderValue = HeaderValue::from_static("gzip");
const BR: HeaderValue = HeaderValue::from_static("br");

/// One precomputed document.
#[derive(Debug)]
pub struct Entry {
    content_type: HeaderValue,
    /// The hex digest of the identity bytes; every variant's ETag derives from it.
    hash: String,
    identity: Variant,
    /// Made on first use; `None` when the body is too small to compress.
    gzip: OnceLock<Option<Variant>>,
    br: OnceLock<Option<Variant>>,
}

#[derive(Debug)]
struct Variant {
    body: Bytes,
    etag: HeaderValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Br,
}

impl Entry {
    /// Hashes `body` once; the compressed variants follow on demand.
    pub fn new(content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        let digest = Sha256::digest(&body);
        let hash: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let identity = Variant { etag: etag(&hash, ""), body };
        Self {
            content_type: HeaderValue::from_static(content_type),
            identity,
            gzip: OnceLock::new(),
            br: OnceLock::new(),
            hash,
        }
    }

    /// The same document as `previous` when the bytes are equal (its variants are kept), else
    /// a new one.
    pub fn reuse(previous: Option<&Arc<Entry>>, content_type: &'static str, body: Vec<u8>) -> Arc<Entry> {
        if let Some(prev) = previous
            && prev.content_type == content_type
            && prev.identity.body.as_ref() == body.as_slice()
        {
            return prev.clone();
        }
        Arc::new(Self::new(content_type, body))
    }

    /// The strong ETag of the uncompressed bytes, quoted.
    pub fn etag(&self) -> &str {
        self.identity.etag.to_str().unwrap_or_default()
    }

    /// The uncompressed bytes.
    #[cfg(test)]
    pub fn body(&self) -> &Bytes {
        &self.identity.body
    }

    /// The variant for `encoding`, compressing on first use; `None` for identity or a body too
    /// small to compress.
    fn variant(&self, encoding: Encoding) -> Option<&Variant> {
        let (cell, suffix, compress): (_, _, fn(&[u8]) -> Bytes) = match encoding {
            Encoding::Identity => return None,
            Encoding::Gzip => (&self.gzip, "-gz", gzip),
            Encoding::Br => (&self.br, "-br", brotli),
        };
        cell.get_or_init(|| {
            (self.identity.body.len() >= COMPRESS_FROM)
                .then(|| Variant { body: compress(&self.identity.body), etag: etag(&self.hash, suffix) })
        })
        .as_ref()
    }

    /// The response to a GET or HEAD with these request headers.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let encoding = negotiate(request.get(header::ACCEPT_ENCODING));
        let compressed = self.variant(encoding);
        let variant = compressed.unwrap_or(&self.identity);
        let not_modified = request.get(header::IF_NONE_MATCH).is_some_and(|v| self.matches(v));
        let mut response = if not_modified {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            Response::new(Body::from(variant.body.clone()))
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, variant.etag.clone());
        headers.insert(header::CACHE_CONTROL, CACHE_CONTROL);
        headers.insert(header::VARY, VARY);
        if not_modified {
            return response;
        }
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        if compressed.is_some() {
            headers.insert(header::CONTENT_ENCODING, if encoding == Encoding::Br { BR } else { GZIP });
        }
        response
    }

    /// `If-None-Match` names this document in any of its encodings (weak comparison, RFC 9110 §13.1.2).
    fn matches(&self, header: &HeaderValue) -> bool {
        let Ok(list) = header.to_str() else { return false };
        list.split(',').map(str::trim).any(|tag| {
            if tag == "*" {
                return true;
            }
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            let base = tag.strip_suffix("-gz").or_else(|| tag.strip_suffix("-br")).unwrap_or(tag);
            base == self.hash
        })
    }
}

fn etag(hash: &str, suffix: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).expect("hex is a valid header")
}

/// Brotli when the client takes it, else gzip, else the bytes as they are; `q=0` refuses.
fn negotiate(accept: Option<&HeaderValue>) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else { return Encoding::Identity };
    let mut br = None;
    let mut gzip = None;
    let mut any = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = || {
            parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
        };
        if name.eq_ignore_ascii_case("br") {
            br = Some(q());
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(q());
        } else if name == "*" {
            any = Some(q());
        }
    }
    let accepted = |explicit: Option<f32>| explicit.or(any).is_some_and(|q| q > 0.0);
    if accepted(br) {
        Encoding::Br
    } else if accepted(gzip) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(6));
    encoder.write_all(body).expect("writing to memory");
    encoder.finish().expect("writing to memory").into()
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 3);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, 22);
        writer.write_all(body).expect("writing to memory");
    }
    out.into()
}

#[cfg(test)]
mod tests;
