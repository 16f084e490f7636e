"""Threads (not processes) share a module-level producer: fine, it is flushed at shutdown."""
import logging
import threading

from kafka import KafkaProducer

log = logging.getLogger(__name__)
producer = KafkaProducer(bootstrap_servers="localhost:9092")


def on_error(exc):
    log.error("lost: %s", exc)


def worker(rows):
    for row in rows:
        producer.send("rows", row).add_errback(on_error)


def run(batches):
    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    producer.flush()
    producer.close()
