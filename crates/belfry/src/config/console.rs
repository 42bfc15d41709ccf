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
