"""campaigns-load: validate a CSV or JSONL extract with the shared contracts and produce it to Kafka."""
