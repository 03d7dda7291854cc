"""Real-browser tests: Debian chromium, driven by Playwright, walking the main journeys."""
