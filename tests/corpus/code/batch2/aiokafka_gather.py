import asyncio
import logging

from aiokafka import AIOKafkaProducer as Producer

log = logging.getLogger(__name__)


async def publish(events):
    producer = Producer(bootstrap_servers="localhost:9092")
    await producer.start()
    try:
        results = await asyncio.gather(
            *(producer.send_and_wait("events", e) for e in events), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                log.error("event lost: %s", result)
    finally:
        await producer.stop()
