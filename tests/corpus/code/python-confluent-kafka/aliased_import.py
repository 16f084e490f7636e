import confluent_kafka as ck

conf = {"bootstrap.servers": "localhost:9092"}


def publish(rows):
    p = ck.Producer(conf)
    for row in rows:
        p.produce("rows", row)
    p.flush()
