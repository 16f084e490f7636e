package corpus.java;

import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A send inside a thread's lambda: its future goes nowhere. */
public class SendInThread implements AutoCloseable {
    private final KafkaProducer<String, String> producer;

    public SendInThread(Properties props) {
        producer = new KafkaProducer<>(props);
    }

    public void heartbeat(String host) {
        new Thread(() -> {
            producer.send(new ProducerRecord<>("heartbeats", host, "alive"));
        }).start();
    }

    @Override
    public void close() {
        producer.close();
    }
}
