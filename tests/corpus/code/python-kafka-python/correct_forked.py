"""Each forked worker builds its own producer and closes it (which flushes) before it returns."""
import logging
from multiprocessing import Pool

from kafka import KafkaProducer

log = logging.getLogger(__name__)


def on_error(exc):
    log.error("record lost: %s", exc)


def worker(batch):
    producer = KafkaProducer(bootstrap_servers="localhost:9092")
    try:
        for row in batch:
            producer.send("rows", row).add_errback(on_error)
        producer.flush()
    finally:
        producer.close()


if __name__ == "__main__":
    with Pool(4) as pool:
        pool.map(worker, [[b"a"], [b"b"]])
