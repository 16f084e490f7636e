const { Kafka } = require('kafkajs')

const kafka = new Kafka({ brokers: ['localhost:9092'] })
const producer = kafka.producer()

async function start (readStats, logger) {
  await producer.connect()
  const timer = setInterval(async () => {
    try {
      await producer.send({ topic: 'stats', messages: [{ value: JSON.stringify(readStats()) }] })
    } catch (err) {
      logger.error('stats not sent', err)
    }
  }, 1000)
  process.on('SIGTERM', async () => {
    clearInterval(timer)
    await producer.disconnect()
  })
}

module.exports = { start }
