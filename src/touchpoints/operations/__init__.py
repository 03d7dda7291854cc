"""Operational data (O-data): orders, subscriptions, churn, support contacts, digital, external."""
