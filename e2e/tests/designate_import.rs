//! Migration from a real Designate 23 database (`designate-operator import
//! --from`): the schema made by Designate's own `designate-manage database
//! sync` on this machine's MariaDB, filled through Designate's own storage
//! layer (`fixtures/designate_db_seed.py`: zones with their managed SOA and
//! NS sets, recordsets, TLDs, a blacklist, TSIG keys, a quota, a deleted
//! zone), imported into `standalone`: the same ids and contents are served
//! by REST, kubectl and MiniDNS, and a second run changes nothing.
//!
//! Needs `cargo build -p designate-operator` first, MariaDB on
//! 127.0.0.1:3306 (root, no password) and Designate 23 in a virtualenv
//! (`$DESIGNATE_DB_VENV`, which `.ci/run` makes).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use designate_e2e::{dig, fixture, kubectl_for, operator_bin, rest_request, start_rest, wait_for};
use serde_json::Value;

const ADMIN: [(&str, &str); 3] = [
    ("X-Auth-Project-ID", "migration-admin"),
    ("X-Roles", "admin"),
    ("X-Auth-All-Projects", "true"),
];

fn venv() -> PathBuf {
    let venv = std::env::var_os("DESIGNATE_DB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "set DESIGNATE_DB_VENV to a virtualenv with Designate 23: `python3 -m venv \
             /tmp/designate-db-venv && /tmp/designate-db-venv/bin/pip install designate==23.0.0 \
             PyMySQL` (what .ci/run does)"
            )
        });
    assert!(
        venv.join("bin/designate-manage").is_file(),
        "no designate-manage in {}",
        venv.display()
    );
    venv
}

fn mariadb(sql: &str) {
    let output = Command::new("mariadb")
        .args(["--host=127.0.0.1", "--user=root", "-e", sql])
        .output()
        .expect("running the mariadb client");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The database dropped when the test ends, whatever the outcome.
struct Database(String);

impl Drop for Database {
    fn drop(&mut self) {
        mariadb(&format!("DROP DATABASE IF EXISTS {}", self.0));
    }
}

fn get(base: &str, path: &str) -> Value {
    let answer = rest_request(base, "GET", path, &ADMIN, None);
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
    answer.json()
}

#[test]
fn a_designate_database_is_imported_with_its_ids() {
    let venv = venv();
    let database = Database(format!("designate_import_{}", std::process::id()));
    mariadb(&format!(
        "DROP DATABASE IF EXISTS {0}; CREATE DATABASE {0}",
        database.0
    ));
    let (tmp, standalone, base) = start_rest("designate-import", &[]);
    let url = format!("mysql+pymysql://root@127.0.0.1/{}", database.0);
    let conf = tmp.path().join("designate.conf");
    std::fs::write(
        &conf,
        format!("[storage:sqlalchemy]\nconnection = {url}?charset=utf8mb4\n"),
    )
    .unwrap();
    run(
        Command::new(venv.join("bin/designate-manage"))
            .arg("--config-file")
            .arg(&conf)
            .args(["database", "sync"]),
        "designate-manage database sync",
    );
    let made: Value = serde_json::from_str(&run(
        Command::new(venv.join("bin/python"))
            .args(["-W", "ignore"])
            .arg(fixture("designate_db_seed.py"))
            .arg(&conf),
        "seeding the Designate database",
    ))
    .expect("the seed prints what it made");

    let import = || {
        run(
            Command::new(operator_bin())
                .args(["import", "--from", &url])
                .env("KUBECONFIG", standalone.kubeconfig()),
            "designate-operator import",
        )
    };
    let first = import();
    assert!(first.contains("pools: 1 created"), "{first}");
    assert!(first.contains("zones: 3 created"), "{first}");
    assert!(first.contains("shares: 1 created"), "{first}");
    assert!(first.contains("recordsets: 7 created"), "{first}");

    // Zones: same id, project and created_at; primary ones served.
    for (name, zone) in made["zones"].as_object().unwrap() {
        let id = zone["id"].as_str().unwrap();
        let shown = get(&base, &format!("/v2/zones/{id}"));
        assert_eq!(shown["name"], *name, "{shown}");
        assert_eq!(shown["project_id"], zone["project"], "{shown}");
        let created = shown["created_at"].as_str().unwrap_or_default();
        assert!(
            created.starts_with(zone["created_at"].as_str().unwrap()),
            "{name}: created_at {created}, Designate's {}",
            zone["created_at"]
        );
        if shown["type"] == "PRIMARY" {
            wait_for(Duration::from_secs(30), &format!("{name} ACTIVE"), || {
                let status = get(&base, &format!("/v2/zones/{id}"))["status"].clone();
                (status == "ACTIVE").then_some(()).ok_or(status.to_string())
            });
        }
    }
    let listed = get(&base, "/v2/zones?name=gone.org.");
    assert_eq!(
        listed["zones"],
        Value::Array(vec![]),
        "a deleted zone stays deleted"
    );

    // Recordsets: same id, zone and records; served by MiniDNS.
    let mdns = standalone.mdns_addr().expect("MiniDNS");
    for (key, set) in made["recordsets"].as_object().unwrap() {
        let (name, type_) = key.split_once(' ').unwrap();
        let path = format!(
            "/v2/zones/{}/recordsets/{}",
            set["zone_id"].as_str().unwrap(),
            set["id"].as_str().unwrap()
        );
        let shown = get(&base, &path);
        assert_eq!(
            (shown["name"].as_str(), shown["type"].as_str()),
            (Some(name), Some(type_))
        );
        assert_eq!(shown["project_id"], set["project"], "{key}: {shown}");
        let mut records: Vec<Value> = shown["records"].as_array().unwrap().clone();
        records.sort_by_key(Value::to_string);
        assert_eq!(Value::Array(records), set["records"], "{key}");
        if type_ != "CNAME" {
            let (rcode, answers) = dig(mdns, name, type_);
            assert_eq!(rcode, "NOERROR", "{key}");
            assert_eq!(
                answers.len(),
                set["records"].as_array().unwrap().len(),
                "{key}: {answers:?}"
            );
        }
    }

    // The admin objects keep their ids.
    for (name, id) in made["tlds"].as_object().unwrap() {
        assert_eq!(
            get(&base, &format!("/v2/tlds/{}", id.as_str().unwrap()))["name"],
            *name
        );
    }
    for (pattern, id) in made["blacklists"].as_object().unwrap() {
        assert_eq!(
            get(&base, &format!("/v2/blacklists/{}", id.as_str().unwrap()))["pattern"],
            *pattern
        );
    }
    let org_id = &made["zones"]["example.org."]["id"];
    let org_key = get(
        &base,
        &format!(
            "/v2/tsigkeys/{}",
            made["tsigkeys"]["org-key"].as_str().unwrap()
        ),
    );
    assert_eq!(
        (&org_key["name"], &org_key["scope"], &org_key["resource_id"]),
        (&"org-key".into(), &"ZONE".into(), org_id)
    );
    assert_eq!(org_key["secret"], "c2VjcmV0LXNlY3JldA==");
    let pool_key = get(
        &base,
        &format!(
            "/v2/tsigkeys/{}",
            made["tsigkeys"]["pool-key"].as_str().unwrap()
        ),
    );
    // The second pool is made with its id; the default pool here is kept
    // (with its own id) and the zones of Designate's name it.
    let legacy = get(
        &base,
        &format!("/v2/pools/{}", made["pools"]["legacy"].as_str().unwrap()),
    );
    assert_eq!(legacy["name"], "legacy", "{legacy}");
    assert_eq!(
        legacy["ns_records"][0]["hostname"], "ns.legacy.example.net.",
        "{legacy}"
    );
    assert_eq!(
        pool_key["resource_id"], made["pools"]["legacy"],
        "{pool_key}"
    );
    let default = get(&base, "/v2/pools?name=default");
    assert_eq!(
        get(&base, &format!("/v2/zones/{}", org_id.as_str().unwrap()))["pool_id"],
        default["pools"][0]["id"]
    );
    assert_eq!(get(&base, "/v2/quotas/project-a")["zones"], 7);

    // The share keeps its id; its target sees the zone and its own set.
    let share = &made["shares"]["project-c"];
    let shown = get(
        &base,
        &format!(
            "/v2/zones/{}/shares/{}",
            share["zone_id"].as_str().unwrap(),
            share["id"].as_str().unwrap()
        ),
    );
    assert_eq!(shown["target_project_id"], "project-c", "{shown}");
    assert_eq!(shown["project_id"], "project-a", "{shown}");
    let sharee = [
        ("X-Auth-Project-ID", "project-c"),
        ("X-Roles", "member,reader"),
    ];
    let seen = rest_request(
        &base,
        "GET",
        &format!("/v2/zones/{}", org_id.as_str().unwrap()),
        &sharee,
        None,
    );
    assert_eq!(
        seen.status,
        200,
        "the sharee sees the zone: {}",
        seen.text()
    );

    // kubectl sees the zone with its Designate id.
    let kubectl = kubectl_for(&standalone, tmp.path());
    let annotated = kubectl.ok(&[
        "get",
        "zone",
        "example.org",
        "-n",
        "project-a",
        "-o",
        "jsonpath={.metadata.annotations.designate\\.openstack\\.org/id}",
    ]);
    assert_eq!(annotated, org_id.as_str().unwrap());

    // Again: nothing new, nothing doubled; what a stopped run left undone
    // (here a key's Secret) is done.
    let org_key_id = made["tsigkeys"]["org-key"].as_str().unwrap();
    kubectl.ok(&[
        "delete",
        "secret",
        "-n",
        "default",
        &format!("tsigkey-{org_key_id}"),
    ]);
    let second = import();
    assert!(
        second.contains("TSIG keys: 0 created, 2 already there"),
        "{second}"
    );
    wait_for(Duration::from_secs(10), "the key's secret back", || {
        let key = get(&base, &format!("/v2/tsigkeys/{org_key_id}"));
        (key["secret"] == "c2VjcmV0LXNlY3JldA==")
            .then_some(())
            .ok_or(key.to_string())
    });
    assert!(
        second.contains("zones: 0 created, 3 already there"),
        "{second}"
    );
    assert!(
        second.contains("recordsets: 0 created, 7 already there"),
        "{second}"
    );
    let all = get(&base, "/v2/recordsets?type=A");
    assert_eq!(all["recordsets"].as_array().unwrap().len(), 3, "{all}");
}
