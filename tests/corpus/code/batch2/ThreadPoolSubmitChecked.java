package corpus.batch2;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** The send's future is kept: submitted as a Callable and returned to the caller. */
public class ThreadPoolSubmitChecked {
    private final Producer<String, String> producer;
    private final ExecutorService pool;

    ThreadPoolSubmitChecked(Producer<String, String> producer, ExecutorService pool) {
        this.producer = producer;
        this.pool = pool;
    }

    CompletableFuture<RecordMetadata> emit(String value) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return producer.send(new ProducerRecord<>("events", value)).get();
            } catch (Exception e) {
                throw new IllegalStateException("event not written", e);
            }
        }, pool);
    }
}
