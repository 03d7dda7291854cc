"""Surveys: versioned definitions, public links and the responses customers give."""
