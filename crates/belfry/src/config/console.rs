//! Objects made in the admin console, validated together with the config file: they are read
//! as one more document (`monitors:` and `channels:` lists) that may use the file's components
//! but never redefine the file's ids. Errors name the object (`console:monitors/web-2`).

use belfry_core::{ConsoleObject, Section};

use super::check::Ctx;
use super::error::ConfigError;
use super::node;
use super::settings::Settings;

/// `base` (the config file's settings) with the console's objects added.
pub fn merge(
    mut base: Settings,
    objects: &[ConsoleObject],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<ConfigError>> {
    if objects.is_empty() {
        return Ok(base);
    }
    let (doc, order) = document(objects);
    const FILE: &str = "<console objects>";
    let root = node::parse(&doc).map_err(|e| {
        vec![ConfigError {
            file: FILE.to_owned(),
            line: e.line,
            column: e.column,
            path: String::new(),
            message: e.message,
        }]
    })?;
    let mut ctx = Ctx::new(FILE, &doc, env);
    let added = super::settings::console(&mut ctx, &root, &base);
    if !ctx.errors.is_empty() {
        return Err(ctx.errors.into_iter().map(|e| name_object(e, &order)).collect());
    }
    // Without errors every entry was read, in order: each must carry the id it is stored under,
    // and no id of the config file (those change only there).
    let read = [
        added.catalog.monitors.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
        added.catalog.alerting.channels.iter().map(|c| c.id.to_string()).collect(),
    ];
    let mut errors = vec![];
    for ((section, stored), read) in order.iter().zip(read) {
        for (stored, read) in stored.iter().zip(read) {
            let (what, defined) = match section {
                Section::Monitors => ("monitor", base.catalog.monitor(stored).is_some()),
                Section::Channels => {
                    ("channel", base.catalog.alerting.channels.iter().any(|c| c.id.as_str() == stored))
                }
            };
            let message = if *stored != read {
                format!("the entry's id `{read}` is not the object's id `{stored}`")
            } else if defined {
                format!("the config file already defines {what} `{stored}`")
            } else {
                continue;
            };
            let file = format!("console:{}/{stored}", section.key());
            errors.push(ConfigError { file, line: 1, column: 1, path: "id".to_owned(), message });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    base.catalog.monitors.extend(added.catalog.monitors);
    base.catalog.alerting.channels.extend(added.catalog.alerting.channels);
    Ok(base)
}

/// The objects as one YAML document; `order[section][i]` is the id of the i-th entry.
fn document(objects: &[ConsoleObject]) -> (String, Vec<(Section, Vec<String>)>) {
    let mut doc = String::new();
    let mut order = vec![];
    for section in Section::ALL {
        let mut ids = vec![];
        let mut first = true;
        for object in objects.iter().filter(|o| o.section == section) {
            if first {
                doc.push_str(section.key());
                doc.push_str(":\n");
                first = false;
            }
            doc.push_str("  -\n");
            for line in object.yaml.lines() {
                doc.push_str("    ");
                doc.push_str(line);
                doc.push('\n');
            }
            ids.push(object.id.clone());
        }
        order.push((section, ids));
    }
    (doc, order)
}

/// `monitors[1].url` in the synthetic document → file `console:monitors/<id>`, path `url`.
fn name_object(mut error: ConfigError, order: &[(Section, Vec<String>)]) -> ConfigError {
    for (section, ids) in order {
        let prefix = format!("{}[", section.key());
        let Some(rest) = error.path.strip_prefix(&prefix) else { continue };
        let Some((index, tail)) = rest.split_once(']') else { continue };
        if let Some(id) = index.parse::<usize>().ok().and_then(|i| ids.get(i)) {
            error.file = format!("console:{}/{id}", section.key());
            error.path = tail.trim_start_matches('.').to_owned();
            error.line = 1;
            error.column = 1;
        }
    }
    error
}

#[cfg(test)]
mod tests {
    use belfry_core::{ConsoleObject, Section};

    use crate::config::load_str_with;

    const FILE: &str =
        "components: [{id: api}]\nmonitors:\n  - {id: api-http, kind: tcp, host: 127.0.0.1, port: 1}\n";

    fn object(section: Section, id: &str, yaml: &str) -> ConsoleObject {
        ConsoleObject { section, id: id.to_owned(), yaml: yaml.to_owned() }
    }

    fn errors(text: &str, objects: &[ConsoleObject]) -> Vec<String> {
        load_str_with("belfry.yaml", text, objects).unwrap_err().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn console_monitors_join_the_files_and_may_use_its_components() {
        let m = object(
            Section::Monitors,
            "web",
            r#"{"id": "web", "kind": "tcp", "host": "127.0.0.1", "port": 2, "component": "api"}"#,
        );
        let settings = load_str_with("belfry.yaml", FILE, &[m]).unwrap();
        let ids: Vec<&str> = settings.catalog.monitors.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["api-http", "web"]);
    }

    #[test]
    fn errors_name_the_console_object() {
        let bad = object(Section::Monitors, "web", "id: web\nkind: http\nurl: ftp://x\n");
        let found = errors(FILE, &[bad]);
        assert!(found.iter().all(|e| e.starts_with("console:monitors/web:1:1: url: ")), "{found:?}");
        let taken = object(
            Section::Monitors,
            "api-http",
            r#"{"id": "api-http", "kind": "tcp", "host": "h", "port": 3}"#,
        );
        assert!(errors(FILE, &[taken])[0].contains("the config file already defines monitor `api-http`"));
        let moved =
            object(Section::Monitors, "web", r#"{"id": "other", "kind": "tcp", "host": "h", "port": 3}"#);
        assert_eq!(
            errors(FILE, &[moved]),
            ["console:monitors/web:1:1: id: the entry's id `other` is not the object's id `web`"]
        );
    }

    #[test]
    fn the_files_escalations_may_name_a_console_channel() {
        let with_escalation =
            format!("{FILE}escalations:\n  - {{id: default, steps: [{{after: 0m, notify: [pager]}}]}}\n");
        let pager = object(
            Section::Channels,
            "pager",
            r#"{"id": "pager", "kind": "webhook", "url": "https://hooks.example.test/p"}"#,
        );
        let settings = load_str_with("belfry.yaml", &with_escalation, &[pager]).unwrap();
        assert_eq!(settings.catalog.alerting.channels[0].id.as_str(), "pager");
        assert!(
            errors(&with_escalation, &[]).iter().any(|e| e.contains("pager")),
            "without it the file is refused"
        );
    }
}
