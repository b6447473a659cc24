"""Queries planned with EXPLAIN: where they come from (intake), how they are planned
(explain), and PostgreSQL's plan as dataclasses (plans). Shared by `dbtruth workload` and by
`migrate lint --replay`, which re-plans the contracted queries after the migrations."""
