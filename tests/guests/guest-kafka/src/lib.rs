//! Calls every `kafka` host function once and reports the answers as facts, so tests can
//! check the host's Kafka interface against the real lab.
use triage_sdk::kafka::{self, ConfigResource, ResourceKind};
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check, net};

struct KafkaProbe;

impl Check for KafkaProbe {
    type Params = serde_json::Value;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-kafka", "Reports what the kafka interface answers").needs("kafka")
    }
    fn run(_: Self::Params) -> Result<Report, RunError> {
        let mut report = Report::new("probed");
        match kafka::metadata(&[]) {
            Ok(cluster) => {
                let ids: Vec<String> = cluster.brokers.iter().map(|b| b.id.to_string()).collect();
                report.push_fact("brokers", ids.join(","));
                report.push_fact("controller", format!("{:?}", cluster.controller_id));
                report.push_fact("cluster_id", cluster.cluster_id.unwrap_or_default());
                if let Some(broker) = cluster.brokers.first() {
                    let answer = match net::kafka_handshake(&broker.host, broker.port, 2_000) {
                        Ok(h) => format!("{} apis, error {:?}", h.api_versions.len(), h.error),
                        Err(e) => e.reason(),
                    };
                    report.push_fact("handshake", answer);
                }
            }
            Err(error) => report.push_fact("metadata", error.reason()),
        }
        let broker = ConfigResource {
            kind: ResourceKind::Broker,
            name: "1".into(),
        };
        match kafka::describe_configs(&[broker], &[]) {
            Ok(results) => {
                let entries = &results[0].entries;
                report.push_fact("broker_configs", entries.len());
                let leaked = entries
                    .iter()
                    .filter(|e| e.is_sensitive && e.value.is_some())
                    .count();
                report.push_fact("sensitive_values_passed", leaked);
                let min_isr = entries.iter().find(|e| e.name == "min.insync.replicas");
                report.push_fact(
                    "min_isr",
                    min_isr.and_then(|e| e.value.clone()).unwrap_or_default(),
                );
            }
            Err(error) => report.push_fact("broker_configs", error.reason()),
        }
        match kafka::describe_log_dirs(&[]) {
            Ok(brokers) => {
                for broker in brokers {
                    let dir = broker.dirs.first();
                    report.push_fact(
                        format!("log_dir.{}", broker.broker),
                        format!(
                            "error {:?}, total {:?}, usable {:?}, partitions {}",
                            broker.error,
                            dir.and_then(|d| d.total_bytes),
                            dir.and_then(|d| d.usable_bytes),
                            dir.map_or(0, |d| d.partitions)
                        ),
                    );
                }
            }
            Err(error) => report.push_fact("log_dirs", error.reason()),
        }
        match kafka::describe_quorum() {
            Ok(Some(quorum)) => {
                report.push_fact("quorum_leader", quorum.leader_id);
                let voters: Vec<String> = quorum.voters.iter().map(|v| v.id.to_string()).collect();
                report.push_fact("quorum_voters", voters.join(","));
            }
            Ok(None) => report.push_fact("quorum_leader", "none (ZooKeeper mode)"),
            Err(error) => report.push_fact("quorum_leader", error.reason()),
        }
        Ok(report)
    }
}

export_check!(KafkaProbe);
