"""dbtruth: the architecture review of a PostgreSQL database, from truth, invariants, workload
and failure."""

__version__ = "0.1.0"
