"""Chunked backfills with a checkpoint on the target (playbook Principle 7): plan, run,
status, pause, resume, abort."""
