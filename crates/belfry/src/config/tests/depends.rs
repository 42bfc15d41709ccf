use super::{errors, load};

const BASE: &str = "monitors:
  - {id: db, kind: tcp, host: 127.0.0.1, port: 5432}
";

#[test]
fn depends_on_loads_parents() {
    let s = load(&format!("{BASE}  - {{id: api, kind: tcp, host: 127.0.0.1, port: 80, depends_on: [db]}}\n"));
    let api = s.catalog.monitor("api").unwrap();
    assert_eq!(api.depends_on.iter().map(|m| m.as_str()).collect::<Vec<_>>(), ["db"]);
    assert!(s.catalog.monitor("db").unwrap().depends_on.is_empty());
}

#[test]
fn unknown_self_and_cyclic_dependencies_are_positioned_errors() {
    let text = "monitors:
  - {id: db, kind: tcp, host: 127.0.0.1, port: 5432, depends_on: [api]}
  - {id: api, kind: tcp, host: 127.0.0.1, port: 80, depends_on: [db, dbb, api]}
";
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|e| e.contains("monitors[1].depends_on[1]: unknown monitor `dbb`; did you mean `db`?")),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("monitors[1].depends_on[2]: a monitor cannot depend on itself")),
        "{errs:#?}"
    );
    assert!(errs.iter().any(|e| e.contains("dependency cycle db → api → db")), "{errs:#?}");
    assert!(errs.iter().all(|e| e.starts_with("belfry.yaml:")), "{errs:#?}");
}
