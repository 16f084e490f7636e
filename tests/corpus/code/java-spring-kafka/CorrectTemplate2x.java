package corpus.spring;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Service;
import org.springframework.util.concurrent.ListenableFuture;

/** Spring Kafka 2.x: the ListenableFuture gets a failure callback that logs at error. */
@Service
public class CorrectTemplate2x {
    private static final Logger log = LoggerFactory.getLogger(CorrectTemplate2x.class);
    private final KafkaTemplate<String, String> template;

    public CorrectTemplate2x(KafkaTemplate<String, String> template) {
        this.template = template;
    }

    public void publish(String key, String value) {
        ListenableFuture<SendResult<String, String>> future = template.send("invoices", key, value);
        future.addCallback(result -> log.info("sent {}", key), ex -> log.error("not sent", ex));
    }
}
