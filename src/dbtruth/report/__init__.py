"""Renderers: render(context) -> str, one module per format; none touches a database."""
