package main

import (
	"log"

	ck "gopkg.in/confluentinc/confluent-kafka-go.v1/kafka"
)

func main() {
	p, err := ck.NewProducer(&ck.ConfigMap{"bootstrap.servers": "localhost:9092"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	delivery := make(chan ck.Event)
	topic := "t"
	go func() {
		if err := p.Produce(&ck.Message{TopicPartition: ck.TopicPartition{Topic: &topic, Partition: ck.PartitionAny}}, delivery); err != nil {
			log.Printf("not queued: %v", err)
		}
	}()
	e := <-delivery
	if m := e.(*ck.Message); m.TopicPartition.Error != nil {
		log.Printf("delivery failed: %v", m.TopicPartition.Error)
	}
	p.Flush(5000)
}
