package corpus.batch3;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;

public class SpringListenable2xDebug {
    private static final Logger log = LoggerFactory.getLogger(SpringListenable2xDebug.class);
    private final KafkaTemplate<String, String> template;

    SpringListenable2xDebug(KafkaTemplate<String, String> template) {
        this.template = template;
    }

    void emit(String v) {
        template.send("t", v).addCallback(ok -> log.info("sent"), ex -> log.trace("lost", ex));
    }
}
