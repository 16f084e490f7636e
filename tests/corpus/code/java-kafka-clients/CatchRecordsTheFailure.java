package corpus.java;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Blocking sends whose catch blocks record the failure: not empty. */
public class CatchRecordsTheFailure {
    private final AtomicLong failures = new AtomicLong();

    void sendAll(Producer<String, String> producer, List<String> values, List<Exception> errors)
            throws InterruptedException {
        for (String value : values) {
            try {
                producer.send(new ProducerRecord<>("ledger", value)).get();
            } catch (ExecutionException e) {
                errors.add(e);
            }
        }
        try {
            producer.send(new ProducerRecord<>("ledger", "end")).get();
        } catch (ExecutionException e) {
            failures.incrementAndGet();
        }
    }
}
