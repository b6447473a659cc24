"""Rules of the history family."""
