from kafka import KafkaProducer
from kafka.errors import KafkaError

failures = []


def send_all(rows):
    producer = KafkaProducer(bootstrap_servers="localhost:9092")
    for row in rows:
        try:
            producer.send("ledger", row).get(timeout=10)
        except KafkaError as e:
            failures.append(e)
    producer.close()
