"""Statements with their own sources: typed titles and names, each with the sources that
state it; hedges as data; credits' notes and episode ranges; the people a dispute reports;
relations' sources; two more credit roles (issue #22).

- ``work_titles`` / ``person_names``: every form of a title or name (main, original,
  alternative, translation, transliteration) with its language, script, romanization system
  and qualifier; ``work_title_sources`` / ``person_name_sources`` cite each form's sources.
- ``credits``: ``note``, ``qualifier``, ``episodes_first``/``episodes_last``.
- ``disputes``: ``qualifier``; ``dispute_people``: the people its reported side names.
- ``relation_sources``: the sources stating a relation.
- ``credit_role`` gains PRODUCTION_LEAD and SUBJECT.

The new columns are added with plain ``ALTER TABLE … ADD COLUMN`` (not batch mode: rebuilding
``credits`` on SQLite would drop 0008/0011's triggers on it, see 0011). Widening the
``credit_role`` CHECK of ``credits`` and ``credit_sources`` cannot be done that way on SQLite;
there the constraint's text is edited in ``sqlite_schema`` as SQLite documents for changes
that leave the stored rows valid ("Making Other Kinds Of Table Schema Changes",
https://sqlite.org/lang_altertable.html):
allowing two more values leaves every row valid, and the schema version is bumped so every
connection rereads the schema. Downgrading deletes the rows that use the two roles first.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("DIRECTOR", "WRITER", "ACTOR", "COMPOSER", "PRODUCER", "CREATOR", "OTHER")
NEW_ROLES = ("PRODUCTION_LEAD", "SUBJECT")
QUALIFIERS = ("PROBABLY", "SOMETIMES", "UNCONFIRMED")
TITLE_KINDS = ("MAIN", "ORIGINAL", "ALTERNATIVE", "TRANSLATION", "TRANSLITERATION")
SYSTEMS = ("MR", "RR", "OTHER")
RELATION_TYPES = ("EXTENDS", "ADAPTS", "REMAKES", "SEQUEL_OF", "PART_OF")
ROLE_TABLES = ("credits", "credit_sources")


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _set_roles(roles: Sequence[str], previous: Sequence[str]) -> None:
    """The ``credit_role`` CHECK of ``credits`` and ``credit_sources`` allows ``roles``."""
    if not _sqlite():
        for table in ROLE_TABLES:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_credit_role")
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_credit_role "
                f"CHECK ({_in('role', roles)})"
            )
        return
    bind = op.get_bind()
    old, new = f"({_in('role', previous)})", f"({_in('role', roles)})"
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table in ROLE_TABLES:
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            if sql.count(old) != 1:
                raise RuntimeError(f"{table}: the credit_role CHECK is not {old}")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (sql.replace(old, new), table),
            )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _form_tables(owner: str, table: str, owners: str, sources: str, key: str) -> None:
    op.create_table(
        table,
        sa.Column(owner, sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("kind", _enum("title_kind", TITLE_KINDS), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("script", sa.String(length=4), nullable=True),
        sa.Column("romanization", _enum("romanization_system", SYSTEMS), nullable=True),
        sa.Column("qualifier", _enum("qualifier", QUALIFIERS), nullable=True),
        sa.ForeignKeyConstraint(
            [owner], [f"{owners}.id"], name=op.f(f"fk_{table}_{owner}_{owners}"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(owner, "position", name=op.f(f"pk_{table}")),
    )
    op.create_table(
        sources,
        sa.Column(owner, sa.Integer(), nullable=False),
        sa.Column(key, sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [owner, key],
            [f"{table}.{owner}", f"{table}.position"],
            name=op.f(f"fk_{sources}_{owner}_{key}_{table}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f(f"fk_{sources}_source_id_sources")
        ),
        sa.PrimaryKeyConstraint(owner, key, "source_id", name=op.f(f"pk_{sources}")),
    )


def upgrade() -> None:
    _set_roles(OLD_ROLES + NEW_ROLES, OLD_ROLES)
    op.execute("ALTER TABLE credits ADD COLUMN note TEXT")
    op.execute(
        "ALTER TABLE credits ADD COLUMN qualifier VARCHAR(20) "
        f"CONSTRAINT ck_credits_qualifier CHECK ({_in('qualifier', QUALIFIERS)})"
    )
    op.execute("ALTER TABLE credits ADD COLUMN episodes_first INTEGER")
    # A column constraint on the last of the two (SQLite adds no table constraint to an
    # existing table); it names both, so downgrade drops this column first.
    op.execute(
        "ALTER TABLE credits ADD COLUMN episodes_last INTEGER CONSTRAINT ck_credits_episode_range "
        "CHECK ((episodes_first IS NULL AND episodes_last IS NULL) OR "
        "(episodes_first >= 1 AND episodes_last >= episodes_first))"
    )
    op.execute(
        "ALTER TABLE disputes ADD COLUMN qualifier VARCHAR(20) "
        f"CONSTRAINT ck_disputes_qualifier CHECK ({_in('qualifier', QUALIFIERS)})"
    )
    op.create_table(
        "dispute_people",
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("credit_role", OLD_ROLES + NEW_ROLES), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["disputes.id"],
            name=op.f("fk_dispute_people_dispute_id_disputes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_dispute_people_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dispute_id", "person_id", "role", name=op.f("pk_dispute_people")),
    )
    op.create_index("ix_dispute_people_person_id", "dispute_people", ["person_id"])
    _form_tables("work_id", "work_titles", "works", "work_title_sources", "title_position")
    _form_tables("person_id", "person_names", "people", "person_name_sources", "name_position")
    op.create_table(
        "relation_sources",
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("related_work_id", sa.Integer(), nullable=False),
        sa.Column("type", _enum("work_relation_type", RELATION_TYPES), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id", "related_work_id", "type"],
            ["work_relations.work_id", "work_relations.related_work_id", "work_relations.type"],
            name=op.f("fk_relation_sources_work_id_related_work_id_type_work_relations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_relation_sources_source_id_sources")
        ),
        sa.PrimaryKeyConstraint(
            "work_id", "related_work_id", "type", "source_id", name=op.f("pk_relation_sources")
        ),
    )


def downgrade() -> None:
    op.drop_table("relation_sources")
    op.drop_table("person_name_sources")
    op.drop_table("person_names")
    op.drop_table("work_title_sources")
    op.drop_table("work_titles")
    op.drop_index("ix_dispute_people_person_id", table_name="dispute_people")
    op.drop_table("dispute_people")
    op.execute("ALTER TABLE disputes DROP COLUMN qualifier")
    for column in ("episodes_last", "episodes_first", "qualifier", "note"):
        op.execute(f"ALTER TABLE credits DROP COLUMN {column}")
    # The two roles go with the credits that have them, and those credits' sources.
    for table in ("credit_sources", "credits"):
        op.execute(f"DELETE FROM {table} WHERE {_in('role', NEW_ROLES)}")
    _set_roles(OLD_ROLES, OLD_ROLES + NEW_ROLES)
