//! The operator's kit (`Dockerfile`, `deploy/`): parsed and checked against the service it
//! runs — the commands and variables it names exist, it runs as a non-root user with a health
//! check, and the alerts watch metrics the service serves. No registry is reachable here, so
//! the image itself is not built by the tests.

use std::collections::HashMap;

use tthc_tests::{HttpMethod, TestApp};

fn read(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap()
}

/// The `TTHC_*` variables `text` sets, as `NAME=value` pairs anywhere in it.
fn variables(text: &str) -> HashMap<String, String> {
    text.split(|c: char| c.is_whitespace() || c == '\\')
        .filter_map(|word| word.split_once('='))
        .filter(|(name, _)| name.starts_with("TTHC_"))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// Refuses variables the configuration does not take, or values it refuses.
fn check_configuration(vars: &HashMap<String, String>) {
    let known = tthc_api::config::Config::from_lookup(|k| vars.get(k).cloned());
    assert!(
        known.is_ok(),
        "{:?}: {vars:?}",
        known.err().map(|e| e.to_string())
    );
    let readme = read("README.md");
    for name in vars.keys() {
        assert!(
            readme.contains(name),
            "{name} is not documented in the README"
        );
    }
}

#[test]
fn the_image_recipe_builds_in_one_stage_and_runs_unprivileged_with_a_health_check() {
    let text = read("Dockerfile");
    // Instructions, with continuation lines joined.
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "a build stage and a run stage: {stages:?}");
    assert!(stages[0].ends_with(" AS build"), "{}", stages[0]);
    let run_stage = lines
        .iter()
        .skip_while(|l| !l.starts_with("FROM debian"))
        .copied()
        .collect::<Vec<_>>();
    let build = lines
        .iter()
        .find(|l| l.starts_with("RUN cargo build"))
        .unwrap();
    assert!(
        build.contains("--release") && build.contains("--locked") && build.contains("--bin tthc")
    );
    assert!(
        run_stage
            .iter()
            .any(|l| l.starts_with("COPY --from=build "))
    );
    let user = run_stage
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the run stage names its user");
    assert!(user != "root" && user != "0", "runs as {user}");
    let health = run_stage
        .iter()
        .find_map(|l| l.strip_prefix("HEALTHCHECK "))
        .expect("a health check");
    assert!(health.contains(r#"CMD ["tthc", "health"]"#), "{health}");
    assert!(run_stage.contains(&r#"ENTRYPOINT ["tthc"]"#));
    assert!(run_stage.contains(&r#"CMD ["serve"]"#));
    let vars = variables(&joined);
    assert_eq!(vars["TTHC_BIND"], "0.0.0.0:8080");
    check_configuration(&vars);
    // What the context leaves out.
    assert!(read(".dockerignore").lines().any(|l| l == "target"));
}

#[test]
fn the_systemd_unit_runs_the_service_as_its_own_user() {
    let text = read("deploy/tthc.service");
    let mut sections: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_owned();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key=value");
        sections
            .entry(current.clone())
            .or_default()
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    let service = &sections["Service"];
    assert_eq!(service["ExecStart"], ["/usr/local/bin/tthc serve"]);
    assert_eq!(service["ExecStartPre"], ["/usr/local/bin/tthc migrate"]);
    assert_eq!(service["User"], ["tthc"]);
    assert_eq!(service["NoNewPrivileges"], ["true"]);
    assert_eq!(sections["Install"]["WantedBy"], ["multi-user.target"]);
    let vars: HashMap<String, String> = service["Environment"]
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    check_configuration(&vars);
}

#[test]
fn the_alerts_watch_metrics_the_service_serves() {
    let app = TestApp::spawn();
    // A request and a subscription, so that the metrics with labels have their first series.
    let token = app.admin_token();
    app.get("/api/v1/units", &token);
    let r = app.post(
        "/api/v1/subscriptions",
        &token,
        &serde_json::json!({"url": "http://127.0.0.1:9/hook", "resourceTypes": ["dossier"]}),
    );
    assert_eq!(r.status, tthc_tests::Status::CREATED, "{}", r.text);
    let served = app.call(HttpMethod::GET, "/metrics", None, None).text;
    let text = read("deploy/prometheus-alerts.yml");
    let mut alerts = 0;
    for expr in text.lines().filter_map(|l| l.trim().strip_prefix("expr: ")) {
        alerts += 1;
        let mut rest = expr;
        while let Some(at) = rest.find("tthc_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            assert!(
                served.contains(&format!("# HELP {base} ")),
                "{name} in {expr:?} is not served"
            );
            rest = &rest[at + name.len()..];
        }
    }
    assert!(alerts >= 5, "{alerts} alerts");
}
