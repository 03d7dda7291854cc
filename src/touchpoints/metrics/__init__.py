"""Metrics: NPS, CSAT and CES with intervals, significance and minimum-n rules."""
