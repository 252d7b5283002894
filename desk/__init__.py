"""Desk: an offline research assistant for lawyers (engine and desktop app)."""

__version__ = "0.1.0"
