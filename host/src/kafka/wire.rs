//! A minimal Kafka wire-protocol client over PLAINTEXT, for the admin APIs librdkafka does
//! not expose (ApiVersions with its latency, DescribeQuorum, DescribeLogDirs).
//!
//! One connection, one request at a time, framed as the protocol says: a 4-byte big-endian
//! length, then the header and body encoded by `kafka-protocol`. Versions are negotiated
//! with ApiVersions first, so the client speaks whatever the broker supports within what the
//! codec knows.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::{ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted; a metadata-sized answer is far below this.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// Why a wire call failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Could not connect or the connection broke.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The bytes were not a Kafka response (a TLS listener, another protocol, ...).
    #[error("not a Kafka response: {0}")]
    Protocol(String),
    /// The broker does not support a version of this API we can speak.
    #[error("the broker does not support {api} in a version this client speaks")]
    Unsupported {
        /// Which API.
        api: &'static str,
    },
}

/// A connection to one broker, with the API versions it supports.
pub struct Connection {
    stream: TcpStream,
    next_correlation_id: i32,
    timeout: Duration,
    /// api key → (min, max) supported by the broker.
    versions: HashMap<i16, (i16, i16)>,
}

impl Connection {
    /// Connect and negotiate versions with ApiVersions.
    pub async fn open(address: &str, timeout: Duration) -> Result<Connection, WireError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(|_| WireError::Timeout(timeout))??;
        Connection::over(stream, timeout).await
    }

    /// Negotiate versions on an already connected stream.
    pub async fn over(stream: TcpStream, timeout: Duration) -> Result<Connection, WireError> {
        stream.set_nodelay(true)?;
        let mut connection = Connection {
            stream,
            next_correlation_id: 1,
            timeout,
            versions: HashMap::new(),
        };
        let response = connection.api_versions().await?;
        connection.versions = response
            .api_keys
            .iter()
            .map(|api| (api.api_key, (api.min_version, api.max_version)))
            .collect();
        Ok(connection)
    }

    /// Every API the broker supports: `(key, min, max)`.
    pub fn supported(&self) -> Vec<(i16, i16, i16)> {
        let mut apis: Vec<(i16, i16, i16)> = self
            .versions
            .iter()
            .map(|(key, (min, max))| (*key, *min, *max))
            .collect();
        apis.sort_unstable();
        apis
    }

    async fn api_versions(
        &mut self,
    ) -> Result<kafka_protocol::messages::ApiVersionsResponse, WireError> {
        // v3 is what current clients send first; every Kafka since 2.4 answers it.
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("triage"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response = self.call_version(&request, 3).await?;
        if response.error_code != 0 {
            return Err(WireError::Protocol(format!(
                "ApiVersions returned error code {}",
                response.error_code
            )));
        }
        Ok(response)
    }

    /// Send `request` in the highest version both sides support.
    pub async fn call<R: Request>(
        &mut self,
        api: &'static str,
        request: &R,
    ) -> Result<R::Response, WireError> {
        let (broker_min, broker_max) = self
            .versions
            .get(&R::KEY)
            .copied()
            .ok_or(WireError::Unsupported { api })?;
        let version = broker_max.min(R::VERSIONS.max);
        if version < broker_min.max(R::VERSIONS.min) {
            return Err(WireError::Unsupported { api });
        }
        self.call_version(request, version).await
    }

    async fn call_version<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, WireError> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("triage")));
        let mut frame = BytesMut::new();
        frame.put_u32(0); // length, patched below
        header
            .encode(&mut frame, R::header_version(version))
            .map_err(|e| WireError::Protocol(e.to_string()))?;
        request
            .encode(&mut frame, version)
            .map_err(|e| WireError::Protocol(e.to_string()))?;
        let length = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&length.to_be_bytes());

        let exchange = async {
            self.stream.write_all(&frame).await?;
            let length = self.stream.read_u32().await? as usize;
            if length > MAX_RESPONSE_BYTES {
                return Err(WireError::Protocol(format!(
                    "a {length}-byte response frame (is this a TLS listener?)"
                )));
            }
            let mut body = vec![0u8; length];
            self.stream.read_exact(&mut body).await?;
            Ok::<_, WireError>(body)
        };
        let body = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| WireError::Timeout(self.timeout))??;
        let mut body = bytes::Bytes::from(body);
        let response_header = ResponseHeader::decode(
            &mut body,
            <R::Response as HeaderVersion>::header_version(version),
        )
        .map_err(|e| WireError::Protocol(e.to_string()))?;
        if response_header.correlation_id != correlation_id {
            return Err(WireError::Protocol(format!(
                "correlation id {} does not match {correlation_id}",
                response_header.correlation_id
            )));
        }
        <R::Response as Decodable>::decode(&mut body, version)
            .map_err(|e| WireError::Protocol(e.to_string()))
    }
}
