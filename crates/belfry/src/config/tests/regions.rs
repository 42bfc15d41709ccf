use super::{errors, load};

#[test]
fn regions_and_quorum_load_with_a_majority_by_default() {
    let s = load(
        "monitors:
  - {id: api, kind: tcp, host: 127.0.0.1, port: 80, regions: [eu, us, ap], quorum: 1}
  - {id: web, kind: http, url: http://127.0.0.1/, regions: [eu, us, ap]}
  - {id: two, kind: http, url: http://127.0.0.1/, regions: [local, eu]}
  - {id: db, kind: tcp, host: 127.0.0.1, port: 5432}
",
    );
    let api = s.catalog.monitor("api").unwrap().regions.clone().unwrap();
    assert_eq!((api.names.as_slice(), api.quorum), (["eu", "us", "ap"].map(String::from).as_slice(), 1));
    assert_eq!(s.catalog.monitor("web").unwrap().regions.as_ref().unwrap().quorum, 2);
    let two = s.catalog.monitor("two").unwrap().regions.clone().unwrap();
    assert!(two.runs_locally() && two.quorum == 2);
    assert!(s.catalog.monitor("db").unwrap().regions.is_none());
}

#[test]
fn region_mistakes_are_positioned() {
    let text = "monitors:
  - {id: a, kind: tcp, host: h, port: 1, regions: [eu, us], quorum: 3}
  - {id: b, kind: tcp, host: h, port: 1, regions: [eu, EU, eu, us]}
  - {id: c, kind: tcp, host: h, port: 1, quorum: 2}
  - {id: d, kind: tcp, host: h, port: 1, regions: []}
  - {id: e, kind: heartbeat, token: t, expect_every: 1h, regions: [eu]}
  - {id: f, kind: tcp, host: h, port: 1, regions: eu}
  - {id: g, kind: tcp, host: h, port: 1, regions: [eu], quorum: 0}
";
    let errs = errors(text);
    let expect = [
        "belfry.yaml:2:69: monitors[0].quorum: quorum 3 is more than the 2 regions listed in `regions`",
        "monitors[1].regions[1]: invalid region: \"EU\" may only contain a-z, 0-9, '-' and '_'",
        "monitors[1].regions[2]: region `eu` is listed twice",
        "monitors[2].quorum: `quorum` needs `regions`",
        "monitors[3].regions: list at least one region",
        "monitors[4].regions: a heartbeat monitor is pushed to the server",
        "monitors[5].regions: expected a list",
        "monitors[6].quorum: 0 is out of range: must be between 1 and 16",
    ];
    for e in expect {
        assert!(errs.iter().any(|x| x.contains(e)), "{e}\n{errs:#?}");
    }
}
