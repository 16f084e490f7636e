//! Kafka's two saturation gauges as a Prometheus JMX exporter writes them, and how to read
//! one idle ratio per thread pool from a parsed page.
//!
//! The MBeans (Kafka's `BrokerServer`, `KafkaRequestHandlerPool`, `SocketServer`):
//! - `kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent` — a
//!   Yammer *meter* marked with idle nanoseconds per handler thread and a rate unit of
//!   nanoseconds, so its rates (`OneMinuteRate`, …, `MeanRate`) are idle fractions, 0 to 1;
//!   its `Count` is a cumulative total, not a ratio.
//! - `kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent` — a *gauge*
//!   (`Value`), the processors' mean `io-wait-ratio`, each capped at 1.
//!
//! The names the exporter gives them depend on its rules (prometheus/jmx_exporter,
//! `examples/kafka-2_0_0.yml` and `examples/kafka-kraft-3_0_0.yml`, `lowercaseOutputName:
//! true`), so each form below names the rule it comes from. Names are compared
//! case-insensitively (a config without `lowercaseOutputName` keeps the MBean's case).

use crate::exposition::{Exposition, Sample};

/// A thread pool whose idle ratio Kafka reports.
pub struct Pool {
    /// How operators call it.
    pub name: &'static str,
    /// The broker setting that sizes it.
    pub setting: &'static str,
    /// `<domain>_<type>` as the exporter writes it, lower case.
    prefix: &'static str,
    /// The MBean's `name` key, lower case.
    bean_name: &'static str,
    /// Meter (rates) or gauge (`Value`).
    kind: BeanKind,
}

#[derive(Clone, Copy, PartialEq)]
enum BeanKind {
    Meter,
    Gauge,
}

/// The request handler (I/O) and network processor pools.
pub const POOLS: [Pool; 2] = [
    Pool {
        name: "request handler (I/O) threads",
        setting: "num.io.threads",
        prefix: "kafka_server_kafkarequesthandlerpool",
        bean_name: "requesthandleravgidlepercent",
        kind: BeanKind::Meter,
    },
    Pool {
        name: "network processor threads",
        setting: "num.network.threads",
        prefix: "kafka_network_socketserver",
        bean_name: "networkprocessoravgidlepercent",
        kind: BeanKind::Gauge,
    },
];

/// Which MBean attribute a sample carries, best (most current) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attribute {
    /// The meter's one-minute rate: the current idle fraction.
    OneMinuteRate,
    /// The gauge's value, or a meter exported by a rule that does not say which attribute.
    Value,
    /// The meter's five-minute rate.
    FiveMinuteRate,
    /// The meter's fifteen-minute rate.
    FifteenMinuteRate,
    /// The meter's mean since the broker started (all the example config exports).
    MeanRate,
    /// A cumulative count: not a ratio, never judged.
    Count,
}

impl Attribute {
    fn from_suffix(suffix: &str) -> Option<Attribute> {
        Some(match suffix {
            "oneminuterate" => Attribute::OneMinuteRate,
            "value" => Attribute::Value,
            "fiveminuterate" => Attribute::FiveMinuteRate,
            "fifteenminuterate" => Attribute::FifteenMinuteRate,
            "meanrate" => Attribute::MeanRate,
            // jmx_exporter 1.x writes a COUNTER `x_count` as `x_count_total`.
            "count" | "count_total" | "total" => Attribute::Count,
            _ => return None,
        })
    }

    /// What the operator should know about a figure read from this attribute.
    pub fn note(self) -> &'static str {
        match self {
            Attribute::OneMinuteRate => "one-minute rate",
            Attribute::Value => "current value",
            Attribute::FiveMinuteRate => "five-minute rate",
            Attribute::FifteenMinuteRate => "fifteen-minute rate",
            Attribute::MeanRate => {
                "MeanRate, the average since the broker started (the exporter's example rules \
                 export only this; add a rule for OneMinuteRate to see the current load)"
            }
            Attribute::Count => "cumulative count",
        }
    }
}

impl Pool {
    /// Does `sample` carry this pool's idle ratio, and from which attribute?
    fn attribute_of(&self, sample: &Sample) -> Option<Attribute> {
        self.attribute_of_name(sample.name.as_str(), sample.label("name"))
    }

    fn attribute_of_name(&self, name: &str, name_label: Option<&str>) -> Option<Attribute> {
        let name = name.to_ascii_lowercase();
        let rest = name.strip_prefix(self.prefix)?.strip_prefix('_')?;
        // Example config: generic gauge rule `kafka.(\w+)<type=(.+), name=(.+)><>Value` →
        // `kafka_$1_$2_$3` (the network gauge); for the meter, a custom rule that picked
        // one attribute without naming it.
        if rest == self.bean_name {
            return Some(Attribute::Value);
        }
        // Example config: `kafka.(\w+)<type=(.+), name=(.+)Percent\w*><>MeanRate` (and
        // `...><>Value`) → `kafka_$1_$2_$3_percent`.
        let stem = self
            .bean_name
            .strip_suffix("percent")
            .unwrap_or(self.bean_name);
        if rest.strip_prefix(stem) == Some("_percent") {
            return Some(match self.kind {
                BeanKind::Meter => Attribute::MeanRate,
                BeanKind::Gauge => Attribute::Value,
            });
        }
        // Example config `<>Count` → `kafka_$1_$2_$3_count`, and per-attribute rules
        // `kafka_$1_$2_$3_$4` (`..._oneminuterate`).
        if let Some(suffix) = rest
            .strip_prefix(self.bean_name)
            .and_then(|s| s.strip_prefix('_'))
        {
            return Attribute::from_suffix(suffix);
        }
        // No rule (the exporter's default format): `<domain>_<type>_<attribute>` with the
        // MBean name as the label `name`.
        if name_label.is_some_and(|n| n.eq_ignore_ascii_case(self.bean_name)) {
            return Attribute::from_suffix(rest);
        }
        None
    }

    /// Read this pool's idle ratio from `page`.
    pub fn read(&self, page: &Exposition) -> Reading {
        let candidates: Vec<(Attribute, &Sample)> = page
            .samples
            .iter()
            .filter_map(|s| Some((self.attribute_of(s)?, s)))
            .collect();
        let readable = candidates
            .iter()
            .filter(|(attribute, _)| *attribute != Attribute::Count)
            .filter_map(|(attribute, sample)| Some((*attribute, *sample, ratio(sample.value)?)));
        let best = readable.clone().map(|(attribute, _, _)| attribute).min();
        if let Some(best) = best {
            let (attribute, sample, idle) = readable
                .filter(|(attribute, _, _)| *attribute == best)
                .min_by(|a, b| a.2.total_cmp(&b.2))
                .expect("a best attribute has a sample");
            return Reading::Idle {
                idle,
                attribute,
                sample: sample.clone(),
            };
        }
        // Nothing readable: say why, from the most telling evidence.
        if let Some((_, sample)) = candidates.iter().find(|(a, _)| *a != Attribute::Count) {
            return Reading::Unreadable(format!(
                "line {}: `{}` is {}, not an idle ratio (Kafka reports 0 to 1)",
                sample.line, sample.name, sample.value
            ));
        }
        if let Some((_, sample)) = candidates.first() {
            return Reading::Unreadable(format!(
                "line {}: only the cumulative counter `{}` is on the page, which is not a \
                 ratio; export the MBean's OneMinuteRate or MeanRate",
                sample.line, sample.name
            ));
        }
        if let Some(error) = page.errors.iter().find(|e| {
            e.name
                .as_deref()
                .is_some_and(|n| self.attribute_of_name(n, None).is_some())
        }) {
            return Reading::Unreadable(format!(
                "line {} (`{}`) does not follow the exposition format: {}",
                error.line,
                error.name.as_deref().unwrap_or_default(),
                error.reason
            ));
        }
        Reading::Absent
    }
}

/// What a page says about one pool.
#[derive(Debug)]
pub enum Reading {
    /// The lowest idle ratio among the best-attribute samples, 0 to 1.
    Idle {
        /// The ratio.
        idle: f64,
        /// Where it came from.
        attribute: Attribute,
        /// The sample, as evidence.
        sample: Sample,
    },
    /// The pool's metric is on the page but no value is a ratio (NaN, infinite, negative,
    /// a counter only, a malformed line).
    Unreadable(String),
    /// The page has no sample of this pool.
    Absent,
}

/// A value as an idle fraction. Kafka's gauges are 0 to 1; the meter can read a little
/// above 1 just after `num.io.threads` is lowered, which still means idle. Anything else —
/// NaN, infinities, negatives, a percentage, a timestamp misread as a value — is not a
/// ratio this check can judge.
fn ratio(value: f64) -> Option<f64> {
    (0.0..=2.0).contains(&value).then(|| value.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::parse;

    fn read(pool: usize, page: &str) -> Reading {
        POOLS[pool].read(&parse(page))
    }

    fn idle(pool: usize, page: &str) -> (f64, Attribute) {
        match read(pool, page) {
            Reading::Idle {
                idle, attribute, ..
            } => (idle, attribute),
            other => panic!("{other:?} from {page}"),
        }
    }

    /// The two pools as the jmx_exporter example config (`kafka-kraft-3_0_0.yml`) names them,
    /// with the HELP and TYPE lines jmx_exporter writes and a timestamp on each sample.
    const EXAMPLE_CONFIG_PAGE: &str = "\
# HELP kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count Attribute exposed for management kafka.server:name=RequestHandlerAvgIdlePercent,type=KafkaRequestHandlerPool,attribute=Count
# TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count counter
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count 1.7328700000E10 1732870000000
# HELP kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent Attribute exposed for management kafka.server:name=RequestHandlerAvgIdlePercent,type=KafkaRequestHandlerPool,attribute=MeanRate
# TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent gauge
kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent 0.05 1732870000000
# HELP kafka_network_socketserver_networkprocessoravgidlepercent Attribute exposed for management kafka.network:name=NetworkProcessorAvgIdlePercent,type=SocketServer,attribute=Value
# TYPE kafka_network_socketserver_networkprocessoravgidlepercent gauge
kafka_network_socketserver_networkprocessoravgidlepercent 0.71 1732870000000
";

    #[test]
    fn the_example_configs_names_are_read_with_their_timestamps() {
        assert_eq!(idle(0, EXAMPLE_CONFIG_PAGE), (0.05, Attribute::MeanRate));
        assert_eq!(idle(1, EXAMPLE_CONFIG_PAGE), (0.71, Attribute::Value));
    }

    #[test]
    fn the_freshest_attribute_wins_and_counters_never_count() {
        let page = "\
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_total 12345.0
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count_total 12345.0
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_meanrate 0.9
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_fiveminuterate 0.5
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_oneminuterate 0.05
";
        assert_eq!(idle(0, page), (0.05, Attribute::OneMinuteRate));
        let counters_only =
            "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_count 99\n";
        assert!(
            matches!(read(0, counters_only), Reading::Unreadable(why) if why.contains("cumulative counter"))
        );
    }

    #[test]
    fn the_default_export_format_is_recognised_by_its_name_label() {
        let page = "\
kafka_server_KafkaRequestHandlerPool_OneMinuteRate{name=\"RequestHandlerAvgIdlePercent\",} 0.12
kafka_server_KafkaRequestHandlerPool_OneMinuteRate{name=\"SomethingElse\",} 0.01
kafka_network_SocketServer_Value{name=\"NetworkProcessorAvgIdlePercent\",} 0.4
";
        assert_eq!(idle(0, page), (0.12, Attribute::OneMinuteRate));
        assert_eq!(idle(1, page), (0.4, Attribute::Value));
    }

    #[test]
    fn nan_infinity_and_out_of_range_values_are_unreadable_not_healthy() {
        for value in ["NaN", "+Inf", "-Inf", "-0.5", "45", "17328700000"] {
            let page =
                format!("kafka_network_socketserver_networkprocessoravgidlepercent {value}\n");
            match read(1, &page) {
                Reading::Unreadable(why) => assert!(why.contains("not an idle ratio"), "{why}"),
                other => panic!("{value}: {other:?}"),
            }
        }
        assert_eq!(
            idle(0, "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_oneminuterate 1.02\n").0,
            1.0
        );
    }

    #[test]
    fn a_malformed_line_of_the_metric_is_unreadable_and_other_names_are_absent() {
        let page = "kafka_network_socketserver_networkprocessoravgidlepercent{a=\"x} 0.9\n";
        assert!(matches!(read(1, page), Reading::Unreadable(why) if why.contains("line 1")));
        let unrelated = "\
kafka_network_processor_idlepercent{networkProcessor=\"0\"} 0.01
kafka_network_socketserver_networkprocessoravgidlepercentx 0.01
jvm_memory_bytes_used{area=\"heap\"} 1.0E8
";
        assert!(matches!(read(1, unrelated), Reading::Absent));
        assert!(matches!(read(0, unrelated), Reading::Absent));
    }
}
