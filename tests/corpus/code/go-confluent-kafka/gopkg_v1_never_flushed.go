package main

import (
	"log"

	"gopkg.in/confluentinc/confluent-kafka-go.v1/kafka"
)

func main() {
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": "localhost:9092"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	topic := "events"
	for _, word := range []string{"a", "b"} {
		if err := p.Produce(&kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Value:          []byte(word),
		}, nil); err != nil {
			log.Printf("not queued: %v", err)
		}
	}
}
