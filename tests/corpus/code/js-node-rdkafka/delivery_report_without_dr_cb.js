const Kafka = require('node-rdkafka')

const producer = new Kafka.Producer({ 'metadata.broker.list': 'localhost:9092' })
producer.setPollInterval(100)

producer.on('delivery-report', (err, report) => {
  if (err) {
    console.error('delivery failed', err)
  }
})

producer.on('ready', () => {
  producer.produce('clicks', null, Buffer.from('click'), null, Date.now())
})

producer.connect()

process.on('SIGTERM', () => producer.disconnect())
