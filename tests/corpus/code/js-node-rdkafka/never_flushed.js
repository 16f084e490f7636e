const { Producer } = require('node-rdkafka')

const producer = new Producer({ 'metadata.broker.list': 'localhost:9092', dr_cb: true })
producer.setPollInterval(100)
producer.on('delivery-report', (err) => {
  if (err) console.error('delivery failed', err)
})
producer.on('ready', () => {
  producer.produce('audit', null, Buffer.from('boot'))
  process.exit(0)
})
producer.connect()
