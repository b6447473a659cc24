"""Architecture decision records (playbook §5 Principle 10, §15): `adr new` writes one in the
folder's own shape, `adr check` judges the folder with the decision rules and runs each ADR's
confirmations and revisit thresholds against the schema.

Confirmations read the results of `check`, `prove` and `workload`, as the review does; this
package sits above those capabilities for that reason."""
