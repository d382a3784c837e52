"""Ledger sink: copies the score ledger and the dead letters from Kafka into the SQL store."""
