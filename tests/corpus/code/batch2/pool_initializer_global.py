"""A process pool whose tasks send with a confluent-kafka producer built in the parent."""
import logging
from concurrent.futures import ProcessPoolExecutor

from confluent_kafka import Producer

log = logging.getLogger(__name__)
producer = Producer({"bootstrap.servers": "localhost:9092"})


def report(err, msg):
    if err is not None:
        log.error("delivery failed: %s", err)


def index(doc):
    producer.produce("docs", doc, on_delivery=report)
    producer.poll(0)


def main(docs):
    with ProcessPoolExecutor() as pool:
        list(pool.map(index, docs))
    producer.flush()
