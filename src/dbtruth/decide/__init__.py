"""`dbtruth decide`: the playbook's engine decision matrix (§8) weighted by a team's
requirements — engine families ranked with the reasoning per requirement, the smallest set of
stores that satisfies them chosen, and an ADR drafted from the result."""
