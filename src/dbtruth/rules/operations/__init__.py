"""Rules of the operations family."""
