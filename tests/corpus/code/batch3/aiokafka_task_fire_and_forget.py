import asyncio

from aiokafka import AIOKafkaProducer


class Notifier:
    def __init__(self):
        self.producer = AIOKafkaProducer(bootstrap_servers="localhost:9092")

    async def notify(self, user, text):
        await self.producer.send("notifications", text.encode(), key=user.encode())

    async def close(self):
        await self.producer.stop()
