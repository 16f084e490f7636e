package corpus.batch3;

import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Relays outbox rows; the producer lives in a field, the futures are collected and awaited. */
public class OutboxRelay implements AutoCloseable {
    private final KafkaProducer<String, String> producer;

    OutboxRelay(KafkaProducer<String, String> producer) {
        this.producer = producer;
    }

    void relay(List<String> rows) throws Exception {
        var futures = rows.stream().map(r -> producer.send(new ProducerRecord<>("outbox", r))).toList();
        for (var f : futures) {
            f.get();
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
