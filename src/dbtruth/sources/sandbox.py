"""What loaded SQL may do on a scratch server, and the few things dbtruth does for it.

SQL files and migrations come from pull requests, so they run as an unprivileged owner of a
throwaway database: no superuser, no membership in the roles that read or write server files or
run server programs. PostgreSQL itself enforces that. A handful of statements that real schemas
carry need more than a database owner has; this module decides, statement by statement:

- role statements (CREATE/ALTER/DROP ROLE, GRANT role TO …) are run by dbtruth's administrator
  after removing what would lead back to power: SUPERUSER and REPLICATION are dropped (with a
  note), CREATEROLE is dropped where PostgreSQL < 16 would let it grant server-program access,
  and granting the server-access roles or the administrator is refused;
- CREATE EXTENSION: trusted extensions are created by the owner as PostgreSQL allows; a short
  allowlist of untrusted ones real schemas need (PostGIS, pg_stat_statements, …) is created by
  the administrator; extensions that reach other servers, files or programs never are;
- statements PostgreSQL reserves for superusers by their nature (event triggers, untrusted
  languages, C functions, operator classes, foreign-data wrappers) are reported as not loaded;
  anything else it refuses for lack of privilege (COPY … PROGRAM, pg_read_file, ALTER SYSTEM,
  lo_export) is refused, naming the statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from pglast import ast, enums, parse_sql
from pglast.stream import RawStream
from psycopg import sql

# Membership in these gives server file or program access, or connections to other servers.
SERVER_ACCESS_ROLES = frozenset(
    {
        "pg_execute_server_program",
        "pg_read_server_files",
        "pg_write_server_files",
        "pg_create_subscription",
        "pg_signal_backend",
        "pg_signal_autovacuum_worker",
    }
)

# Untrusted extensions that real schemas need and that touch nothing outside the database.
ALLOWED_UNTRUSTED_EXTENSIONS = frozenset(
    {
        "postgis",
        "postgis_raster",
        "postgis_topology",
        "postgis_sfcgal",
        "postgis_tiger_geocoder",
        "address_standardizer",
        "address_standardizer_data_us",
        "pg_stat_statements",
        "pg_buffercache",
        "pgstattuple",
        "pg_visibility",
        "pg_freespacemap",
        "pgrowlocks",
        "pg_prewarm",
        "amcheck",
        "hypopg",
        "vector",
        "pg_partman",
    }
)

# Why an extension is never created, whatever the SQL asks.
_FORBIDDEN_EXTENSIONS = {
    "dblink": "it connects to other servers",
    "postgres_fdw": "it connects to other servers",
    "file_fdw": "it reads server files and runs server programs",
    "adminpack": "it writes server files",
    "plpython3u": "it runs arbitrary code on the server",
    "plperlu": "it runs arbitrary code on the server",
    "pltclu": "it runs arbitrary code on the server",
    "pageinspect": "it reads raw pages of any relation",
    "pg_walinspect": "it reads the server's write-ahead log",
}

# Statements PostgreSQL allows only superusers by their nature: when refused, the object is
# reported as not loaded (the rest of the schema still loads), not as an attack.
_SUPERUSER_BY_NATURE: dict[type[Any], str] = {
    ast.CreateEventTrigStmt: "an event trigger",
    ast.AlterEventTrigStmt: "an event trigger",
    ast.CreatePLangStmt: "a procedural language",
    ast.CreateFunctionStmt: "a function in an untrusted language or C",
    ast.CreateFdwStmt: "a foreign-data wrapper",
    ast.AlterFdwStmt: "a foreign-data wrapper",
    ast.CreateOpClassStmt: "an operator class",
    ast.CreateOpFamilyStmt: "an operator family",
    ast.AlterOpFamilyStmt: "an operator family",
    ast.CreateCastStmt: "a cast without a function",
    ast.DefineStmt: "a text search parser, template or base type",
    ast.CreatePublicationStmt: "a publication of all tables",
    ast.AlterPublicationStmt: "a publication of all tables",
    ast.CreateSubscriptionStmt: "a subscription",
    ast.CreateConversionStmt: "a conversion",
}

# Cheap test before parsing: only these statements can need the gate.
_CANDIDATE = re.compile(
    r"^\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(?:CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT)\b",
    re.IGNORECASE | re.DOTALL,
)
_ROLE_WORD = re.compile(r"\b(?:ROLE|USER|GROUP|EXTENSION|GRANT|REVOKE)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one statement: run it as the owner (`native`), have dbtruth's
    administrator run `sql` (`privileged`), or `refuse` it with `reason`."""

    action: Literal["native", "privileged", "refuse"]
    sql: str = ""
    reason: str = ""
    notes: tuple[str, ...] = ()
    created_role: str | None = None


NATIVE = Verdict("native")


@dataclass
class Sandbox:
    """The rules of one scratch database: who the SQL runs as, and how dbtruth's administrator
    is reached for the statements it runs on the SQL's behalf."""

    owner: str
    admin_conninfo: str
    admin_role: str
    # PostgreSQL 16 made CREATEROLE safe to hand out (a role can only grant what it administers);
    # before 16 a CREATEROLE role can grant itself pg_execute_server_program.
    createrole_is_safe: bool
    # A user-named scratch server: roles made there outlive the run and are dropped at the end.
    shared_server: bool = False
    created_roles: list[str] = field(default_factory=list)
    _admin: psycopg.Connection[Any] | None = None

    def judge(self, statement_sql: str, conn: psycopg.Connection[Any]) -> Verdict:
        """The verdict on one statement; `conn` is the owner's session (for catalog lookups)."""
        if not _CANDIDATE.match(statement_sql) or not _ROLE_WORD.search(statement_sql):
            return NATIVE
        try:
            parsed = parse_sql(statement_sql)
        except Exception:  # PostgreSQL reports the syntax error itself when it runs it
            return NATIVE
        if len(parsed) != 1:
            return NATIVE
        node = parsed[0].stmt
        if isinstance(node, ast.CreateRoleStmt):
            return self._create_role(node)
        if isinstance(node, ast.AlterRoleStmt):
            return self._alter_role(node)
        if isinstance(node, ast.DropRoleStmt):
            return self._drop_role(node)
        if isinstance(node, ast.GrantRoleStmt):
            return self._grant_role(node)
        if isinstance(node, ast.RenameStmt) and node.renameType == enums.ObjectType.OBJECT_ROLE:
            return self._rename_role(node)
        if isinstance(node, ast.CreateExtensionStmt):
            return self._create_extension(node, statement_sql, conn)
        if isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_EXTENSION:
            # pg_dump comments on every extension; one dbtruth created belongs to its
            # administrator, and a comment is harmless.
            return self._comment_on_extension(node, statement_sql, conn)
        return NATIVE

    def run_privileged(self, verdict: Verdict) -> None:
        """Run a statement dbtruth's administrator takes over, and let the owner use a role the
        statement created (so `OWNER TO` and `GRANT … TO` that role keep working)."""
        admin = self._admin_session()
        admin.execute(verdict.sql.encode())
        if verdict.created_role:
            self.created_roles.append(verdict.created_role)
            admin.execute(
                sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                    sql.Identifier(verdict.created_role), sql.Identifier(self.owner)
                )
            )

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def _admin_session(self) -> psycopg.Connection[Any]:
        if self._admin is None:
            self._admin = psycopg.connect(self.admin_conninfo, autocommit=True)
        return self._admin

    # -- roles ---------------------------------------------------------------------------

    def _create_role(self, node: ast.CreateRoleStmt) -> Verdict:
        role = str(node.role)
        if role in (self.admin_role, self.owner):
            return _refuse(f"role {role} is dbtruth's own")
        options, notes, refusal = self._safe_options(node.options or (), role)
        if refusal:
            return _refuse(refusal)
        if node.stmt_type == enums.RoleStmtType.ROLESTMT_USER and not any(
            o.defname == "canlogin" for o in options
        ):
            # CREATE USER means LOGIN; kept explicit because the statement is re-emitted.
            options = (*options, ast.DefElem(defname="canlogin", arg=ast.Boolean(True)))
        node.options = options or None
        node.stmt_type = enums.RoleStmtType.ROLESTMT_ROLE
        return Verdict("privileged", RawStream()(node), notes=notes, created_role=role)

    def _alter_role(self, node: ast.AlterRoleStmt) -> Verdict:
        name = self._role_name(node.role)
        if name in (self.admin_role, self.owner):
            return _refuse(f"role {name} is dbtruth's own; the loaded SQL cannot change it")
        node.role = _named(name)
        options, notes, refusal = self._safe_options(node.options or (), name)
        if refusal:
            return _refuse(refusal)
        if not options:
            return Verdict("native", notes=notes)  # nothing left to change
        node.options = options
        return Verdict("privileged", RawStream()(node), notes=notes)

    def _drop_role(self, node: ast.DropRoleStmt) -> Verdict:
        for spec in node.roles or ():
            name = self._role_name(spec)
            if name in (self.admin_role, self.owner, "postgres"):
                return _refuse(f"role {name} is dbtruth's own; the loaded SQL cannot drop it")
        return Verdict("privileged", RawStream()(node))

    def _rename_role(self, node: ast.RenameStmt) -> Verdict:
        if node.subname in (self.admin_role, self.owner, "postgres"):
            return _refuse(f"role {node.subname} is dbtruth's own; the loaded SQL cannot rename it")
        return Verdict("privileged", RawStream()(node))

    def _grant_role(self, node: ast.GrantRoleStmt) -> Verdict:
        for granted in node.granted_roles or ():
            reason = self._power(granted.priv_name)
            if reason:
                return _refuse(f"granting {granted.priv_name} {reason}")
        node.grantee_roles = tuple(_named(self._role_name(r)) for r in node.grantee_roles or ())
        node.grantor = None  # GRANTED BY names the administrator's choice, not the SQL's
        return Verdict("privileged", RawStream()(node))

    def _safe_options(
        self, options: tuple[ast.DefElem, ...], role: str
    ) -> tuple[tuple[ast.DefElem, ...], tuple[str, ...], str | None]:
        kept: list[ast.DefElem] = []
        notes: list[str] = []
        for option in options:
            name = option.defname
            enabled = isinstance(option.arg, ast.Boolean) and option.arg.boolval
            if name == "superuser" and enabled:
                notes.append(f"role {role} created without SUPERUSER (no role here has it)")
                continue
            if name == "isreplication" and enabled:
                notes.append(f"role {role} created without REPLICATION")
                continue
            if name == "createrole" and enabled and not self.createrole_is_safe:
                notes.append(
                    f"role {role} created without CREATEROLE: before PostgreSQL 16 it could "
                    "grant itself server-program access"
                )
                continue
            if name == "createdb" and enabled and self.shared_server:
                notes.append(f"role {role} created without CREATEDB on a shared scratch server")
                continue
            if name in ("addroleto", "rolemembers", "adminmembers"):
                for spec in option.arg or ():
                    member = self._role_name(spec)
                    reason = self._power(member) if name == "addroleto" else None
                    if reason:
                        return (), (), f"membership in {member} {reason}"
                    if member == self.admin_role:
                        return (), (), f"role {member} is dbtruth's own"
                option.arg = tuple(_named(self._role_name(s)) for s in option.arg or ())
            kept.append(option)
        return tuple(kept), tuple(notes), None

    def _role_name(self, spec: Any) -> str:
        if not isinstance(spec, ast.RoleSpec):
            return str(spec)
        kind = spec.roletype
        if kind == enums.RoleSpecType.ROLESPEC_CSTRING:
            return str(spec.rolename)
        if kind == enums.RoleSpecType.ROLESPEC_PUBLIC:
            return "public"
        # CURRENT_USER, CURRENT_ROLE and SESSION_USER mean the role the SQL runs as, not the
        # administrator that runs this statement for it.
        return self.owner

    def _power(self, role: str) -> str | None:
        if role in SERVER_ACCESS_ROLES:
            return "would give the loaded SQL access to server files, programs or connections"
        if role == self.admin_role:
            return "would give the loaded SQL dbtruth's administrator"
        row = (
            self._admin_session()
            .execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,))
            .fetchone()
        )
        if row and row[0]:
            return "would make the loaded SQL a superuser"
        return None

    # -- extensions ----------------------------------------------------------------------

    def _create_extension(
        self, node: ast.CreateExtensionStmt, statement_sql: str, conn: psycopg.Connection[Any]
    ) -> Verdict:
        name = node.extname
        if name in _FORBIDDEN_EXTENSIONS:
            return _refuse(f"extension {name} is never created on a scratch server: "
                           f"{_FORBIDDEN_EXTENSIONS[name]}")  # fmt: skip
        row = conn.execute(
            "SELECT trusted, coalesce(requires, '{}') FROM pg_available_extension_versions v"
            " JOIN pg_available_extensions e USING (name)"
            " WHERE v.name = %s AND v.version = e.default_version",
            (name,),
        ).fetchone()
        if row is None or row[0]:
            # Unknown here (PostgreSQL explains which extension is missing) or trusted: the
            # owner creates it as PostgreSQL allows any database owner to.
            return NATIVE
        if name not in ALLOWED_UNTRUSTED_EXTENSIONS:
            return _refuse(
                f"extension {name} needs a superuser and is not on dbtruth's list of "
                "extensions that touch nothing outside the database"
            )
        cascade = any(o.defname == "cascade" for o in node.options or ())
        if cascade:
            for required in row[1]:
                if required in _FORBIDDEN_EXTENSIONS:
                    return _refuse(f"extension {name} needs {required}, which is never created")
        schema = next(
            (o.arg.sval for o in node.options or () if o.defname == "schema"), None
        ) or _first_schema(conn)
        if _holds_code_of(conn, schema, self.admin_role):
            # The extension's script runs as a superuser with the schema first on its
            # search_path: functions or operators the SQL put there could be called by it.
            return _refuse(
                f"extension {name} would be created by a superuser in schema {schema}, which "
                "already holds operators, or functions or types named like PostgreSQL's own, "
                "that the loaded SQL wrote; create the extension before them"
            )
        return Verdict("privileged", statement_sql)

    def _comment_on_extension(
        self, node: ast.CommentStmt, statement_sql: str, conn: psycopg.Connection[Any]
    ) -> Verdict:
        name = node.object.sval if isinstance(node.object, ast.String) else None
        row = conn.execute(
            "SELECT r.rolname FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner"
            " WHERE e.extname = %s",
            (name,),
        ).fetchone()
        if row is not None and row[0] == self.admin_role:
            return Verdict("privileged", statement_sql)
        return NATIVE


def _named(name: str) -> ast.RoleSpec:
    if name == "public":
        return ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_PUBLIC)
    return ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_CSTRING, rolename=name)


def _first_schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"


def _holds_code_of(conn: psycopg.Connection[Any], schema: str, admin_role: str) -> bool:
    """Whether `schema` holds operators, or functions or types named like PostgreSQL's own,
    that someone other than the administrator made: what a superuser's extension script could
    pick up instead of the built-in it means (the script runs with the schema on its
    search_path). Functions with names of their own cannot be called by a script that does not
    know them."""
    row = conn.execute(
        """
        SELECT EXISTS (SELECT FROM pg_operator WHERE oprnamespace = n.oid AND oprowner <> a.oid)
            OR EXISTS (SELECT FROM pg_proc p WHERE p.pronamespace = n.oid AND p.proowner <> a.oid
                       AND EXISTS (SELECT FROM pg_proc b WHERE b.proname = p.proname
                                   AND b.pronamespace = 'pg_catalog'::regnamespace))
            OR EXISTS (SELECT FROM pg_type t WHERE t.typnamespace = n.oid AND t.typowner <> a.oid
                       AND EXISTS (SELECT FROM pg_type b WHERE b.typname = t.typname
                                   AND b.typnamespace = 'pg_catalog'::regnamespace))
        FROM pg_namespace n, pg_roles a
        WHERE n.nspname = %s AND a.rolname = %s
        """,
        (schema, admin_role),
    ).fetchone()
    return bool(row and row[0])


def _refuse(reason: str) -> Verdict:
    return Verdict("refuse", reason=reason)


def needs_superuser_by_nature(statement_sql: str) -> str | None:
    """For a statement PostgreSQL refused for lack of privilege: what it creates when only a
    superuser can ever create that (reported as not loaded), None when it is an attempt to reach
    past the database (refused)."""
    try:
        parsed = parse_sql(statement_sql)
    except Exception:
        return None
    if len(parsed) != 1:
        return None
    return _SUPERUSER_BY_NATURE.get(type(parsed[0].stmt))
