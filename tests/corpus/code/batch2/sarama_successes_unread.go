package main

import (
	"log"

	"github.com/IBM/sarama"
)

func main() {
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	producer, err := sarama.NewAsyncProducer([]string{"localhost:9092"}, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	go func() {
		for perr := range producer.Errors() {
			log.Printf("delivery failed: %v", perr)
		}
	}()
	for i := 0; i < 10000; i++ {
		producer.Input() <- &sarama.ProducerMessage{Topic: "t", Value: sarama.StringEncoder("x")}
	}
}
