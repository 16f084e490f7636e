package clicks

import (
	"github.com/IBM/sarama"
)

func NewClicks(brokers []string) (sarama.AsyncProducer, error) {
	config := sarama.NewConfig()
	config.Producer.Return.Errors = false
	return sarama.NewAsyncProducer(brokers, config)
}
