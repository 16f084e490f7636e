package corpus.spring;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Service;

/** Spring Kafka 3.x: every send's CompletableFuture is checked or returned. */
@Service
public class CorrectTemplate3x {
    private static final Logger log = LoggerFactory.getLogger(CorrectTemplate3x.class);
    private final KafkaTemplate<String, String> kafkaTemplate;

    public CorrectTemplate3x(KafkaTemplate<String, String> kafkaTemplate) {
        this.kafkaTemplate = kafkaTemplate;
    }

    public void publish(String key, String value) {
        kafkaTemplate.send("payments", key, value).whenComplete((result, ex) -> {
            if (ex != null) {
                log.error("payment event {} not sent", key, ex);
            }
        });
    }

    public CompletableFuture<SendResult<String, String>> publishAsync(String key, String value) {
        return kafkaTemplate.send("payments", key, value);
    }

    public void publishBlocking(String key, String value) throws Exception {
        kafkaTemplate.send("payments", key, value).get(10, TimeUnit.SECONDS);
    }
}
