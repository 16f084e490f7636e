import asyncio

from aiokafka import AIOKafkaProducer


async def main():
    producer = AIOKafkaProducer(bootstrap_servers="localhost:9092", linger_ms=100)
    await producer.start()
    for i in range(100):
        await producer.send_and_wait("ticks", str(i).encode())


asyncio.run(main())
