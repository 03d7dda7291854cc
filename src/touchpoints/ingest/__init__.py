"""Ingestion: batches of feedback, events and customers from other systems, and signed webhooks."""
