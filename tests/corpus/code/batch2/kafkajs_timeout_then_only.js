const { Kafka } = require('kafkajs')

const producer = new Kafka({ brokers: ['localhost:9092'] }).producer()

function later (event) {
  setTimeout(() => {
    producer.send({ topic: 'later', messages: [{ value: event }] }).then(() => console.log('sent'))
  }, 500)
}

async function shutdown () {
  await producer.disconnect()
}

module.exports = { later, shutdown }
