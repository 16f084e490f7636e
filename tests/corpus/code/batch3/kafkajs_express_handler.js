const express = require('express')
const { Kafka } = require('kafkajs')

const producer = new Kafka({ brokers: ['localhost:9092'] }).producer()
const app = express()

app.post('/events', async (req, res, next) => {
  try {
    await producer.send({ topic: 'events', messages: [{ value: JSON.stringify(req.body) }] })
    res.sendStatus(202)
  } catch (err) {
    next(err)
  }
})

process.on('SIGTERM', async () => {
  await producer.disconnect()
})

module.exports = app
