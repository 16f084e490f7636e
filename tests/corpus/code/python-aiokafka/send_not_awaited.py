from aiokafka import AIOKafkaProducer


async def run(events):
    producer = AIOKafkaProducer(bootstrap_servers="localhost:9092")
    await producer.start()
    try:
        for event in events:
            producer.send("events", event)
    finally:
        await producer.stop()
