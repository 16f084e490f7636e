package corpus.spring;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** Spring Kafka 3.x: whenComplete that never looks at the exception. */
@Component
public class WhenCompleteIgnoresFailure {
    private final KafkaTemplate<String, String> template;
    private long sent;

    public WhenCompleteIgnoresFailure(KafkaTemplate<String, String> template) {
        this.template = template;
    }

    public void publish(String key, String value) {
        template.send("payments", key, value).whenComplete((result, ex) -> {
            sent++;
        });
    }
}
