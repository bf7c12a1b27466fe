"""Rendering: view models in, HTML and text out. Pure: one Jinja environment, no I/O at render."""
