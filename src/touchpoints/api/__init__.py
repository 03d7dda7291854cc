"""The REST API: app factory, dependencies, problem answers and the shared list helper."""
