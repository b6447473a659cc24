"""The decision rules alone, in code order: `dbtruth adr check` imports these and not the
catalog rules. tests/test_conventions.py checks that this tuple is exactly the decision part of
RULES.
"""

from __future__ import annotations

from dbtruth.rules.decisions.adr_confirmation_unresolved import adr_confirmation_unresolved
from dbtruth.rules.decisions.adr_contradicted_by_schema import adr_contradicted_by_schema
from dbtruth.rules.decisions.adr_duplicate_number import adr_duplicate_number
from dbtruth.rules.decisions.adr_missing_section import adr_missing_section
from dbtruth.rules.decisions.adr_revisit_trigger_fired import adr_revisit_trigger_fired
from dbtruth.rules.decisions.adr_supersede_link_one_way import adr_supersede_link_one_way
from dbtruth.rules.decisions.adr_too_few_alternatives import adr_too_few_alternatives
from dbtruth.rules.decisions.adr_without_revisit_trigger import adr_without_revisit_trigger
from dbtruth.spec import DecisionCheck

DECISION_RULES: tuple[DecisionCheck, ...] = (
    adr_missing_section,
    adr_too_few_alternatives,
    adr_without_revisit_trigger,
    adr_supersede_link_one_way,
    adr_duplicate_number,
    adr_contradicted_by_schema,
    adr_revisit_trigger_fired,
    adr_confirmation_unresolved,
)
