"""Idempotency keys: a retried write replays its first answer instead of writing twice."""
