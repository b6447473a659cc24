"""Workload rules: each planned query against its contract (family X)."""
