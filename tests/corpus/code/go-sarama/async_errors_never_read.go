package main

import (
	"log"

	"github.com/IBM/sarama"
)

func main() {
	config := sarama.NewConfig()
	producer, err := sarama.NewAsyncProducer([]string{"localhost:9092"}, config)
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	for i := 0; i < 100000; i++ {
		producer.Input() <- &sarama.ProducerMessage{Topic: "clicks", Value: sarama.StringEncoder("x")}
	}
}
