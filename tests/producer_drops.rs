//! The main job, end to end: `triage run kafka-producer-drops` against the real lab with one
//! real fault injected per test. Each test checks that the injected cause ranks first, in
//! the human report's logic and in the JSON `diagnosis[0]`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use support::lab::{Lab, producer_drops};
use support::{causes, first_cause};

/// A producer.properties that follows every rule.
const GOOD_CONFIG: &str = "\
acks=all
enable.idempotence=true
retries=2147483647
max.in.flight.requests.per.connection=5
linger.ms=5
request.timeout.ms=30000
delivery.timeout.ms=120000
";

fn write_config(dir: &Path, bootstrap: &str, extra: &str) -> PathBuf {
    let path = dir.join("producer.properties");
    std::fs::write(&path, format!("bootstrap.servers={bootstrap}\n{extra}")).unwrap();
    path
}

#[test]
fn a_healthy_cluster_and_a_good_config_find_nothing_failing() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-healthy", 3, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &lab.bootstrap, GOOD_CONFIG);
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-healthy".into()),
            ("producer_config", config.display().to_string()),
            ("canary", "pd-healthy".into()),
        ],
    );
    assert_eq!(outcome.code, 0, "{}", outcome.stdout);
    let report = outcome.json();
    let failing: Vec<&serde_json::Value> = report["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["severity"] == "fail")
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    assert_eq!(outcome.step("canary")["facts"]["delivered"], "20");
}

#[test]
fn one_broker_down_with_min_isr_three_ranks_the_broker_first() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-minisr3", 3, 3, &["min.insync.replicas=3"]);
    scenario.stop(3);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &lab.bootstrap, GOOD_CONFIG);
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-minisr3".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "broker.down",
        "{:?}",
        causes(&outcome)
    );
    let root = &outcome.json()["diagnosis"][0];
    let explains: Vec<&str> = root["explains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        explains.contains(&"isr.below-min"),
        "the down broker explains the ISR: {root}"
    );
}

#[test]
fn two_brokers_down_with_min_isr_two_ranks_the_brokers_first() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-minisr2", 3, 3, &["min.insync.replicas=2"]);
    scenario.stop(2);
    scenario.stop(3);
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-minisr2".into()),
            ("canary", "pd-minisr2".into()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "broker.down",
        "{:?}",
        causes(&outcome)
    );
    assert!(causes(&outcome).contains(&"isr.below-min".to_owned()));
    let canary = outcome.step("canary");
    assert!(
        canary["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("NOT_ENOUGH_REPLICAS"),
        "{canary}"
    );
}

#[test]
fn an_unresolvable_advertised_listener_ranks_first() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-listener", 3, 3, &["min.insync.replicas=2"]);
    scenario.advertise(2, "broker2.invalid");
    let outcome = producer_drops(lab, &[("topic", "pd-listener".into())]);
    assert_eq!(
        first_cause(&outcome),
        "listener.unresolvable",
        "{:?}",
        causes(&outcome)
    );
}

#[test]
fn a_wrong_port_in_bootstrap_servers_ranks_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-port", 3, 3, &["min.insync.replicas=2"]);
    let first = lab.bootstrap.split(',').next().unwrap();
    let (host, port) = first.rsplit_once(':').unwrap();
    let wrong = format!("{host}:{}", port.parse::<u16>().unwrap() + 1);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &wrong, GOOD_CONFIG);
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-port".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "config.bootstrap",
        "{:?}",
        causes(&outcome)
    );
}

#[test]
fn a_delivery_timeout_below_linger_plus_request_timeout_ranks_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-timeouts", 3, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &lab.bootstrap,
        "acks=all\nlinger.ms=100\nrequest.timeout.ms=30000\ndelivery.timeout.ms=20000\n",
    );
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-timeouts".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "config.delivery-timeout",
        "{:?}",
        causes(&outcome)
    );
}

#[test]
fn acks_one_with_no_retries_ranks_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-acks", 3, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &lab.bootstrap, "acks=1\nretries=0\n");
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-acks".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    let first = first_cause(&outcome);
    assert!(
        first == "config.acks-weak" || first == "config.retries",
        "{:?}",
        causes(&outcome)
    );
    assert!(causes(&outcome).contains(&"config.acks-weak".to_owned()));
    assert!(causes(&outcome).contains(&"config.retries".to_owned()));
}

#[test]
fn a_request_size_above_the_topics_limit_is_proved_by_the_canary() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic(
        "pd-size",
        1,
        3,
        &["min.insync.replicas=2", "max.message.bytes=100000"],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &lab.bootstrap,
        &format!("{GOOD_CONFIG}max.request.size=500000\n"),
    );
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-size".into()),
            ("producer_config", config.display().to_string()),
            ("canary", "pd-size".into()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "config.message-size",
        "{:?}",
        causes(&outcome)
    );
    let canary = outcome.step("canary");
    assert_eq!(canary["facts"]["error.MSG_SIZE_TOO_LARGE"], "1", "{canary}");
    let steps = &outcome.json()["diagnosis"][0]["steps"];
    assert!(
        steps.as_array().unwrap().iter().any(|s| s == "canary"),
        "the canary corroborates: {steps}"
    );
}

#[test]
fn a_missing_topic_with_auto_create_off_ranks_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-orders", 3, 3, &["min.insync.replicas=2"]);
    let outcome = producer_drops(lab, &[("topic", "pd-ordres".into())]);
    assert_eq!(
        first_cause(&outcome),
        "topic.missing",
        "{:?}",
        causes(&outcome)
    );
    let finding = &outcome.step("topic")["findings"][0];
    assert!(
        finding["fix"]
            .as_str()
            .unwrap()
            .contains("Did you mean `pd-orders`?"),
        "{finding}"
    );
    assert!(
        finding["evidence"][1]["excerpt"] == "auto.create.topics.enable=false",
        "{finding}"
    );
}

#[test]
fn an_app_that_drops_send_futures_and_never_flushes_ranks_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-app", 3, 3, &["min.insync.replicas=2"]);
    let app = support::root().join("tests/fixtures/apps/broken/java-orders");
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "pd-app".into()),
            ("app_source", app.display().to_string()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "client.unchecked-send",
        "{:?}",
        causes(&outcome)
    );
    assert!(
        causes(&outcome).contains(&"client.no-flush".to_owned()),
        "{:?}",
        causes(&outcome)
    );
}

/// Serve one fixed Prometheus page to every request, in the background.
fn metrics_server(page: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{address}/metrics")
}

#[test]
fn request_handlers_at_five_percent_idle_rank_overload_first() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-load", 3, 3, &["min.insync.replicas=2"]);
    let url = metrics_server(
        "# TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_oneminuterate gauge\n\
         kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_oneminuterate 0.05\n\
         kafka_network_socketserver_networkprocessoravgidlepercent 0.71\n",
    );
    let outcome = producer_drops(lab, &[("topic", "pd-load".into()), ("metrics_url", url)]);
    assert_eq!(
        first_cause(&outcome),
        "broker.overloaded",
        "{:?}",
        causes(&outcome)
    );
    let load = outcome.step("load");
    assert!(
        load["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("request handler (I/O) threads are saturated"),
        "{load}"
    );
    assert!(
        load["findings"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("num.io.threads (now 8)"),
        "{load}"
    );
}

/// Issue 7, item 14: with no bootstrap given (no --bootstrap, no --set bootstrap, no
/// --kafka-config), nothing is judged against a default nobody chose: the producer's
/// bootstrap.servers is not compared with `localhost:9092`, config-audit says why it did not
/// compare and still reports its other rules, and the steps that need a cluster say that no
/// bootstrap was given.
#[test]
fn without_a_bootstrap_the_config_is_not_judged_against_a_default() {
    let dir = tempfile::tempdir().unwrap();
    // Other hosts than the default: a local listener on another port (the "wrong port?" of
    // the default), and a name. acks=0 is a real problem the audit must still report.
    let config = write_config(dir.path(), "127.0.0.1:19092,kafka-b:9092", "acks=0\n");
    let outcome = support::run_command(
        support::triage()
            .args([
                "run",
                "kafka-producer-drops",
                "--set",
                "topic=orders",
                "--set",
                &format!("producer_config={}", config.display()),
                "--format",
                "json",
            ])
            .env_remove("TRIAGE_BOOTSTRAP"),
    );
    let step = outcome.step("config");
    let findings = step["findings"].as_array().unwrap();
    let bootstrap: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("config.bootstrap"))
        .collect();
    assert!(
        bootstrap
            .iter()
            .all(|f| f["severity"] == "info" && f["cause"].is_null()),
        "judged against a default: {bootstrap:#?}"
    );
    let note = bootstrap
        .iter()
        .find(|f| f["id"] == "config.bootstrap.not-compared")
        .unwrap_or_else(|| panic!("no note: {step}"));
    assert!(
        note["title"]
            .as_str()
            .unwrap()
            .contains("no bootstrap servers were given"),
        "{note}"
    );
    assert!(
        causes(&outcome).contains(&"config.acks-weak".to_owned()),
        "the other rules still ran: {:?}",
        causes(&outcome)
    );
    for id in ["network", "cluster", "listeners", "topic"] {
        let step = outcome.step(id);
        assert_eq!(step["status"], "skipped", "{id}: {step}");
        assert_eq!(step["summary"], "input `bootstrap` not set", "{id}: {step}");
    }
    let hints = outcome.json()["next_steps"].to_string();
    assert!(
        hints.contains("`cluster` did not run: pass --set bootstrap=... (Kafka bootstrap servers"),
        "{hints}"
    );
}

/// Issue 7: `sys.disk-usage-of` needs a files grant covering the path, so the playbook's
/// load step grants the `log_dir` input. Given the broker's log directory, its free space is
/// measured; without it the step says the disk was not measured rather than passing it.
#[test]
fn on_a_broker_host_the_log_dir_disk_is_measured_through_its_grant() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("pd-disk", 1, 3, &[]);
    let server_log = PathBuf::from(lab.run(&["logs", "1"]).trim());
    let log_dir = server_log
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("data");
    assert!(
        log_dir.is_dir(),
        "{} is not the broker's log dir",
        log_dir.display()
    );
    let log_dir = log_dir.display().to_string();

    let measured = producer_drops(
        lab,
        &[
            ("topic", "pd-disk".into()),
            ("on_broker_host", "true".into()),
            ("log_dir", log_dir.clone()),
        ],
    );
    let load = measured.step("load");
    let summary = load["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("{log_dir} ")) && summary.contains("% free"),
        "{load}"
    );
    assert!(!summary.contains("disk of"), "{load}");

    let without = producer_drops(
        lab,
        &[
            ("topic", "pd-disk".into()),
            ("on_broker_host", "true".into()),
        ],
    );
    let load = without.step("load");
    let summary = load["summary"].as_str().unwrap();
    assert!(!summary.contains("% free"), "{load}");
    assert!(summary.contains("not measured: disk of"), "{load}");
}
