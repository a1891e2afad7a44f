"""External identifiers of works and people (IMDb, Wikidata).

Written by hand in the style of 0001: one row per (record, system), so a record has at most
one identifier per system, and UNIQUE(system, value), so an identifier names one record.
The system is a CHECK-constrained string, like every enum of the catalog. Deleting a work or
a person deletes its identifiers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('person_external_ids',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('system', sa.Enum('IMDB', 'WIKIDATA', name='external_system', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_external_ids_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'system', name=op.f('pk_person_external_ids')),
    sa.UniqueConstraint('system', 'value', name=op.f('uq_person_external_ids_system_value'))
    )
    op.create_table('work_external_ids',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('system', sa.Enum('IMDB', 'WIKIDATA', name='external_system', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_external_ids_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'system', name=op.f('pk_work_external_ids')),
    sa.UniqueConstraint('system', 'value', name=op.f('uq_work_external_ids_system_value'))
    )


def downgrade() -> None:
    op.drop_table('work_external_ids')
    op.drop_table('person_external_ids')
