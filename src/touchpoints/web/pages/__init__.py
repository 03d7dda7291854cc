"""Web pages, one module per area of the app."""
