package tracking

import (
	"context"

	"github.com/segmentio/kafka-go"
)

type Tracker struct {
	writer *kafka.Writer
}

func (t *Tracker) Track(ctx context.Context, event []byte) {
	go t.writer.WriteMessages(ctx, kafka.Message{Value: event})
}

func (t *Tracker) Close() error {
	return t.writer.Close()
}
