const { Kafka } = require('kafkajs')

const kafka = new Kafka({ brokers: ['localhost:9092'] })
const producer = kafka.producer()

function onSendError (err) {
  console.error('send failed', err)
}

function emit (event) {
  return producer.send({ topic: 'events', messages: [{ value: event }] }).catch(onSendError)
}

function fireAndLog (event) {
  producer.send({ topic: 'events', messages: [{ value: event }] }).catch(onSendError)
}

process.on('SIGTERM', () => producer.disconnect())

module.exports = { emit, fireAndLog }
