package main

import (
	"log"
	"os"
	"os/signal"

	"github.com/IBM/sarama"
)

func main() {
	config := sarama.NewConfig()
	config.Producer.Return.Errors = true
	producer, err := sarama.NewAsyncProducer([]string{"localhost:9092"}, config)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for perr := range producer.Errors() {
			log.Printf("delivery failed: %v", perr.Err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	for {
		select {
		case <-stop:
			if err := producer.Close(); err != nil {
				log.Printf("close: %v", err)
			}
			return
		case producer.Input() <- &sarama.ProducerMessage{Topic: "clicks", Value: sarama.StringEncoder("x")}:
		}
	}
}
