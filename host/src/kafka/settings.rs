//! How the host connects to Kafka: `--bootstrap` and `--kafka-config FILE` (a Java-style
//! `.properties` file, as the application's own client would use), translated to librdkafka
//! settings. These settings — credentials included — stay in the host.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Default upper bound on one Kafka call; a step's deadline may cut it shorter.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection settings for the run's Kafka clients.
#[derive(Clone, Default)]
pub struct KafkaSettings {
    /// `host:port,...`
    pub bootstrap: String,
    /// librdkafka properties (security, SASL, TLS), secrets included.
    pub client: BTreeMap<String, String>,
    /// Upper bound on one call.
    pub call_timeout: Duration,
    /// Keys of the properties file that were ignored, for a warning.
    pub ignored: Vec<String>,
}

// Secrets must not leak through debug output.
impl std::fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("bootstrap", &self.bootstrap)
            .field("client_keys", &self.client.keys().collect::<Vec<_>>())
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// A properties file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Unreadable file.
    #[error("cannot read the Kafka client config {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// librdkafka keys passed through as-is (the Java client uses the same names for these).
const PASSED_THROUGH: &[&str] = &[
    "security.protocol",
    "client.id",
    "sasl.username",
    "sasl.password",
    "sasl.mechanisms",
    "sasl.kerberos.service.name",
    "sasl.oauthbearer.config",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
    "socket.timeout.ms",
];

impl KafkaSettings {
    /// Settings from the command line: an explicit bootstrap wins over the file's
    /// `bootstrap.servers`.
    pub fn load(
        bootstrap: Option<&str>,
        config: Option<&Path>,
        call_timeout: Duration,
    ) -> Result<KafkaSettings, SettingsError> {
        let mut settings = KafkaSettings {
            call_timeout,
            ..KafkaSettings::default()
        };
        if let Some(path) = config {
            let file = std::fs::File::open(path).map_err(|e| SettingsError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let properties = java_properties::read(std::io::BufReader::new(file)).map_err(|e| {
                SettingsError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
            settings.apply_java_properties(&properties);
        }
        if let Some(bootstrap) = bootstrap {
            settings.bootstrap = bootstrap.to_owned();
        }
        Ok(settings)
    }

    /// Translate Java client properties to librdkafka's.
    pub fn apply_java_properties(
        &mut self,
        properties: &std::collections::HashMap<String, String>,
    ) {
        let mut keys: Vec<&String> = properties.keys().collect();
        keys.sort();
        for key in keys {
            let value = properties[key].trim().to_owned();
            match key.as_str() {
                "bootstrap.servers" => self.bootstrap = value,
                "sasl.mechanism" => {
                    self.client.insert("sasl.mechanisms".into(), value);
                }
                "sasl.jaas.config" => {
                    // `...LoginModule required username="u" password="p";` carries the
                    // credentials librdkafka takes as two properties.
                    for (field, target) in
                        [("username", "sasl.username"), ("password", "sasl.password")]
                    {
                        if let Some(found) = jaas_field(&value, field) {
                            self.client.insert(target.into(), found);
                        }
                    }
                }
                known if PASSED_THROUGH.contains(&known) => {
                    self.client.insert(key.clone(), value);
                }
                _ => self.ignored.push(key.clone()),
            }
        }
    }

    /// Is the wire-protocol client (PLAINTEXT only) usable with these settings?
    pub fn plaintext(&self) -> bool {
        self.client
            .get("security.protocol")
            .is_none_or(|p| p.eq_ignore_ascii_case("plaintext"))
    }
}

/// The quoted value of `field=` in a JAAS line.
fn jaas_field(jaas: &str, field: &str) -> Option<String> {
    let start = jaas.find(&format!("{field}="))? + field.len() + 1;
    let rest = jaas[start..].trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.find('"').map(|end| rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_properties_become_librdkafka_settings() {
        let properties = std::collections::HashMap::from([
            ("bootstrap.servers".to_owned(), "k1:9093,k2:9093".to_owned()),
            ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
            ("sasl.mechanism".to_owned(), "SCRAM-SHA-512".to_owned()),
            (
                "sasl.jaas.config".to_owned(),
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="s3cret";"#.to_owned(),
            ),
            ("acks".to_owned(), "all".to_owned()),
        ]);
        let mut settings = KafkaSettings::default();
        settings.apply_java_properties(&properties);
        assert_eq!(settings.bootstrap, "k1:9093,k2:9093");
        assert_eq!(settings.client["sasl.mechanisms"], "SCRAM-SHA-512");
        assert_eq!(settings.client["sasl.username"], "app");
        assert_eq!(settings.client["sasl.password"], "s3cret");
        assert_eq!(settings.ignored, ["acks"]);
        assert!(!settings.plaintext());
        assert!(
            !format!("{settings:?}").contains("s3cret"),
            "Debug must not print secrets"
        );
    }
}
