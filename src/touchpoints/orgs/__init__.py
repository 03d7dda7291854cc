"""Workspaces (tenants) and the org-unit hierarchy that scopes data."""
