package corpus.java;

import java.util.concurrent.ExecutorService;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** `execute` takes a Runnable: the future the lambda's send returns is thrown away. */
public class SendInExecutor {
    private final Producer<String, String> producer;
    private final ExecutorService pool;

    public SendInExecutor(Producer<String, String> producer, ExecutorService pool) {
        this.producer = producer;
        this.pool = pool;
    }

    public void emit(String event) {
        pool.execute(() -> producer.send(new ProducerRecord<>("events", event)));
    }
}
