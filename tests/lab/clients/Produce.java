// A tiny application producer on the Java client (kafka-clients), for triage's lab tests:
// it sends records the way an application does and reports what the client said, so a test
// can prove that the records really failed (or really succeeded) before asking triage why.
//
//   java -cp '<kafka jars>/*' Produce.java BOOTSTRAP TOPIC SHAPE COUNT [key=value ...]
//
// SHAPE: keyed | keyless | old (CreateTime one day ago) | future (CreateTime one day ahead).
// Extra key=value pairs are producer settings (acks=all, compression.type=zstd, ...).
// Prints one line: `sent=N delivered=D failed=F error=<the client's exception class: message>`
// and exits 0 when every record was delivered, 1 otherwise.

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public class Produce {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], shape = args[2];
        int count = Integer.parseInt(args[3]);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("key.serializer", StringSerializer.class.getName());
        props.put("value.serializer", StringSerializer.class.getName());
        props.put("delivery.timeout.ms", "15000");
        props.put("request.timeout.ms", "5000");
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        long day = 24L * 3600 * 1000;
        int delivered = 0, failed = 0;
        String error = "";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String key = shape.equals("keyless") ? null : "order-" + i;
                Long timestamp = switch (shape) {
                    case "old" -> System.currentTimeMillis() - day;
                    case "future" -> System.currentTimeMillis() + day;
                    default -> null;
                };
                sends.add(producer.send(new ProducerRecord<>(topic, null, timestamp, key, "event " + i)));
            }
            producer.flush();
            for (Future<RecordMetadata> send : sends) {
                try {
                    send.get();
                    delivered++;
                } catch (ExecutionException e) {
                    failed++;
                    error = e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
                }
            }
        }
        System.out.println("sent=" + count + " delivered=" + delivered + " failed=" + failed + " error=" + error);
        System.exit(failed == 0 ? 0 : 1);
    }
}
