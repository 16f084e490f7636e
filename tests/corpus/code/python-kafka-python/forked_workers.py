"""A module-level producer built in a helper, used from forked workers that exit
without flushing: multiprocessing children leave through os._exit, so no exit hook runs."""
import logging
import multiprocessing

from kafka import KafkaProducer

log = logging.getLogger(__name__)


def make_producer():
    return KafkaProducer(bootstrap_servers="localhost:9092", acks="all")


producer = make_producer()


def on_error(exc):
    log.error("record lost: %s", exc)


def worker(batch):
    for row in batch:
        producer.send("rows", row).add_errback(on_error)


if __name__ == "__main__":
    batches = [[b"a", b"b"], [b"c", b"d"]]
    workers = [multiprocessing.Process(target=worker, args=(b,)) for b in batches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    producer.close()
