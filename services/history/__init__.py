"""The boards as they stood at past moments, from the SQL ledger; the morning meeting (晨会)."""
