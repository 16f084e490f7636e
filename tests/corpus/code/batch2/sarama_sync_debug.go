package audit

import (
	"log/slog"

	"github.com/IBM/sarama"
)

func Record(producer sarama.SyncProducer, entry string) {
	_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "audit", Value: sarama.StringEncoder(entry)})
	if err != nil {
		slog.Debug("audit entry not written", "err", err)
	}
}
