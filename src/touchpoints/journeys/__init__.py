"""Journeys, their ordered stages, and the touchpoints where customers meet the brand."""
