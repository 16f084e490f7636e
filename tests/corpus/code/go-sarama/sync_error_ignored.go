package audit

import (
	"github.com/IBM/sarama"
)

type Auditor struct {
	producer sarama.SyncProducer
}

func (a *Auditor) Record(entry string) {
	a.producer.SendMessage(&sarama.ProducerMessage{Topic: "audit", Value: sarama.StringEncoder(entry)})
}

func (a *Auditor) Close() error {
	return a.producer.Close()
}
