package tracking

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

type Tracker struct {
	writer *kafka.Writer
}

func NewTracker(brokers []string) *Tracker {
	return &Tracker{writer: &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "track"}}
}

func (t *Tracker) Track(ctx context.Context, event []byte) error {
	if err := t.writer.WriteMessages(ctx, kafka.Message{Value: event}); err != nil {
		return fmt.Errorf("tracking event not written: %w", err)
	}
	return nil
}

func (t *Tracker) Close() error {
	return t.writer.Close()
}
