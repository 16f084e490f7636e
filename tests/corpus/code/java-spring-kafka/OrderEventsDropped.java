package corpus.spring;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Service;

/** Spring Kafka: send() only enqueues; its future is dropped. */
@Service
public class OrderEventsDropped {
    private final KafkaTemplate<String, String> kafkaTemplate;

    public OrderEventsDropped(KafkaTemplate<String, String> kafkaTemplate) {
        this.kafkaTemplate = kafkaTemplate;
    }

    public void orderPlaced(String orderId, String json) {
        kafkaTemplate.send("orders", orderId, json);
    }
}
