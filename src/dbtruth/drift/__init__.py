"""dbtruth drift: projections compared with their sources, key by key (Principle 8)."""
