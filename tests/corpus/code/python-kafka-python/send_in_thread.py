import threading

from kafka import KafkaProducer


class Heartbeat:
    def __init__(self, servers):
        self.producer = KafkaProducer(bootstrap_servers=servers)

    def beat(self, host):
        threading.Thread(target=lambda: self.producer.send("beats", host.encode())).start()

    def close(self):
        self.producer.close()
