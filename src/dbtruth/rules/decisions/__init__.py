"""Decision rules (family D): the ADR folder read by `dbtruth adr check` — the playbook's ADR
shape (§15), supersession links, and confirmations that must hold while a decision stands."""

from __future__ import annotations

from dbtruth.findings import ObjectRef
from dbtruth.model.decisions import Adr

# Statuses of a decision no longer in force: it needs no alternatives or triggers any more,
# and a schema that no longer matches it contradicts nothing.
RETIRED = ("superseded", "deprecated", "rejected", "withdrawn", "replaced")


def standing(adr: Adr) -> bool:
    status = adr.status.lower()
    return not any(word in status for word in RETIRED)


def adr_object(adr: Adr) -> ObjectRef:
    return ObjectRef("adr", "", adr.path.name)
