package corpus.batch2;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A timer's Runnable drops the future of every heartbeat it sends. */
public class ScheduledHeartbeat {
    private final KafkaProducer<String, String> producer;

    ScheduledHeartbeat(KafkaProducer<String, String> producer, ScheduledExecutorService timer) {
        this.producer = producer;
        timer.scheduleAtFixedRate(() -> producer.send(new ProducerRecord<>("beats", "up")), 0, 5, TimeUnit.SECONDS);
    }
}
