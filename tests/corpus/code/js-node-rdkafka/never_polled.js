const Kafka = require('node-rdkafka')

const producer = new Kafka.Producer({
  'metadata.broker.list': 'localhost:9092',
  dr_cb: true
})

producer.on('delivery-report', (err, report) => {
  if (err) {
    console.error('delivery failed', err)
  }
})

producer.on('ready', () => {
  for (let i = 0; i < 1000; i++) {
    producer.produce('clicks', null, Buffer.from(String(i)))
  }
})

producer.connect()
process.on('SIGTERM', () => producer.disconnect())
