package main

import (
	"log"

	"github.com/Shopify/sarama"
)

func run(brokers []string, values []string) {
	producer, err := sarama.NewAsyncProducer(brokers, sarama.NewConfig())
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for perr := range producer.Errors() {
			log.Printf("delivery failed: %v", perr)
		}
		close(done)
	}()
	for _, v := range values {
		producer.Input() <- &sarama.ProducerMessage{Topic: "t", Value: sarama.StringEncoder(v)}
	}
	producer.AsyncClose()
	<-done
}
