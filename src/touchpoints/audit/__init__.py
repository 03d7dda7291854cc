"""The audit log: who signed in, and who changed users, roles, surveys, rules and settings."""
