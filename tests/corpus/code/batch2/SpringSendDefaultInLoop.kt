package corpus.batch2

import org.springframework.kafka.core.KafkaTemplate

class Replayer(private val template: KafkaTemplate<String, String>) {
    fun replay(values: List<String>) {
        values.forEach { template.sendDefault(it) }
    }
}
