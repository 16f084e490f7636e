//! `config-audit` end to end: the real `triage` binary runs the real plugin in its sandbox
//! against the real 3-broker lab. Each scenario writes one producer configuration with one
//! mistake in it and expects the diagnosis to name that mistake first; nothing is mocked.
//!
//! [`the_labelled_config_corpus_is_audited_with_recall_and_precision`] needs no lab: it runs
//! the plugin over tests/corpus/configs (files written for the purpose, labelled before the
//! first run) and measures what it finds against the labels.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::lab::Lab;
use support::{Outcome, run, write_playbook};

/// Write `properties` as the application's producer configuration and audit it, with the
/// playbook step the brief prescribes: the file, the lab's listeners and `kafka: Read`.
fn audit(lab: &Lab, dir: &Path, properties: &str, topic: &str) -> Outcome {
    let file = dir.join("producer.properties");
    std::fs::write(&file, properties).unwrap();
    let file = file.to_str().unwrap();
    let bootstrap = &lab.bootstrap;
    let playbook = write_playbook(
        dir,
        &format!(
            r#"Playbook(name: "config", title: "Producer configuration", steps: [
                Step(id: "config", plugin: "config-audit",
                     with: {{ "path": "{file}", "topic": "{topic}", "bootstrap": "{bootstrap}" }},
                     allow: (files: ["{file}"], net: ["{bootstrap}"], kafka: Read)),
            ])"#
        ),
    );
    run(&[
        "run",
        playbook.to_str().unwrap(),
        "--bootstrap",
        bootstrap,
        "--format",
        "json",
    ])
}

/// A configuration with nothing wrong in it, to which each scenario adds its mistake.
fn sound_config(lab: &Lab) -> String {
    format!(
        "# orders-service producer\n\
         bootstrap.servers={}\n\
         key.serializer=org.apache.kafka.common.serialization.StringSerializer\n\
         value.serializer=org.apache.kafka.common.serialization.StringSerializer\n",
        lab.bootstrap
    )
}

fn findings(outcome: &Outcome) -> Vec<Value> {
    outcome.step("config")["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {}", outcome.stdout))
        .clone()
}

/// The finding with this id; panics with the whole step otherwise.
fn finding(outcome: &Outcome, id: &str) -> Value {
    findings(outcome)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {}", outcome.step("config")))
}

fn failing_ids(outcome: &Outcome) -> Vec<String> {
    findings(outcome)
        .iter()
        .filter(|f| f["severity"] == "fail")
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

fn first_cause(outcome: &Outcome) -> String {
    outcome.json()["diagnosis"][0]["cause"]
        .as_str()
        .unwrap_or_else(|| panic!("no diagnosis in {}", outcome.stdout))
        .to_owned()
}

fn sources(finding: &Value) -> Vec<String> {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} | {}",
                e["source"].as_str().unwrap(),
                e["excerpt"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_sound_configuration_has_no_failing_finding() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-sound", 3, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let properties = format!(
        "{}acks=all\nenable.idempotence=true\ndelivery.timeout.ms=120000\nlinger.ms=5\n\
         request.timeout.ms=30000\n",
        sound_config(lab)
    );
    let outcome = audit(lab, dir.path(), &properties, "audit-sound");
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let step = outcome.step("config");
    assert_eq!(step["status"], "pass", "{step}");
    assert!(failing_ids(&outcome).is_empty(), "{step}");
    assert_eq!(step["facts"]["dialect"], "java", "{step}");
    assert_eq!(step["facts"]["bootstrap_reachable"], "3", "{step}");
    assert!(
        outcome.json()["diagnosis"].as_array().unwrap().is_empty(),
        "{}",
        outcome.stdout
    );
    // The defaults it relied on are stated, not silently assumed.
    assert!(
        sources(&finding(&outcome, "config.defaults"))
            .iter()
            .any(|e| e.ends_with(
                "retries not set: assuming the Java client default retries=2147483647 (since 2.1)"
            )),
        "{step}"
    );
}

#[test]
fn a_delivery_timeout_below_linger_plus_request_timeout_fails_with_the_numbers() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-delivery", 1, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let properties = format!(
        "{}delivery.timeout.ms=30000\nlinger.ms=100\nrequest.timeout.ms=30000\n",
        sound_config(lab)
    );
    let outcome = audit(lab, dir.path(), &properties, "audit-delivery");
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(failing_ids(&outcome), ["config.delivery-timeout"]);
    let delivery = finding(&outcome, "config.delivery-timeout");
    assert_eq!(delivery["cause"], "config.delivery-timeout");
    assert_eq!(
        delivery["title"],
        "delivery.timeout.ms=30000 < linger.ms=100 + request.timeout.ms=30000 = 30100: the Java \
         client refuses to start"
    );
    let evidence = sources(&delivery);
    assert!(
        evidence[0].ends_with("producer.properties:5 | delivery.timeout.ms=30000"),
        "{evidence:?}"
    );
    assert!(
        delivery["fix"].as_str().unwrap().contains("at least 30100"),
        "{delivery}"
    );
    assert_eq!(first_cause(&outcome), "config.delivery-timeout");
}

#[test]
fn acks_1_with_retries_0_loses_events_two_ways() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-acks", 1, 3, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let properties = format!("{}acks=1\nretries=0\n", sound_config(lab));
    let outcome = audit(lab, dir.path(), &properties, "audit-acks");
    assert_eq!(outcome.code, 1, "{outcome:?}");

    let retries = finding(&outcome, "config.retries");
    assert_eq!(retries["severity"], "fail", "{retries}");
    assert_eq!(retries["cause"], "config.retries");
    assert!(
        sources(&retries)[0].ends_with("producer.properties:6 | retries=0"),
        "{retries}"
    );

    let acks = finding(&outcome, "config.acks");
    assert_eq!(acks["severity"], "warn", "{acks}");
    assert_eq!(acks["cause"], "config.acks-weak");
    assert!(
        sources(&acks)
            .iter()
            .any(|e| e
                .contains("topic audit-acks: min.insync.replicas=2, which only acks=all enforces")),
        "{acks}"
    );
    // Both settings also switch off the default idempotence, without a word from the client.
    assert_eq!(finding(&outcome, "config.idempotence")["severity"], "info");

    let causes: Vec<Value> = outcome.json()["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].clone())
        .collect();
    assert_eq!(
        causes,
        ["config.retries", "config.acks-weak"],
        "{}",
        outcome.stdout
    );
}

#[test]
fn a_max_request_size_above_the_topic_limit_fails() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic(
        "audit-small",
        1,
        3,
        &["min.insync.replicas=2", "max.message.bytes=100000"],
    );
    let dir = tempfile::tempdir().unwrap();
    let properties = format!("{}max.request.size=1048576\n", sound_config(lab));
    let outcome = audit(lab, dir.path(), &properties, "audit-small");
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(failing_ids(&outcome), ["config.message-size"]);
    let size = finding(&outcome, "config.message-size");
    assert_eq!(
        size["title"],
        "max.request.size=1048576 is above max.message.bytes=100000 of topic audit-small: records \
         between 100000 and 1048576 bytes fail with RecordTooLargeException (MESSAGE_TOO_LARGE)"
    );
    assert!(
        sources(&size).contains(
            &"kafka.describe-configs | topic audit-small: max.message.bytes=100000".to_owned()
        ),
        "{size}"
    );
    assert_eq!(first_cause(&outcome), "config.message-size");
}

#[test]
fn a_wrong_port_in_bootstrap_servers_is_named_from_the_advertised_listeners() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-port", 1, 3, &["min.insync.replicas=2"]);
    // A port nothing listens on: the kernel's pick, released again.
    let wrong = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let properties = format!(
        "bootstrap.servers=127.0.0.1:{wrong}\nacks=all\n\
         key.serializer=org.apache.kafka.common.serialization.StringSerializer\n"
    );
    let outcome = audit(lab, dir.path(), &properties, "audit-port");
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(failing_ids(&outcome), ["config.bootstrap.wrong-port"]);
    let port = finding(&outcome, "config.bootstrap.wrong-port");
    assert_eq!(port["cause"], "config.bootstrap");
    let title = port["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!(
            "bootstrap.servers has 127.0.0.1:{wrong} but the cluster listens on 127.0.0.1:"
        )) && title.ends_with("— wrong port?"),
        "{title}"
    );
    for listener in lab.bootstrap.split(',') {
        let port = listener.rsplit_once(':').unwrap().1;
        assert!(title.contains(port), "{listener} missing from: {title}");
    }
    let evidence = sources(&port);
    assert!(
        evidence[0].ends_with(&format!(
            "producer.properties:1 | bootstrap.servers=127.0.0.1:{wrong}"
        )),
        "{evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("kafka.metadata | broker 1 advertises 127.0.0.1:")),
        "{evidence:?}"
    );
    assert_eq!(first_cause(&outcome), "config.bootstrap");
}

/// Issue 8: Kafka 3.7+ caps min.insync.replicas at the replica count (KAFKA-15583), so on the
/// lab's Kafka 4.4 a topic with one replica and min.insync.replicas=2 takes acks=all writes
/// (a real producer proves it in tests/topic_rules_lab.rs): no "every write fails" claim.
/// Before 3.7 the same topic refused every write; that branch is unit-tested by version.
#[test]
fn min_insync_above_the_replication_factor_is_no_failure_on_kafka_4() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-rf1", 2, 1, &["min.insync.replicas=2"]);
    let dir = tempfile::tempdir().unwrap();
    let outcome = audit(lab, dir.path(), &sound_config(lab), "audit-rf1");
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(failing_ids(&outcome), Vec::<String>::new());
    assert!(
        findings(&outcome)
            .iter()
            .all(|f| f["cause"] != "isr.below-min"),
        "{outcome:?}"
    );
}

#[test]
fn acks_all_with_a_broker_down_names_the_partitions_that_reject_writes_now() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    // Three partitions of two replicas over three brokers: stopping broker 3 leaves the
    // partitions it held with one in-sync replica, below min.insync.replicas=2.
    lab.topic("audit-isr", 3, 2, &["min.insync.replicas=2"]);
    scenario.stop(3);
    let dir = tempfile::tempdir().unwrap();
    let properties = format!("{}acks=all\n", sound_config(lab));
    let outcome = audit(lab, dir.path(), &properties, "audit-isr");
    let below = finding(&outcome, "config.isr-below-min");
    assert_eq!(below["severity"], "fail", "{below}");
    assert_eq!(below["cause"], "isr.below-min");
    let title = below["title"].as_str().unwrap();
    assert!(
        title.starts_with("audit-isr: ")
            && title.contains("(audit-isr-")
            && title.contains("min.insync.replicas=2: acks=all writes to them fail now"),
        "{title}"
    );
    // Exactly the partitions that had a replica on broker 3, each quoted with its ISR.
    let quoted: Vec<String> = sources(&below)
        .into_iter()
        .filter(|e| e.starts_with("kafka.metadata | audit-isr-"))
        .collect();
    assert!(!quoted.is_empty(), "{below}");
    for partition in &quoted {
        let (replicas, isr) = partition.split_once(", ISR ").unwrap();
        let replicas = replicas.rsplit_once("replicas ").unwrap().1;
        assert!(replicas.contains('3') && !isr.contains('3'), "{partition}");
    }
    // The stopped broker's entry in bootstrap.servers no longer answers, but the others do:
    // a warning, not the cause.
    let bootstrap = finding(&outcome, "config.bootstrap.refused");
    assert_eq!(bootstrap["severity"], "warn", "{bootstrap}");
    assert_eq!(first_cause(&outcome), "isr.below-min", "{}", outcome.stdout);
}

/// One file of the labelled corpus (tests/corpus/configs/labels.ron).
#[derive(serde::Deserialize)]
struct Labelled {
    file: String,
    dialect: String,
    expect: Vec<(String, usize, Level)>,
}

/// A finding's severity as the labels write it.
#[derive(serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Warn,
    Fail,
}

/// A warn or fail finding as the corpus scores it: id, the line of the first setting it
/// cites (0 for none), severity.
fn scored(step: &Value) -> Vec<(String, usize, Level)> {
    let file_line = |finding: &Value| {
        finding["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["source"].as_str()?.rsplit_once(':')?.1.parse().ok())
            .next()
            .unwrap_or(0)
    };
    step["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {step}"))
        .iter()
        .filter_map(|f| {
            let level = match f["severity"].as_str()? {
                "warn" => Level::Warn,
                "fail" => Level::Fail,
                _ => return None,
            };
            Some((f["id"].as_str()?.to_owned(), file_line(f), level))
        })
        .collect()
}

/// The labelled corpus, and every file of it audited in one run (files only, no cluster, no
/// bootstrap given): the step of `labels[n]` is `c{n}`.
fn audit_corpus() -> (PathBuf, Vec<Labelled>, Outcome) {
    let corpus = support::root().join("tests/corpus/configs");
    let labels: Vec<Labelled> =
        ron::from_str(&std::fs::read_to_string(corpus.join("labels.ron")).unwrap()).unwrap();
    let steps: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(n, labelled)| {
            let path = corpus.join(&labelled.file);
            let path = path.to_str().unwrap();
            format!(
                r#"Step(id: "c{n}", plugin: "config-audit", with: {{ "path": "{path}" }},
                        allow: (files: ["{path}"])),"#
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let playbook = write_playbook(
        dir.path(),
        &format!(
            r#"Playbook(name: "corpus", title: "Config corpus", steps: [{}])"#,
            steps.join("\n")
        ),
    );
    let outcome = run(&["run", playbook.to_str().unwrap(), "--format", "json"]);
    (corpus, labels, outcome)
}

/// The corpus: each finding scored against the labels written before the first run.
#[test]
fn the_labelled_config_corpus_is_audited_with_recall_and_precision() {
    let (_, labels, outcome) = audit_corpus();
    let (mut expected, mut found, mut reported, mut right) = (0, 0, 0, 0);
    let (mut dialects_right, mut misses) = (0, Vec::new());
    for (n, labelled) in labels.iter().enumerate() {
        let step = outcome.step(&format!("c{n}"));
        let got = scored(&step);
        let want = &labelled.expect;
        expected += want.len();
        found += want.iter().filter(|w| got.contains(w)).count();
        reported += got.len();
        right += got.iter().filter(|g| want.contains(g)).count();
        if step["facts"]["dialect"] == labelled.dialect.as_str() {
            dialects_right += 1;
        }
        for miss in want.iter().filter(|w| !got.contains(w)) {
            misses.push(format!("{}: missed {miss:?}", labelled.file));
        }
        for wrong in got.iter().filter(|g| !want.contains(g)) {
            misses.push(format!("{}: reported {wrong:?}", labelled.file));
        }
    }
    println!(
        "config corpus: recall = {found}/{expected}, precision = {right}/{reported}, \
         dialect = {dialects_right}/{}",
        labels.len()
    );
    for miss in &misses {
        println!("  {miss}");
    }
    assert!(expected > 0 && reported > 0, "{}", outcome.stdout);
    assert!(
        found * 100 >= expected * 90,
        "recall {found}/{expected} below 90%: {misses:#?}"
    );
    assert!(
        right * 100 >= reported * 90,
        "precision {right}/{reported} below 90%: {misses:#?}"
    );
    assert_eq!(dialects_right, labels.len(), "{misses:#?}");
}

/// Does the audit say that the client will not even start (or create the producer)?
fn audit_says_refused(step: &Value) -> bool {
    step["findings"].as_array().unwrap().iter().any(|f| {
        let title = f["title"].as_str().unwrap_or("");
        f["severity"] == "fail"
            && (title.contains("refuses to start")
                || title.contains("refuses it")
                || title.contains("is not created"))
    })
}

/// What config-audit calls "refuses to start" is what the real clients refuse, and what it
/// calls ignored or risky still starts: every Java file of the corpus is handed to a real
/// KafkaProducer (the lab's kafka-clients 4.4.0, tests/fixtures/configs/StartProducer.java),
/// every librdkafka file to a real librdkafka producer (the rdkafka crate's), and each
/// invalid value the labels name is tried alone as well, since a client stops at the first.
#[test]
fn the_real_clients_refuse_exactly_what_the_audit_says_they_refuse() {
    let (corpus, labels, outcome) = audit_corpus();
    let dir = tempfile::tempdir().unwrap();

    // Files on the application's host are replaced by real ones made here: the Java secure
    // control's truststore comes from the environment through a ConfigProvider (a PKCS12
    // truststore without password), the librdkafka control's CA file is a PEM certificate.
    let keytool = |args: &[&str]| {
        let status = std::process::Command::new("keytool")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("keytool (the JDK's) runs");
        assert!(status.status.success(), "keytool {args:?}: {status:?}");
    };
    keytool(&[
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "RSA",
        "-keystore",
        "ca.p12",
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit",
        "-dname",
        "CN=corpus-ca",
        "-validity",
        "2",
    ]);
    keytool(&[
        "-exportcert",
        "-alias",
        "ca",
        "-keystore",
        "ca.p12",
        "-storepass",
        "changeit",
        "-file",
        "ca.crt",
    ]);
    keytool(&[
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        "ca.p12",
        "-storepass",
        "changeit",
        "-file",
        "ca.pem",
    ]);
    keytool(&[
        "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE",
        "-J-Dkeystore.pkcs12.macAlgorithm=NONE",
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.crt",
        "-keystore",
        "ts.p12",
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit",
    ]);

    // Each labelled invalid value alone, on top of a file the client accepts.
    let mut single = Vec::new();
    for labelled in &labels {
        let text = std::fs::read_to_string(corpus.join(&labelled.file)).unwrap();
        for (id, line, _) in labelled
            .expect
            .iter()
            .filter(|(id, ..)| id == "config.invalid")
        {
            let entry = text.lines().nth(line - 1).unwrap();
            let name = format!(
                "single-{}-{line}.properties",
                labelled.file.replace('/', "-")
            );
            let base = if labelled.dialect == "java" {
                "bootstrap.servers=kafka:9092\n"
            } else {
                "bootstrap.servers=kafka:9092\nstatistics.interval.ms=60000\n"
            };
            std::fs::write(dir.path().join(&name), format!("{base}{entry}\n")).unwrap();
            single.push((
                labelled.dialect.clone(),
                name,
                format!("{id} at {}:{line}", labelled.file),
            ));
        }
    }

    // The Java client, all files in one JVM.
    let jars = lab_kafka_jars();
    let mut java_files: Vec<PathBuf> = labels
        .iter()
        .filter(|l| l.dialect == "java")
        .map(|l| corpus.join(&l.file))
        .collect();
    java_files.extend(
        single
            .iter()
            .filter(|(dialect, ..)| dialect == "java")
            .map(|(_, name, _)| dir.path().join(name)),
    );
    let probe = std::process::Command::new("java")
        .arg("-cp")
        .arg(format!("{}/*", jars.display()))
        .arg(support::root().join("tests/fixtures/configs/StartProducer.java"))
        .args(&java_files)
        .env("PAYMENTS_TRUSTSTORE", dir.path().join("ts.p12"))
        .output()
        .expect("java runs");
    let verdicts = String::from_utf8_lossy(&probe.stdout).into_owned();
    let java_verdict = |path: &Path| -> String {
        verdicts
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{}\t", path.display())))
            .unwrap_or_else(|| {
                panic!(
                    "no verdict for {}: {verdicts}\n{}",
                    path.display(),
                    String::from_utf8_lossy(&probe.stderr)
                )
            })
            .to_owned()
    };

    // librdkafka: the same file, key by key, into a real producer. A value this build of
    // librdkafka lacks the library for ("libzstd not available at build time") is a fact
    // about the build, not about the file: that key is dropped and the rest tried again, and
    // the verdict says so.
    let librdkafka_verdict = |path: &Path| -> String {
        let text = std::fs::read_to_string(path).unwrap();
        let mut entries: Vec<(String, String)> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (key, value) = line.split_once('=').unwrap();
                let value = match key.trim() {
                    "ssl.ca.location" => dir.path().join("ca.pem").display().to_string(),
                    _ => value.trim().to_owned(),
                };
                (key.trim().to_owned(), value)
            })
            .collect();
        let mut dropped = String::new();
        loop {
            let mut config = rdkafka::ClientConfig::new();
            for (key, value) in &entries {
                config.set(key, value);
            }
            let error = match config.create::<rdkafka::producer::BaseProducer>() {
                Ok(_) => return format!("started{dropped}"),
                Err(error) => error.to_string(),
            };
            let missing = entries.iter().position(|(key, value)| {
                error.contains("not available at build time")
                    && error.contains(&format!("{key} {value}"))
            });
            match missing {
                Some(at) => {
                    let (key, value) = entries.remove(at);
                    dropped.push_str(&format!(" (without {key}={value}: not in this build)"));
                }
                None => return format!("refused: {error}{dropped}"),
            }
        }
    };

    let mut disagreements = Vec::new();
    for (n, labelled) in labels.iter().enumerate() {
        let path = corpus.join(&labelled.file);
        let verdict = match labelled.dialect.as_str() {
            "java" => java_verdict(&path),
            "librdkafka" => librdkafka_verdict(&path),
            // No 0.8 Scala producer exists to ask (removed in Kafka 2.0).
            _ => continue,
        };
        let audit = audit_says_refused(&outcome.step(&format!("c{n}")));
        let refused = verdict.starts_with("refused");
        println!(
            "{:<55} audit refuses: {audit:<5}  client: {verdict}",
            labelled.file
        );
        if audit != refused {
            disagreements.push(format!(
                "{}: audit {audit}, client {verdict}",
                labelled.file
            ));
        }
    }
    for (dialect, name, label) in &single {
        let path = dir.path().join(name);
        let verdict = if dialect == "java" {
            java_verdict(&path)
        } else {
            librdkafka_verdict(&path)
        };
        println!("{label:<55} alone: {verdict}");
        if !verdict.starts_with("refused") {
            disagreements.push(format!("{label}: the client accepts it alone: {verdict}"));
        }
    }
    assert!(!single.is_empty());
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// The Kafka jars the lab runs (fetched once by tests/lab/lab).
fn lab_kafka_jars() -> PathBuf {
    let output = std::process::Command::new("python3")
        .arg(support::root().join("tests/lab/lab"))
        .arg("fetch")
        .output()
        .expect("tests/lab/lab runs");
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let jars = text
        .lines()
        .find_map(|l| {
            l.split_once("Kafka jars: ")
                .map(|(_, path)| path.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("tests/lab/lab fetch did not name the Kafka jars: {text}"));
    PathBuf::from(jars)
}

/// Run tests/fixtures/configs/SendRecords.java: `count` records of 1 KiB from a real
/// KafkaProducer configured by `file`, to `topic` on the lab; returns its one-line account.
fn send_records(lab: &Lab, file: &Path, topic: &str, count: u32) -> (u32, u32, String) {
    let output = std::process::Command::new("java")
        .arg("-cp")
        .arg(format!("{}/*", lab_kafka_jars().display()))
        .arg(support::root().join("tests/fixtures/configs/SendRecords.java"))
        .arg(file)
        .arg(&lab.bootstrap)
        .arg(topic)
        .arg(count.to_string())
        .arg("1024")
        .output()
        .expect("java runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("accepted="))
        .unwrap_or_else(|| {
            panic!(
                "SendRecords printed no account: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .to_owned();
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    let failed = field("failed_at_send") + field("failed_in_callback");
    (field("accepted"), failed, line)
}

/// Severity follows impact, on the real lab: the settings config-audit calls a failure make
/// most records fail when a real Java producer sends with them (a tiny buffer with
/// max.block.ms=0; a batch.size above buffer.memory), and the run does not exit 0; the plain
/// control sends every record.
#[test]
fn settings_the_audit_calls_failures_make_records_fail_on_the_lab() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("audit-impact", 3, 3, &["min.insync.replicas=2"]);
    let corpus = support::root().join("tests/corpus/configs");
    let count = 20_000;
    for (file, id) in [
        (
            "java/no-block-tiny-buffer.properties",
            "config.buffers.memory",
        ),
        (
            "java/batch-exceeds-buffer.properties",
            "config.buffers.batch-size",
        ),
        ("java/control-plain.properties", ""),
    ] {
        let path = corpus.join(file);
        let (accepted, failed, account) = send_records(lab, &path, "audit-impact", count);
        println!("{file}: {account}");
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("bootstrap.servers") && !l.starts_with("    kafka-"))
            .collect::<Vec<_>>()
            .join("\n");
        let properties = format!("bootstrap.servers={}\n{text}\n", lab.bootstrap);
        let outcome = audit(lab, dir.path(), &properties, "audit-impact");
        if id.is_empty() {
            assert_eq!((accepted, failed), (count, 0), "{account}");
            assert!(failing_ids(&outcome).is_empty(), "{}", outcome.stdout);
            assert_eq!(outcome.code, 0, "{outcome:?}");
            continue;
        }
        assert!(
            failed * 2 > count,
            "{file}: the audit calls it a failure, but most records went through: {account}"
        );
        assert_eq!(
            finding(&outcome, id)["severity"],
            "fail",
            "{}",
            outcome.stdout
        );
        assert_eq!(
            outcome.step("config")["status"],
            "fail",
            "{}",
            outcome.stdout
        );
        assert_eq!(
            first_cause(&outcome),
            "config.buffers",
            "{}",
            outcome.stdout
        );
        assert_ne!(outcome.code, 0, "{outcome:?}");
    }
}
