"""A person's works in any role, in order, from one index.

``person.works(first: 20, after:)`` without a role (W9 of ``bench.load``) pages a person's
works whatever their roles, in the works' order (year unknown last, year, title key, id).
0008's and 0011's index holds those keys on ``credits``, but after ``role``: it orders a
person's works within each role only, so the page read every work of the person and sorted
them. The most credited person at 100,000 works has 1,632; page 3 cost 4,968 buffers (a
probe of ``works`` per work) and its p50 doubled from 10,000 works (bench/README.md).

Here an index on (person, the keys, work) without the role: the page is the person's next
index entries, one group per work (a work's credits in several roles carry the same keys
and so lie side by side), 74 buffers however many works the person has. It holds only the
keys (0008's copies, kept by its triggers): the page then fetches its 20 works by id.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_credits_person_id_work_order"
COLUMNS = ["person_id", "work_year_unknown", "work_year", "work_title_key", "work_id"]


def upgrade() -> None:
    # Not in batch mode: on SQLite, rebuilding ``credits`` would drop 0008's triggers on it.
    op.create_index(INDEX, "credits", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="credits")
