//! The Kafka checks against a real 3-broker Apache Kafka cluster (tests/lab), with real
//! faults: brokers stopped, an unresolvable advertised listener, ZooKeeper up and down,
//! the whole cluster down. Nothing here is mocked.

mod support;

use std::time::Duration;

use support::lab::Lab;
use support::{Outcome, guests, playbook_with_steps, run, run_steps, write_playbook};

/// `triage run kafka-cluster` against the lab, checking `topic` only.
fn kafka_cluster(lab: &Lab, topic: &str) -> Outcome {
    run(&[
        "run",
        "kafka-cluster",
        "--bootstrap",
        &lab.bootstrap,
        "--set",
        &format!("topic={topic}"),
        "--format",
        "json",
    ])
}

fn titles(step: &serde_json::Value) -> Vec<String> {
    step["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_healthy_cluster_passes_all_four_checks() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("healthy", 3, 3, &["min.insync.replicas=2"]);
    let outcome = kafka_cluster(lab, "healthy");
    assert_eq!(outcome.code, 0, "{outcome:?}");
    for step in ["reach", "cluster", "isr", "listeners"] {
        assert_eq!(
            outcome.step(step)["status"],
            "pass",
            "{step}: {}",
            outcome.step(step)
        );
    }
    assert_eq!(outcome.step("cluster")["facts"]["brokers"], "3");
    assert_eq!(outcome.step("cluster")["facts"]["mode"], "kraft");
    assert_eq!(outcome.step("isr")["facts"]["partitions"], "3");
    assert!(outcome.json()["diagnosis"].as_array().unwrap().is_empty());
}

#[test]
fn one_broker_down_is_named_and_leaves_partitions_at_min_isr() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("orders", 3, 3, &["min.insync.replicas=2"]);
    scenario.stop(3);
    let outcome = kafka_cluster(lab, "orders");
    assert_eq!(outcome.code, 1, "{outcome:?}");

    let cluster = outcome.step("cluster");
    assert_eq!(cluster["status"], "fail");
    assert_eq!(cluster["facts"]["missing_brokers"], "3");
    assert!(
        titles(&cluster)
            .iter()
            .any(|t| t.starts_with("Broker 3 is down")),
        "{cluster}"
    );

    let isr = outcome.step("isr");
    assert_eq!(isr["facts"]["under_replicated"], "3", "{isr}");
    assert_eq!(isr["facts"]["at_min_isr"], "3", "{isr}");
    assert_eq!(isr["facts"]["under_min_isr"], "0", "{isr}");
    assert!(
        titles(&isr)
            .iter()
            .any(|t| t.contains("exactly at min.insync.replicas=2")),
        "{isr}"
    );

    let diagnosis = outcome.json()["diagnosis"].clone();
    assert_eq!(diagnosis[0]["cause"], "broker.down", "{diagnosis}");
}

#[test]
fn two_brokers_down_put_partitions_under_min_isr_with_the_producer_consequence() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("payments", 2, 3, &["min.insync.replicas=2"]);
    scenario.stop(2);
    scenario.stop(3);
    let outcome = kafka_cluster(lab, "payments");
    let isr = outcome.step("isr");
    assert_eq!(isr["status"], "fail", "{isr}");
    assert_eq!(isr["facts"]["under_min_isr"], "2", "{isr}");
    let below = isr["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "isr.under-min")
        .expect("an under-min-ISR finding")
        .clone();
    assert!(
        below["title"]
            .as_str()
            .unwrap()
            .contains("acks=all get NOT_ENOUGH_REPLICAS"),
        "{below}"
    );
    assert!(
        below["fix"]
            .as_str()
            .unwrap()
            .contains("Restore brokers 2, 3"),
        "{below}"
    );
    let causes: Vec<String> = outcome.json()["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        causes[0], "broker.down",
        "the root ranks above its symptoms: {causes:?}"
    );
    assert!(causes.contains(&"isr.below-min".to_owned()), "{causes:?}");
}

#[test]
fn an_unresolvable_advertised_listener_is_named() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    scenario.advertise(2, "broker2.invalid");
    let outcome = kafka_cluster(lab, "");
    let listeners = outcome.step("listeners");
    assert_eq!(listeners["status"], "fail", "{listeners}");
    let finding = &listeners["findings"][0];
    assert_eq!(finding["cause"], "listener.unresolvable", "{finding}");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .starts_with("Broker 2 advertises broker2.invalid:"),
        "{finding}"
    );
    // Bootstrap itself still works: the classic "connects, then nothing".
    assert_eq!(outcome.step("reach")["status"], "pass");
    assert_eq!(outcome.step("listeners")["facts"]["listeners_ok"], "2");
}

#[test]
fn zookeeper_health_follows_a_real_zookeeper_and_recognises_kraft() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    let zookeeper = scenario.zookeeper_up();
    let dir = tempfile::tempdir().unwrap();
    let playbook = write_playbook(
        dir.path(),
        &format!(
            r#"Playbook(name: "zk", title: "zk", steps: [
                Step(id: "zk", plugin: "zookeeper-health", with: {{ "connect": "{zookeeper}" }},
                     allow: (net: ["{zookeeper}"]), timeout: "15s"),
                Step(id: "kraft", plugin: "zookeeper-health", allow: (kafka: Read), timeout: "15s"),
            ])"#
        ),
    );
    let path = playbook.to_str().unwrap();
    let bootstrap = ["--bootstrap", &lab.bootstrap];
    let up = run(&[&["run", path, "--format", "json"][..], &bootstrap[..]].concat());
    let zk = up.step("zk");
    assert_eq!(zk["status"], "pass", "{zk}");
    assert_eq!(zk["facts"]["mode"], "standalone", "{zk}");
    assert!(
        zk["summary"].as_str().unwrap().contains("standalone"),
        "{zk}"
    );
    let kraft = up.step("kraft");
    assert_eq!(kraft["status"], "pass", "{kraft}");
    assert!(
        kraft["summary"].as_str().unwrap().contains("KRaft mode"),
        "{kraft}"
    );
    assert!(
        kraft["summary"]
            .as_str()
            .unwrap()
            .contains("ZooKeeper is not used"),
        "{kraft}"
    );

    scenario.zookeeper_down();
    let down = run(&[&["run", path, "--format", "json"][..], &bootstrap[..]].concat());
    let zk = down.step("zk");
    assert_eq!(zk["status"], "fail", "{zk}");
    assert_eq!(zk["findings"][0]["cause"], "zookeeper.down", "{zk}");
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serve `page` as a metrics page to every request, in the background; returns its URL.
fn metrics_page(page: &str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

/// One broker-load step reading `url`, run against `bootstrap`.
fn broker_load(bootstrap: &str, url: &str) -> serde_json::Value {
    let outcome = run_steps(
        &format!(
            r#"Step(id: "load", plugin: "broker-load", with: {{ "metrics_url": "{url}" }},
                    allow: (kafka: Read, http: ["{url}"]), timeout: "20s")"#
        ),
        &["--bootstrap", bootstrap, "--kafka-timeout", "2s"],
    );
    outcome.step("load")
}

/// What a JMX exporter with the jmx_exporter example Kafka rules serves, timestamps included.
fn exporter_page(request_handler_idle: &str) -> String {
    format!(
        "# HELP kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent Attribute exposed for management kafka.server:name=RequestHandlerAvgIdlePercent,type=KafkaRequestHandlerPool,attribute=MeanRate\n\
         # TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent gauge\n\
         kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent {request_handler_idle} 1732870000000\n\
         # TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count counter\n\
         kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count 1.73287E10 1732870000000\n\
         # TYPE kafka_network_socketserver_networkprocessoravgidlepercent gauge\n\
         kafka_network_socketserver_networkprocessoravgidlepercent 0.71 1732870000000\n\
         jvm_info{{runtime=\"OpenJDK Runtime Environment\",vendor=\"Eclipse \\\"Adoptium\\\"\",version=\"17.0.12+7\"}} 1.0\n"
    )
}

#[test]
fn broker_load_that_measured_nothing_is_skipped_not_passed() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let no_idle_metrics = metrics_page(
        "# TYPE jvm_memory_bytes_used gauge\njvm_memory_bytes_used{area=\"heap\"} 1.0E8\n",
    );
    let nothing_listens = format!("127.0.0.1:{}", closed_port());
    for bootstrap in [nothing_listens.as_str(), lab.bootstrap.as_str()] {
        let load = broker_load(bootstrap, &no_idle_metrics);
        assert_eq!(load["status"], "skipped", "{bootstrap}: {load}");
        let summary = load["summary"].as_str().unwrap();
        assert!(
            summary.starts_with("could not check broker load"),
            "{summary}"
        );
        assert!(
            summary.contains("has no idle ratio for the request handler (I/O) threads"),
            "the reason is named: {summary}"
        );
        assert!(!summary.contains("no sign of overload"), "{summary}");
    }
}

#[test]
fn broker_load_reads_timestamped_pages_and_never_takes_nan_for_health() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let overloaded = broker_load(&lab.bootstrap, &metrics_page(&exporter_page("0.05")));
    assert_eq!(overloaded["status"], "fail", "{overloaded}");
    let finding = &overloaded["findings"][0];
    assert_eq!(finding["cause"], "broker.overloaded", "{finding}");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .contains("request handler (I/O) threads are saturated: idle 0.05"),
        "{finding}"
    );
    assert_eq!(overloaded["facts"]["idle.num.network.threads"], "0.71");

    let healthy = broker_load(&lab.bootstrap, &metrics_page(&exporter_page("0.93")));
    assert_eq!(healthy["status"], "pass", "{healthy}");
    assert!(
        healthy["summary"].as_str().unwrap().contains(
            "measured: request handler (I/O) threads idle 0.93, network processor threads idle 0.71"
        ),
        "{healthy}"
    );

    for unreadable in ["NaN", "+Inf"] {
        let load = broker_load(&lab.bootstrap, &metrics_page(&exporter_page(unreadable)));
        assert_ne!(load["status"], "pass", "{unreadable}: {load}");
        assert!(
            load["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "metrics.unreadable"
                    && f["title"].as_str().unwrap().contains("could not be read")),
            "{unreadable}: {load}"
        );
        assert!(
            load["facts"].get("idle.num.io.threads").is_none(),
            "{unreadable}: {load}"
        );
    }
}

#[test]
fn zookeeper_step_says_what_it_checked_or_that_it_could_not() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let zookeeper_port = closed_port();
    let steps = format!(
        r#"Step(id: "kraft", plugin: "zookeeper-health", allow: (kafka: Read), timeout: "15s"),
           Step(id: "ungranted", plugin: "zookeeper-health",
                with: {{ "connect": "127.0.0.1:{zookeeper_port}" }}, timeout: "15s")"#
    );
    let up = run_steps(&steps, &["--bootstrap", &lab.bootstrap]);
    let kraft = up.step("kraft");
    assert_eq!(kraft["status"], "pass", "{kraft}");
    let summary = kraft["summary"].as_str().unwrap();
    assert!(summary.contains("KRaft mode"), "{summary}");
    assert!(
        summary.contains("checked: the metadata quorum answers, leader 100, voters 100"),
        "a pass names what it checked: {summary}"
    );
    let ungranted = up.step("ungranted");
    assert_eq!(ungranted["status"], "skipped", "{ungranted}");
    assert!(
        ungranted["summary"]
            .as_str()
            .unwrap()
            .starts_with("could not check ZooKeeper: 127.0.0.1:"),
        "{ungranted}"
    );

    let nothing_listens = format!("127.0.0.1:{}", closed_port());
    let down = run_steps(
        &steps,
        &["--bootstrap", &nothing_listens, "--kafka-timeout", "2s"],
    );
    for id in ["kraft", "ungranted"] {
        let step = down.step(id);
        assert_eq!(step["status"], "skipped", "{id}: {step}");
        assert!(
            step["summary"]
                .as_str()
                .unwrap()
                .starts_with("could not check ZooKeeper"),
            "{id}: {step}"
        );
    }
}

#[test]
fn the_kafka_interface_answers_from_the_real_cluster_and_withholds_secrets() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let outcome = run_steps(
        &format!(
            r#"Step(id: "probe", plugin: "{}", allow: (kafka: Read))"#,
            guests::GUEST_KAFKA
        ),
        &["--bootstrap", &lab.bootstrap],
    );
    let facts = &outcome.step("probe")["facts"];
    assert_eq!(facts["brokers"], "1,2,3", "{facts}");
    assert_eq!(
        facts["controller"], "Some(100)",
        "the KRaft controller, not a broker: {facts}"
    );
    assert_eq!(facts["quorum_leader"], "100", "{facts}");
    assert_eq!(facts["quorum_voters"], "100", "{facts}");
    assert!(!facts["cluster_id"].as_str().unwrap().is_empty(), "{facts}");
    assert!(
        facts["handshake"]
            .as_str()
            .unwrap()
            .ends_with("apis, error None"),
        "advertised listeners need no net grant: {facts}"
    );
    assert!(
        facts["broker_configs"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 100,
        "{facts}"
    );
    assert_eq!(facts["sensitive_values_passed"], "0", "{facts}");
    for broker in 1..=3 {
        let dir = facts[format!("log_dir.{broker}")].as_str().unwrap();
        assert!(
            dir.starts_with("error None, total Some("),
            "broker {broker}: {dir}"
        );
    }

    // Without the grant, the same plugin is denied, by name.
    let outcome = run_steps(
        &format!(r#"Step(id: "probe", plugin: "{}")"#, guests::GUEST_KAFKA),
        &["--bootstrap", &lab.bootstrap],
    );
    let facts = &outcome.step("probe")["facts"];
    assert!(
        facts["metadata"]
            .as_str()
            .unwrap()
            .contains("add `kafka: Read`"),
        "{facts}"
    );
}

#[test]
fn with_every_broker_down_each_kafka_check_ends_unavailable_within_its_timeout() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    for broker in 1..=3 {
        scenario.stop(broker);
    }
    let outcome = run(&[
        "run",
        "kafka-cluster",
        "--bootstrap",
        &lab.bootstrap,
        "--kafka-timeout",
        "3s",
        "--format",
        "json",
    ]);
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert!(
        outcome.elapsed < Duration::from_secs(15),
        "took {:?}",
        outcome.elapsed
    );
    for step in ["cluster", "isr", "listeners"] {
        let result = outcome.step(step);
        assert_eq!(result["status"], "fail", "{step}: {result}");
        assert!(
            result["summary"]
                .as_str()
                .unwrap()
                .starts_with("Kafka unavailable"),
            "{step}: {result}"
        );
        assert!(
            result["duration_ms"].as_u64().unwrap() < 20_000,
            "{step}: {result}"
        );
    }
    // Nothing answered: that is not "the brokers are down" (issue 7, item 13). The cluster
    // checks say the cluster could not be reached, and the refused connections the
    // reachability check saw rank above it.
    assert_eq!(
        outcome.step("cluster")["findings"][0]["cause"],
        "kafka.unreachable"
    );
    let diagnosis = &outcome.json()["diagnosis"];
    assert_eq!(diagnosis[0]["cause"], "net.refused", "{diagnosis}");
    assert!(
        !diagnosis
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["cause"] == "broker.down"),
        "{diagnosis}"
    );
}

/// A one-step playbook running the canary against `topic`, granted to produce to `granted`.
fn canary(lab: &Lab, topic: &str, granted: &str) -> Outcome {
    run_steps(
        &format!(
            r#"Step(id: "canary", plugin: "canary", with: {{ "topic": "{topic}", "count": 20, "timeout_ms": 8000 }},
                    allow: (kafka: Produce(["{granted}"])), timeout: "20s")"#
        ),
        &["--bootstrap", &lab.bootstrap],
    )
}

#[test]
fn the_canary_delivers_and_reads_back_every_record_on_a_healthy_topic() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("canary-ok", 3, 3, &["min.insync.replicas=2"]);
    let outcome = canary(lab, "canary-ok", "canary-ok");
    let step = outcome.step("canary");
    assert_eq!(step["status"], "pass", "{step}");
    assert_eq!(step["facts"]["delivered"], "20", "{step}");
    assert_eq!(step["facts"]["lost"], "0", "{step}");
    assert_eq!(step["facts"]["duplicated"], "0", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .starts_with("20 of 20 records delivered, 20 read back"),
        "{step}"
    );
}

#[test]
fn the_canary_names_not_enough_replicas_behind_expired_records() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("canary-isr", 1, 3, &["min.insync.replicas=2"]);
    scenario.stop(2);
    scenario.stop(3);
    let outcome = canary(lab, "canary-isr", "canary-isr");
    let step = outcome.step("canary");
    assert_eq!(step["status"], "fail", "{step}");
    let finding = &step["findings"][0];
    assert_eq!(finding["cause"], "isr.below-min", "{finding}");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .ends_with("the broker answers NOT_ENOUGH_REPLICAS"),
        "{finding}"
    );
    assert_eq!(step["facts"]["delivered"], "0", "{step}");
}

#[test]
fn the_canary_writes_only_to_its_granted_topic() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let outcome = canary(lab, "orders", "canary-only");
    let step = outcome.step("canary");
    assert_eq!(step["status"], "error", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .contains("producing to `orders` is not granted"),
        "{step}"
    );
}

#[test]
fn a_topic_config_remediation_is_a_dry_run_until_applied() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic(
        "remedy",
        1,
        3,
        &["min.insync.replicas=3", "retention.ms=3600000"],
    );
    // One broker down: the ISR (2) falls below min.insync.replicas (3).
    scenario.stop(3);
    let dir = tempfile::tempdir().unwrap();
    let playbook = write_playbook(
        dir.path(),
        &playbook_with_steps(
            r#"Step(id: "isr", plugin: "isr-check", with: { "topics": "remedy" }, allow: (kafka: Read)),
               Step(id: "lower", plugin: "topic-config", remediation: true, fixes: "isr.below-min",
                    with: { "topic": "remedy", "key": "min.insync.replicas", "value": "1" },
                    allow: (kafka: Admin))"#,
        ),
    );
    let path = playbook.to_str().unwrap();
    let dry = run(&[
        "run",
        path,
        "--bootstrap",
        &lab.bootstrap,
        "--format",
        "json",
    ]);
    assert_eq!(
        dry.step("lower")["summary"],
        "dry run: would set min.insync.replicas=1 on topic `remedy` (was 3); pass --apply to do it"
    );
    let applied = run(&[
        "run",
        path,
        "--bootstrap",
        &lab.bootstrap,
        "--apply",
        "--yes",
        "--format",
        "json",
    ]);
    let step = applied.step("lower");
    assert_eq!(step["status"], "pass", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .starts_with("applied: set min.insync.replicas=1"),
        "{step}"
    );
    // The change took (the ISR is no longer below the minimum, so there is nothing left to
    // fix), and the topic's other settings are untouched: the change was incremental.
    let again = run(&[
        "run",
        path,
        "--bootstrap",
        &lab.bootstrap,
        "--format",
        "json",
    ]);
    assert_ne!(again.step("isr")["status"], "fail", "{}", again.step("isr"));
    assert!(
        again.step("lower")["summary"]
            .as_str()
            .unwrap()
            .starts_with("not run: it fixes `isr.below-min`, which the checks did not establish"),
        "{}",
        again.step("lower")
    );
    let describe = lab.run(&[
        "cli",
        "org.apache.kafka.tools.ConfigCommand",
        "--bootstrap-server",
        &lab.bootstrap,
        "--describe",
        "--entity-type",
        "topics",
        "--entity-name",
        "remedy",
    ]);
    assert!(describe.contains("retention.ms=3600000"), "{describe}");
}
