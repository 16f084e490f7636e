package corpus.java;

import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Owns its producer in a field and never closes it. */
public class FieldProducerNeverClosed {
    private static final Logger log = LoggerFactory.getLogger(FieldProducerNeverClosed.class);
    private final KafkaProducer<String, String> producer;

    public FieldProducerNeverClosed(Properties props) {
        this.producer = new KafkaProducer<>(props);
    }

    public void publish(String key, String value) {
        producer.send(new ProducerRecord<>("audit", key, value), (metadata, e) -> {
            if (e != null) {
                log.error("audit event lost", e);
            }
        });
    }
}
