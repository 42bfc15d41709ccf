//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document derived from the route table, so it
//! lists exactly the routes the router serves and who may call each (it cannot drift).

use axum::Json;
use serde_json::{Map, Value, json};

use crate::routes::{Access, route_table};

/// The document (built per request: it is small and rarely fetched).
pub(crate) async fn document() -> Json<Value> {
    Json(build())
}

pub(crate) fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, access) in route_table() {
        if matches!(access, Access::Role(_)) || path.starts_with("/admin") {
            continue; // console pages are HTML for browsers, not API
        }
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "operationId": format!("{}_{}", method.as_str().to_lowercase(), path.trim_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": params,
            "responses": {
                "2XX": {"description": "Success"},
                "4XX": {"description": "Bad input, as JSON {\"error\": {\"code\", \"message\"}}",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        match access {
            Access::Public => op["security"] = json!([]),
            Access::Role(_) => {}
            Access::Scope(scope) => {
                op["security"] = json!([{"bearer": [scope.as_str()]}]);
                op["description"] =
                    json!(format!("Needs a bearer token of scope `{}` or higher.", scope.as_str()));
            }
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Belfry", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
            }}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_access() {
        let doc = build();
        for (method, path, access) in route_table() {
            if matches!(access, Access::Role(_)) || path.starts_with("/admin") {
                continue; // console pages are HTML for browsers, not API
            }
            let op = &doc["paths"][*path][method.as_str().to_lowercase()];
            assert!(op.is_object(), "{method} {path} missing");
            match access {
                Access::Public => assert_eq!(op["security"], json!([])),
                Access::Scope(s) => assert_eq!(op["security"][0]["bearer"][0], s.as_str()),
                Access::Role(_) => unreachable!("skipped above"),
            }
        }
        let monitor = &doc["paths"]["/api/v1/monitors/{id}"]["get"];
        assert_eq!(monitor["parameters"][0]["name"], "id");
    }
}
