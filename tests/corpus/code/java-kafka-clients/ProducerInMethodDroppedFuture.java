package corpus.java;

import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** The producer lives in a method, not main; its sends drop their futures. */
public class ProducerInMethodDroppedFuture {
    void export(Properties props, List<String> rows) {
        try (Producer<String, String> producer = new KafkaProducer<>(props)) {
            for (String row : rows) {
                producer.send(new ProducerRecord<>("exports", row));
            }
        }
    }
}
