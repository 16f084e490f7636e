"""Tasks run in a process pool; each task builds and flushes its own confluent producer."""
import logging
from multiprocessing import Pool

import confluent_kafka

log = logging.getLogger(__name__)


def report(err, msg):
    if err is not None:
        log.error("delivery failed: %s", err)


def task(item):
    producer = confluent_kafka.Producer({"bootstrap.servers": "localhost:9092"})
    producer.produce("items", item, on_delivery=report)
    producer.flush(10)


def main(items):
    with Pool(4) as pool:
        pool.map(task, items)
