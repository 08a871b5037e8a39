//! Every answer the end-to-end tests get is checked against the OpenAPI document the service
//! publishes: its status must be declared for the operation, and a JSON body must validate
//! against the declared schema (formats included). What a generated client would trip on, the
//! suite trips on first.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};

struct Contract {
    doc: Value,
    templates: Vec<(String, Vec<Option<String>>)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let doc: Value = serde_json::from_str(&tthc_api::openapi::document_json()).unwrap();
    let templates = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|t| {
            let segments = t
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            (t.clone(), segments)
        })
        .collect();
    Contract {
        doc,
        templates,
        validators: Mutex::new(HashMap::new()),
    }
});

fn template_of(path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.split('/').collect();
    CONTRACT
        .templates
        .iter()
        .filter(|(_, segments)| {
            segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| match s {
                    Some(fixed) => fixed == p,
                    None => !p.is_empty(),
                })
        })
        .max_by_key(|(_, segments)| segments.iter().filter(|s| s.is_some()).count())
        .map(|(t, _)| t.as_str())
}

fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    let mut cache = CONTRACT.validators.lock().unwrap();
    if let Some(v) = cache.get(key) {
        return Arc::clone(v);
    }
    // The schema's references point into the document's components: keep them beside it.
    let root = json!({"allOf": [schema], "components": CONTRACT.doc["components"]});
    let v = Arc::new(
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema of {key} does not compile: {e}")),
    );
    cache.insert(key.to_owned(), Arc::clone(&v));
    v
}

/// Checks one answer; `Err` says how it breaks the document.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> Result<(), String> {
    let Some(template) = template_of(path) else {
        return Ok(());
    };
    let method = method.to_ascii_lowercase();
    let Some(op) = CONTRACT.doc["paths"][template].get(&method) else {
        // A method the path does not take: the 405 and its Allow are checked elsewhere.
        return Ok(());
    };
    let Some(response) = op["responses"]
        .get(status.to_string())
        .or_else(|| op["responses"].get("default"))
    else {
        return Err(format!(
            "{method} {template} answered {status}, which the document does not declare"
        ));
    };
    let essence = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let is_json = essence == "application/json" || essence.ends_with("+json");
    let Some(content) = response["content"].as_object() else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: the document declares no body, got {essence}"
            ))
        };
    };
    let Some(media) = content.get(&essence) else {
        return Err(format!(
            "{method} {template} {status}: {essence:?} is not among the declared {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if !is_json {
        return Ok(());
    }
    let value: Value = serde_json::from_str(body)
        .map_err(|e| format!("{method} {template} {status}: not JSON ({e})"))?;
    let key = format!("{method} {template} {status} {essence}");
    let v = validator(&key, &media["schema"]);
    let errors: Vec<String> = v
        .iter_errors(&value)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{key}: {}", errors.join("; ")))
    }
}
