import aiokafka

producer = aiokafka.AIOKafkaProducer(bootstrap_servers="localhost:9092")


async def startup():
    await producer.start()


async def emit(event):
    await producer.send_and_wait("events", event)
