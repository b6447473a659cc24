"""G005 entity-attribute-value-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.rules.naming import normalized, own_tables, table_ref, tokens
from dbtruth.spec import Settings, rule

_ATTRIBUTE = {
    "attribute",
    "attributename",
    "attr",
    "attrname",
    "fieldname",
    "field",
    "propertyname",
    "property",
    "metakey",
    "attributekey",
    "propertykey",
    "fieldkey",
}
_VALUE = {
    "value",
    "val",
    "valuetext",
    "valuestring",
    "metavalue",
    "fieldvalue",
    "propertyvalue",
    "attributevalue",
    "valuenumber",
    "valuedate",
    "stringvalue",
    "textvalue",
    "numbervalue",
}


@rule("G005", "entity-attribute-value-table", Severity.WARNING)
def entity_attribute_value_table(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds entity-attribute-value tables: a reference to an entity, a column naming an
    attribute, and a generic value column.

    ## Why is this bad?
    EAV moves the schema into the data: every attribute's type, nullability, range and
    uniqueness become unenforceable, queries need one self-join per attribute, and the planner
    cannot estimate anything. The attributes are columns (or a JSON document with a contract)
    that nobody designed (§3.3, §16 "Treating JSON as escape hatch from modelling").

    ## Example
    ```sql
    CREATE TABLE case_attribute (case_id bigint, attribute_name text, value text);
    ```

    ## Use instead
    ```sql
    ALTER TABLE case_file ADD COLUMN priority smallint CHECK (priority BETWEEN 1 AND 5);
    ```

    ## Fix safety
    No SQL fix: each attribute becomes a typed column through a migration.

    ## References
    Playbook §3.3 Grain Before Columns, §6.4 ("JSON punya contract?"), §16.
    """
    for table in own_tables(catalog):
        names = {normalized(c.name): c.name for c in table.columns}
        attribute = next((names[n] for n in names if n in _ATTRIBUTE), None)
        value = next((names[n] for n in names if n in _VALUE), None)
        pk = {
            col
            for c in catalog.constraints_of(table)
            if c.kind == "primary key"
            for col in c.columns
        }
        entity = next(
            (
                c.name
                for c in table.columns
                if tokens(c.name)[-1:] == ("id",)
                and len(tokens(c.name)) > 1
                and not (c.name in pk and len(pk) == 1)
            ),
            None,
        )
        if attribute is None or value is None or entity is None:
            continue
        yield Violation(
            table_ref(table),
            f"{table.qualified} is an entity-attribute-value table ({entity}, {attribute}, "
            f"{value}): attribute types and rules cannot be enforced",
            Fix(
                "model the attributes as typed columns of the entity (or a JSON document with a "
                "CHECK-enforced contract)"
            ),
            evidence=(("entity", entity), ("attribute", attribute), ("value", value)),
        )
