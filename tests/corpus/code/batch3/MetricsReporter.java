package corpus.batch3;

import java.util.Properties;
import java.util.Timer;
import java.util.TimerTask;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A TimerTask sends metrics and drops every future; the producer is never closed. */
public class MetricsReporter {
    private final KafkaProducer<String, String> producer = new KafkaProducer<>(new Properties());

    void start(Timer timer) {
        timer.schedule(new TimerTask() {
            @Override
            public void run() {
                producer.send(new ProducerRecord<>("metrics", "cpu", "0.5"));
            }
        }, 0, 1000);
    }
}
