"""Rules of the invariants family."""
