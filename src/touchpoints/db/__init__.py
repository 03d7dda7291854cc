"""Operational store: engine and session factories, declarative base, migrations."""
