"""企业微信 group-robot messages: what is worth announcing, grouped into digests, sent once per key
from an outbox in SQL, retried with backoff, held to the robot's rate limit (docs/notifications.md)."""
