const Kafka = require('node-rdkafka')

const producer = new Kafka.Producer({
  'metadata.broker.list': 'localhost:9092',
  dr_cb: true
})
producer.setPollInterval(100)

producer.on('delivery-report', (err, report) => {
  if (err) {
    console.error('delivery failed', err)
  }
})

producer.on('ready', () => {
  try {
    producer.produce('clicks', null, Buffer.from('click'))
  } catch (err) {
    console.error('produce refused', err)
  }
})

producer.connect()

process.on('SIGTERM', () => {
  producer.flush(5000, () => producer.disconnect())
})
