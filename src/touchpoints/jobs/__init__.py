"""Durable jobs: the outbox table, its worker loop and handler registry."""
