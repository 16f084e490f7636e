use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use tracing::error;

pub fn publish_in_background(producer: FutureProducer, payloads: Vec<String>) {
    tokio::spawn(async move {
        for payload in payloads {
            let record = FutureRecord::<(), _>::to("events").payload(&payload);
            if let Err((e, _)) = producer.send(record, Duration::from_secs(5)).await {
                error!("event lost: {e}");
            }
        }
    });
}
