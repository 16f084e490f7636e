import { EventEmitter } from 'events'
import { Producer } from 'kafkajs'

export function forward (source: EventEmitter, producer: Producer): void {
  source.on('order', (order) => producer.send({ topic: 'orders', messages: [{ value: order }] }))
}
