import logging

import aiokafka

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, servers):
        self.producer = aiokafka.AIOKafkaProducer(bootstrap_servers=servers)

    async def start(self):
        await self.producer.start()

    async def publish(self, event):
        await self.producer.send_and_wait("events", event)

    async def publish_many(self, events):
        futures = [await self.producer.send("events", e) for e in events]
        for future in futures:
            try:
                await future
            except Exception as e:
                log.error("event lost: %s", e)

    async def stop(self):
        await self.producer.stop()
