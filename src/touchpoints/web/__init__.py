"""The web app: server-rendered pages (Jinja2 + HTMX) where CX teams work every day."""
