"""G006 floating-point-money."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.rules.naming import column_ref, own_tables, tokens
from dbtruth.spec import Settings, rule

# Not "discount", "rate" or "percent": a bare discount is as often a fraction (0.05) as an
# amount, and a fraction in floating point is a ratio, not money; `discount_amount` still counts.
MONEY_WORDS = frozenset(
    [
        "amount",
        "price",
        "cost",
        "balance",
        "total",
        "fee",
        "tax",
        "salary",
        "payment",
        "money",
        "charge",
        "revenue",
        "subtotal",
        "refund",
        "wage",
        "invoice",
        "budget",
    ]
)


@rule("G006", "floating-point-money", Severity.WARNING)
def floating_point_money(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds monetary columns (`amount`, `price`, `balance`, `total_cost`, ...) stored as `real` or
    `double precision`, and columns of the `money` type.

    ## Why is this bad?
    Binary floating point cannot represent 0.10 exactly: sums drift, equal amounts compare
    unequal, and a ledger stops balancing by fractions of a cent. `money` formats by the server's
    `lc_monetary`, so a restore on a server with another locale changes the meaning of the data.
    "Type sesuai semantic?" (§6.4); ledgers must balance (§3.2).

    ## Example
    ```sql
    CREATE TABLE payment (id bigint PRIMARY KEY, amount double precision NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE payment (id bigint PRIMARY KEY, amount numeric(19, 4) NOT NULL,
                          currency char(3) NOT NULL);
    ```

    ## Fix safety
    Changing the type rewrites the table under ACCESS EXCLUSIVE; existing values keep whatever
    rounding error they already have, and digits past the fourth decimal are rounded away.

    ## References
    PostgreSQL manual 8.1 Numeric Types, 8.2 Monetary Types; playbook §3.2, §6.4.
    """
    for table in own_tables(catalog):
        for column in table.columns:
            is_float = column.type_name in ("float4", "float8")
            if not (
                column.type_name == "money"
                or (is_float and MONEY_WORDS.intersection(tokens(column.name)))
            ):
                continue
            yield Violation(
                column_ref(table, column.name),
                f"{table.qualified}.{column.name} stores money as {column.type}",
                Fix(
                    "store money as numeric with an explicit scale",
                    sql=f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
                    f"{ident(column.name)} TYPE numeric(19, 4);",
                    lock_safe=False,
                    behaviour_change=True,  # arithmetic becomes exact
                    data_loss=True,  # digits past the fourth decimal are rounded away
                    note="rewrites the table under ACCESS EXCLUSIVE",
                ),
                evidence=(("type", column.type),),
            )
