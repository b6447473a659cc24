"""Rules of the indexes family."""
