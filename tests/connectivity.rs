//! End to end: `triage run playbooks/connectivity.ron` against a real listener and a closed
//! port on 127.0.0.1, and log-grep over a broker log with real Kafka lines.

mod support;

use std::net::TcpListener;

use support::run;

fn closed_port() -> String {
    // Bind, note the port, release it: nothing listens there afterwards.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

#[test]
fn an_open_and_a_closed_port_get_the_right_verdicts() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = open.local_addr().unwrap().to_string();
    let closed = closed_port();
    let servers = format!("servers={open},{closed}");
    let outcome = run(&[
        "run",
        "playbooks/connectivity.ron",
        "--set",
        &servers,
        "--format",
        "json",
    ]);
    assert_eq!(
        outcome.code, 1,
        "a refused server fails the check: {outcome:?}"
    );
    let report = outcome.json();
    assert_eq!(report["playbook"], "connectivity");
    assert_eq!(report["status"], "fail");

    let reach = outcome.step("reach");
    assert_eq!(reach["status"], "fail");
    assert_eq!(reach["plugin"], "net-probe");
    assert_eq!(reach["summary"], "1 of 2 servers reachable");
    let findings = reach["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "only the closed port is a finding: {findings:?}"
    );
    assert_eq!(findings[0]["id"], "net.refused");
    assert!(
        findings[0]["title"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{closed} refused the connection"))
    );
    assert!(
        findings[0]["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("Connection refused")
    );
    assert!(findings[0]["fix"].as_str().unwrap().contains("listeners"));

    let log = outcome.step("broker-log");
    assert_eq!(log["status"], "skipped");
    assert_eq!(log["summary"], "input `broker_log` not set");

    let diagnosis = report["diagnosis"].as_array().unwrap();
    assert_eq!(diagnosis[0]["cause"], "net.refused");
    assert_eq!(diagnosis[0]["steps"][0], "reach");
}

#[test]
fn every_reachable_server_passes_with_exit_code_zero() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let servers = format!(
        "servers={},{}",
        a.local_addr().unwrap(),
        b.local_addr().unwrap()
    );
    let outcome = run(&["run", "connectivity", "--set", &servers]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert!(
        outcome.stdout.contains("PASS   reach"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("2 of 2 servers reachable"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("Nothing found that would stop events"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn an_unresolvable_name_is_a_dns_finding() {
    let outcome = run(&[
        "run",
        "connectivity",
        "--set",
        "servers=no-such-broker.invalid:9092",
        "--format",
        "json",
    ]);
    let finding = &outcome.step("reach")["findings"][0];
    assert_eq!(finding["id"], "net.dns", "{finding}");
    assert_eq!(finding["cause"], "dns.unresolvable");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .contains("no-such-broker.invalid does not resolve")
    );
}

#[test]
fn the_broker_log_step_reports_each_known_pattern_with_evidence() {
    let log = support::root().join("tests/fixtures/kafka-server.log");
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let outcome = run(&[
        "run",
        "connectivity",
        "--set",
        &format!("servers={}", open.local_addr().unwrap()),
        "--set",
        &format!("broker_log={}", log.display()),
        "--format",
        "json",
    ]);
    let step = outcome.step("broker-log");
    assert_eq!(step["status"], "fail", "{step}");
    assert_eq!(step["facts"]["count.isr-shrink"], "2");
    assert_eq!(step["facts"]["count.not-enough-replicas"], "1");
    // The ACL denial and the failed SASL authentication are different causes (issue 8):
    // one line each.
    assert_eq!(step["facts"]["count.acl-denied"], "1");
    assert_eq!(
        step["facts"]["count.sasl-authentication-failed-broker"],
        "1"
    );
    assert_eq!(step["facts"]["count.out-of-memory"], "0");
    let isr = step["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "log.isr-shrink")
        .expect("an ISR finding");
    assert_eq!(isr["evidence"][0]["source"], format!("{}:2", log.display()));
    assert_eq!(
        isr["evidence"].as_array().unwrap().len(),
        2,
        "first and last occurrence"
    );
    let diagnosis = outcome.json()["diagnosis"].clone();
    let causes: Vec<&str> = diagnosis
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].as_str().unwrap())
        .collect();
    // Three fails (writes refused for want of replicas, an ACL denial, a rejected identity)
    // outrank the warning.
    let mut fails = causes[..3].to_vec();
    fails.sort();
    assert_eq!(
        fails,
        ["auth.authentication-failed", "auth.denied", "isr.below-min"],
        "{causes:?}"
    );
    assert_eq!(causes[3], "isr.under-replicated", "{causes:?}");
}

#[test]
fn the_applications_own_rejected_connections_get_a_pattern_of_their_own() {
    let log = support::root().join("tests/fixtures/kafka-server.log");
    let dir = tempfile::tempdir().unwrap();
    let playbook = support::write_playbook(
        dir.path(),
        &support::playbook_with_steps(&format!(
            r#"Step(id: "logs", plugin: "log-grep",
                    with: {{ "path": "{log}", "client_address": "10.1.2.3" }},
                    allow: (files: ["{log}"]))"#,
            log = log.display()
        )),
    );
    let outcome = run(&["run", playbook.to_str().unwrap(), "--format", "json"]);
    let step = outcome.step("logs");
    // The ACL denial and the failed authentication name 10.1.2.3; other addresses do not.
    assert_eq!(step["facts"]["count.client-rejected"], "2", "{step}");
    let finding = step["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "log.client-rejected")
        .expect("a finding for the application's address")
        .clone();
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .starts_with("Connections from the application (10.1.2.3) refused or denied"),
        "{finding}"
    );
}
