package events

import (
	"log"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

type Publisher struct {
	producer *ckafka.Producer
	topic    string
}

func NewPublisher(p *ckafka.Producer, topic string) *Publisher {
	go func() {
		for e := range p.Events() {
			if m, ok := e.(*ckafka.Message); ok && m.TopicPartition.Error != nil {
				log.Printf("delivery failed: %v", m.TopicPartition.Error)
			}
		}
	}()
	return &Publisher{producer: p, topic: topic}
}

func (pub *Publisher) PublishAsync(value []byte) {
	go func() {
		pub.producer.Produce(&ckafka.Message{
			TopicPartition: ckafka.TopicPartition{Topic: &pub.topic, Partition: ckafka.PartitionAny},
			Value:          value,
		}, nil)
	}()
}

func (pub *Publisher) Close() {
	pub.producer.Flush(15000)
	pub.producer.Close()
}
