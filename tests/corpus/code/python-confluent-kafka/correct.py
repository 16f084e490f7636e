import atexit
import logging

from confluent_kafka import Producer

log = logging.getLogger(__name__)

producer = Producer({"bootstrap.servers": "localhost:9092"})
atexit.register(producer.flush)


def report(err, msg):
    if err is not None:
        log.error("delivery failed: %s", err)


def publish(event):
    producer.produce("events", event, on_delivery=report)
    producer.poll(0)
