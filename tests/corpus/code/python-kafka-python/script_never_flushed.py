import logging
import sys

from kafka import KafkaProducer

log = logging.getLogger("loader")


def failed(exc):
    log.error("send failed: %s", exc)


producer = KafkaProducer(bootstrap_servers="localhost:9092")
for line in sys.stdin:
    producer.send("lines", line.encode()).add_errback(failed)
