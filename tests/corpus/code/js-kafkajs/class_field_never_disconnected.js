import { Kafka } from 'kafkajs'

export class Bus {
  constructor (brokers) {
    this.kafka = new Kafka({ brokers })
    this.producer = this.kafka.producer()
  }

  async emit (event) {
    try {
      await this.producer.send({ topic: 'bus', messages: [{ value: event }] })
    } catch (err) {
      console.error('bus event lost', err)
      throw err
    }
  }
}
