//! A precomputed response: the bytes, their gzip and brotli variants and a strong ETag, made
//! once per rebuild and served to every request as they are (P5). Conditional GETs answer 304;
//! the encoding is chosen from `Accept-Encoding`.

use std::io::Write as _;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Bodies smaller than this are sent as they are: compression would not pay for its header.
const COMPRESS_FROM: usize = 256;
/// Brotli quality: fast enough to run on every rebuild, close to the best ratio for text.
const BROTLI_QUALITY: u32 = 6;
/// Everything in the cache is live state: a client may keep it but must revalidate (P4).
pub(crate) const REVALIDATE: &str = "public, no-cache";

/// One precomputed document.
#[derive(Debug)]
pub struct Entry {
    content_type: &'static str,
    /// The hex digest of the identity bytes; every variant's ETag derives from it.
    hash: String,
    identity: Variant,
    gzip: Option<Variant>,
    br: Option<Variant>,
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
    /// Hashes and compresses `body` once.
    pub fn new(content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        let digest = Sha256::digest(&body);
        let hash: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let variant = |suffix: &str, body: Bytes| Variant {
            etag: HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).expect("hex is a valid header"),
            body,
        };
        let (gzip, br) = if body.len() >= COMPRESS_FROM {
            (Some(variant("-gz", gzip(&body))), Some(variant("-br", brotli(&body))))
        } else {
            (None, None)
        };
        Self { content_type, identity: variant("", body), gzip, br, hash }
    }

    /// The same document as `previous` when the bytes are equal (no recompression), else a new one.
    pub fn reuse(
        previous: Option<&std::sync::Arc<Entry>>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> std::sync::Arc<Entry> {
        if let Some(prev) = previous
            && prev.content_type == content_type
            && prev.identity.body.as_ref() == body.as_slice()
        {
            return prev.clone();
        }
        std::sync::Arc::new(Self::new(content_type, body))
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

    #[cfg(test)]
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The response to a GET or HEAD with these request headers.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let encoding = negotiate(request.get(header::ACCEPT_ENCODING));
        let variant = match encoding {
            Encoding::Br => self.br.as_ref(),
            Encoding::Gzip => self.gzip.as_ref(),
            Encoding::Identity => None,
        }
        .unwrap_or(&self.identity);
        let not_modified = request.get(header::IF_NONE_MATCH).is_some_and(|v| self.matches(v));
        let mut builder = Response::builder()
            .header(header::ETAG, variant.etag.clone())
            .header(header::CACHE_CONTROL, REVALIDATE)
            .header(header::VARY, "Accept-Encoding");
        if not_modified {
            return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).expect("valid response");
        }
        builder = builder.header(header::CONTENT_TYPE, self.content_type);
        if !std::ptr::eq(variant, &self.identity) {
            let name = if encoding == Encoding::Br { "br" } else { "gzip" };
            builder = builder.header(header::CONTENT_ENCODING, name);
        }
        builder.body(Body::from(variant.body.clone())).expect("valid response")
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

/// Brotli when the client takes it, else gzip, else the bytes as they are; `q=0` refuses.
fn negotiate(accept: Option<&HeaderValue>) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else { return Encoding::Identity };
    let mut br = None;
    let mut gzip = None;
    let mut any = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => any = Some(q),
            _ => {}
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
