const { Producer } = require('node-rdkafka')

const producer = new Producer({ 'metadata.broker.list': 'localhost:9092', 'dr_msg_cb': true })
producer.setPollInterval(50)
producer.on('delivery-report', (err) => {
  if (err) console.error('delivery failed', err)
})
producer.on('ready', () => producer.produce('t', null, Buffer.from('x')))
producer.connect()
process.on('SIGINT', () => producer.disconnect(() => process.exit(0)))
