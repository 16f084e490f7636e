package audit

import (
	"fmt"

	"github.com/IBM/sarama"
)

type Auditor struct {
	producer sarama.SyncProducer
}

func NewAuditor(brokers []string) (*Auditor, error) {
	config := sarama.NewConfig()
	config.Producer.Return.Successes = true
	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		return nil, err
	}
	return &Auditor{producer: producer}, nil
}

func (a *Auditor) Record(entry string) error {
	_, _, err := a.producer.SendMessage(&sarama.ProducerMessage{Topic: "audit", Value: sarama.StringEncoder(entry)})
	if err != nil {
		return fmt.Errorf("audit entry not written: %w", err)
	}
	return nil
}

func (a *Auditor) Close() error {
	return a.producer.Close()
}
