"""Bulk import of feedback, operational events and customers from files, with a quarantine."""
