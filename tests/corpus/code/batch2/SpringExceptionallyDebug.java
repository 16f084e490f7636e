package corpus.batch2;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;

public class SpringExceptionallyDebug {
    private static final Logger LOG = LoggerFactory.getLogger(SpringExceptionallyDebug.class);
    private final KafkaTemplate<String, byte[]> kafka;

    SpringExceptionallyDebug(KafkaTemplate<String, byte[]> kafka) {
        this.kafka = kafka;
    }

    void store(String id, byte[] blob) {
        kafka.send("blobs", id, blob).exceptionally(ex -> {
            LOG.debug("blob {} not stored", id, ex);
            return null;
        });
    }
}
