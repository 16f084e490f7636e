const Kafka = require('node-rdkafka')

const producer = new Kafka.HighLevelProducer({ 'metadata.broker.list': 'localhost:9092' })

producer.connect()

function emit (value, done) {
  producer.produce('events', null, Buffer.from(value), null, Date.now(), (err, offset) => {
    if (err) console.error('delivery failed', err)
    done(err, offset)
  })
}

module.exports = { emit }
