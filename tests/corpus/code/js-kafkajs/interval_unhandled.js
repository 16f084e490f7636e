const { Kafka } = require('kafkajs')

const kafka = new Kafka({ brokers: ['localhost:9092'] })
const producer = kafka.producer()

async function start (readStats) {
  await producer.connect()
  setInterval(async () => {
    await producer.send({ topic: 'stats', messages: [{ value: JSON.stringify(readStats()) }] })
  }, 1000)
  process.on('SIGTERM', async () => {
    await producer.disconnect()
  })
}

module.exports = { start }
