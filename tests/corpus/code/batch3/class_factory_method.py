import logging

from kafka import KafkaProducer

log = logging.getLogger(__name__)


class Sink:
    def __init__(self, servers):
        self.servers = servers
        self.producer = self._make_producer()

    def _make_producer(self):
        return KafkaProducer(bootstrap_servers=self.servers)

    def write(self, row):
        self.producer.send("rows", row).add_errback(lambda e: log.error("lost: %s", e))
