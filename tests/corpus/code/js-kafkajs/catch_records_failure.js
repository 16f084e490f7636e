const { Kafka } = require('kafkajs')

const kafka = new Kafka({ brokers: ['localhost:9092'] })
const producer = kafka.producer()
let failedSends = 0

async function publish (event, metrics) {
  try {
    await producer.send({ topic: 'events', messages: [{ value: event }] })
  } catch (err) {
    metrics.sendFailures.inc()
  }
  producer.send({ topic: 'events', messages: [{ value: event }] }).catch(() => {
    failedSends += 1
  })
}

async function stop () {
  await producer.disconnect()
}

module.exports = { publish, stop, failed: () => failedSends }
