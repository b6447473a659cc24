"""Rules of the grain family."""
