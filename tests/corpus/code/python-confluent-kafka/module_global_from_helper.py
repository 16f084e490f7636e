import logging

from confluent_kafka import Producer

log = logging.getLogger(__name__)


def build_producer():
    return Producer({"bootstrap.servers": "localhost:9092"})


producer = build_producer()


def report(err, msg):
    if err is not None:
        log.error("delivery failed: %s", err)


def publish(event):
    producer.produce("events", event, on_delivery=report)
    producer.poll(0)
