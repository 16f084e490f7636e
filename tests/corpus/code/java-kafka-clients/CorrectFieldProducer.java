package corpus.java;

import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A field-owned producer used from a pool, every send checked, closed on shutdown. */
public class CorrectFieldProducer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CorrectFieldProducer.class);
    private final KafkaProducer<String, String> producer;
    private final ExecutorService pool;
    private final AtomicLong failed = new AtomicLong();

    public CorrectFieldProducer(Properties props, ExecutorService pool) {
        this.producer = new KafkaProducer<>(props);
        this.pool = pool;
    }

    public void emit(String event) {
        pool.execute(() -> producer.send(new ProducerRecord<>("events", event), (m, e) -> {
            if (e != null) {
                failed.incrementAndGet();
                log.error("event lost", e);
            }
        }));
    }

    @Override
    public void close() {
        producer.flush();
        producer.close();
    }
}
