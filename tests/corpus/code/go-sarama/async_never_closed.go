package main

import (
	"log"

	"github.com/Shopify/sarama"
)

func main() {
	producer, err := sarama.NewAsyncProducer([]string{"localhost:9092"}, sarama.NewConfig())
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for perr := range producer.Errors() {
			log.Printf("delivery failed: %v", perr.Err)
		}
	}()
	producer.Input() <- &sarama.ProducerMessage{Topic: "clicks", Value: sarama.StringEncoder("x")}
}
