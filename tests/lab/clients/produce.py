"""A tiny application producer on kafka-python, for triage's lab tests: it sends records the
way an application does and reports what the client said, so a test can prove that the
records really failed (or really succeeded) before asking triage why.

    python produce.py BOOTSTRAP TOPIC SHAPE COUNT [key=value ...]

SHAPE: keyed | keyless | old (CreateTime one day ago) | future (one day ahead). Extra
key=value pairs are producer settings in kafka-python's names (acks=all, ...). Prints one
line `sent=N delivered=D failed=F error=<exception: message>`; exits 0 when every record was
delivered, 1 otherwise.
"""

import sys
import time

from kafka import KafkaProducer


def setting(value):
    if value.isdigit():
        return int(value)
    return value


def main():
    bootstrap, topic, shape, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    settings = dict(arg.split("=", 1) for arg in sys.argv[5:])
    settings = {key.replace(".", "_"): setting(value) for key, value in settings.items()}
    settings.setdefault("request_timeout_ms", 5000)
    settings.setdefault("retries", 2)
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), **settings)
    day_ms = 24 * 3600 * 1000
    now_ms = int(time.time() * 1000)
    timestamp = {"old": now_ms - day_ms, "future": now_ms + day_ms}.get(shape)
    futures = []
    for i in range(count):
        key = None if shape == "keyless" else ("order-%d" % i).encode()
        futures.append(producer.send(topic, key=key, value=b"event %d" % i, timestamp_ms=timestamp))
    producer.flush(timeout=20)
    delivered = failed = 0
    error = ""
    for future in futures:
        try:
            future.get(timeout=20)
            delivered += 1
        except Exception as exc:  # the client's own error type is the evidence
            failed += 1
            error = "%s: %s" % (type(exc).__name__, exc)
    producer.close(timeout=5)
    print("sent=%d delivered=%d failed=%d error=%s" % (count, delivered, failed, error))
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
