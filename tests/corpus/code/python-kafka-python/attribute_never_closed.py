import logging

from kafka import KafkaProducer

log = logging.getLogger(__name__)


class Emitter:
    def __init__(self, servers):
        self.producer = KafkaProducer(bootstrap_servers=servers)

    def emit(self, event):
        self.producer.send("events", event).add_errback(self._failed)

    def _failed(self, exc):
        log.error("event lost: %s", exc)
