//! The committed OpenAPI document is current and complete.

use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

#[test]
fn the_committed_document_matches_the_code() {
    let generated = tthc_api::openapi::document_json();
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is stale; regenerate it with:\n\n    cargo run -- openapi > openapi/openapi.json\n"
    );
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

#[test]
fn every_operation_is_documented_with_errors_security_and_an_example() {
    let doc: Value = serde_json::from_str(&tthc_api::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            assert!(
                op["security"].is_array(),
                "{name}: security requirement (empty for public)"
            );
            let responses = op["responses"].as_object().unwrap();
            let public = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_object().unwrap().is_empty());
            if !public {
                assert!(responses.contains_key("401"), "{name}: 401 documented");
            }
            // 403 where a scope is needed (any authenticated caller may ask who it is).
            let scoped = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .any(|scopes| !scopes.is_empty());
            if scoped {
                assert!(responses.contains_key("403"), "{name}: 403 documented");
            }
            let success = responses
                .iter()
                .find(|(s, _)| s.starts_with('2'))
                .unwrap()
                .1;
            if let Some(content) = success["content"].as_object() {
                let media = content.values().next().unwrap();
                let schema = resolve(&doc, &media["schema"]);
                // A page's example is its items' example.
                let item = resolve(&doc, &schema["properties"]["items"]["items"]);
                let has_example = media.get("example").is_some()
                    || schema.get("example").is_some()
                    || item.get("example").is_some();
                assert!(has_example, "{name}: success response example");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{name} {status}: problem+json"
                    );
                }
            }
        }
    }
    assert!(operations >= 14, "{operations} operations");
}

/// Two Rust types published under one schema name overwrite each other in the document, and
/// generated clients then read one type with the other's fields or values.
#[test]
fn every_schema_name_belongs_to_one_type() {
    let mut seen = std::collections::BTreeMap::<String, Value>::new();
    let mut clashes = std::collections::BTreeSet::new();
    for (name, schema) in tthc_api::routes::named_schemas() {
        let schema = serde_json::to_value(&schema).unwrap();
        match seen.get(&name) {
            Some(first) if *first != schema => {
                clashes.insert(name);
            }
            Some(_) => {}
            None => {
                seen.insert(name, schema);
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "schema names given by more than one Rust type: {clashes:?}"
    );
    assert!(seen.len() > 100, "{} schemas", seen.len());
}
