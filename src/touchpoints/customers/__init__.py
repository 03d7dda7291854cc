"""Customers: identities, attributes, consent and segments."""
