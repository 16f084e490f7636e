package tracking

import (
	"context"
	"log"

	kafka "github.com/segmentio/kafka-go"
)

func Run(ctx context.Context, events <-chan []byte) {
	w := &kafka.Writer{Addr: kafka.TCP("localhost:9092"), Topic: "track", Async: true}
	defer w.Close()
	for e := range events {
		if err := w.WriteMessages(ctx, kafka.Message{Value: e}); err != nil {
			log.Printf("write: %v", err)
		}
	}
}
