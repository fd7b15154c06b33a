"""Constraints and indexes, created before any data is written.

A uniqueness constraint on each merge key is what makes ``MERGE`` both fast
(an index lookup, not a label scan) and safe (two writers cannot create the
same unit twice). The extra indexes serve the questions the queries ask
(consortia by body, jurisdiction and status; segments by id; memberships by
role). All statements use the Neo4j 5 syntax (``FOR … REQUIRE … IS UNIQUE``;
the 4.x ``ON … ASSERT`` form is gone) and ``IF NOT EXISTS``, so creating the
schema is idempotent.
"""

from __future__ import annotations

import neo4j
from neo4j.exceptions import Neo4jError

__all__ = ["CONSTRAINTS", "INDEXES", "ensure_schema"]

CONSTRAINTS: tuple[str, ...] = (
    "CREATE CONSTRAINT consortia_unit_uscc IF NOT EXISTS FOR (n:Unit) REQUIRE n.uscc IS UNIQUE",
    "CREATE CONSTRAINT consortia_consortium_id IF NOT EXISTS FOR (n:Consortium) REQUIRE n.consortium_id IS UNIQUE",
    "CREATE CONSTRAINT consortia_jurisdiction IF NOT EXISTS FOR (n:Jurisdiction) REQUIRE n.jurisdiction IS UNIQUE",
    "CREATE CONSTRAINT consortia_chain_id IF NOT EXISTS FOR (n:Chain) REQUIRE n.chain_id IS UNIQUE",
    "CREATE CONSTRAINT consortia_segment IF NOT EXISTS FOR (n:Segment) REQUIRE (n.chain_id, n.segment_id) IS UNIQUE",
    "CREATE CONSTRAINT consortia_evaluation IF NOT EXISTS FOR (n:Evaluation) "
    "REQUIRE (n.consortium_id, n.evaluated_on) IS UNIQUE",
    "CREATE CONSTRAINT consortia_annual_report IF NOT EXISTS FOR (n:AnnualReport) REQUIRE (n.consortium_id, n.year) IS UNIQUE",
    "CREATE CONSTRAINT consortia_project_id IF NOT EXISTS FOR (n:Project) REQUIRE n.project_id IS UNIQUE",
    "CREATE CONSTRAINT consortia_duplicate_unit IF NOT EXISTS FOR (n:DuplicateUnit) REQUIRE n._row IS UNIQUE",
    "CREATE CONSTRAINT consortia_meta IF NOT EXISTS FOR (n:RegistryMeta) REQUIRE n.name IS UNIQUE",
)

INDEXES: tuple[str, ...] = (
    "CREATE INDEX consortia_consortium_body IF NOT EXISTS FOR (n:Consortium) ON (n.body_id)",
    "CREATE INDEX consortia_consortium_jurisdiction IF NOT EXISTS FOR (n:Consortium) ON (n.jurisdiction)",
    "CREATE INDEX consortia_consortium_status IF NOT EXISTS FOR (n:Consortium) ON (n.status)",
    "CREATE INDEX consortia_segment_id IF NOT EXISTS FOR (n:Segment) ON (n.segment_id)",
    "CREATE INDEX consortia_member_role IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.role)",
)

AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"


def ensure_schema(driver: neo4j.Driver, database: str | None, *, wait_seconds: int = 300) -> None:
    """Create every constraint and index that is missing, then wait until
    they are online (on a populated database Neo4j builds them in the
    background, and a MERGE before that would scan)."""
    for statement in (*CONSTRAINTS, *INDEXES):
        driver.execute_query(statement, database_=database)
    try:
        driver.execute_query(AWAIT_INDEXES, {"seconds": wait_seconds}, database_=database)
    except Neo4jError as exc:
        # ArcadeDB has no db.awaitIndexes (its indexes are built synchronously
        # by CREATE); Neo4j always has it. Anything else is a real failure.
        if "awaitIndexes" not in (exc.message or "") and not (exc.code or "").endswith("ProcedureNotFound"):
            raise
