"""Feedback items (X-data): survey responses, reviews, posts, transcripts, emails."""
