package corpus.spring;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** Spring Kafka 3.x: the failure is only logged at debug level. */
@Component
public class WhenCompleteDebugOnly {
    private static final Logger log = LoggerFactory.getLogger(WhenCompleteDebugOnly.class);
    private final KafkaTemplate<String, String> template;

    public WhenCompleteDebugOnly(KafkaTemplate<String, String> template) {
        this.template = template;
    }

    public void publish(String key, String value) {
        template.send("payments", key, value).whenComplete((result, ex) -> {
            if (ex != null) {
                log.debug("payment event not sent", ex);
            }
        });
    }
}
