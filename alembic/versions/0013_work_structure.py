"""A work's structure: studios, forms, audience, parts, dated events and origins (issue #22).

Written by hand in the style of 0002. New tables only (``works`` is not altered, so its
triggers, 0008-0011, stay as they are): ``studios`` with their citations, a studio's credits
on works (``work_studios``), a work's forms and audience, its parts (a number or a range:
"episodes 1-50"), its events (a date known to the year, month or day, possibly until
another, optionally of one part), what it adapts that is not a film (``work_origins``), and
``work_statement_sources``: the sources stating each of those values (a part, an event, an
origin, a studio credit), so that every value carries its own. Deleting a work deletes all
of it; a part's events go with the part.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0013'
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


QUALIFIER = ('PROBABLY', 'SOMETIMES', 'UNCONFIRMED')
KEY = sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('studios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('name_key', KEY, nullable=False),
    sa.Column('original_name', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studios')),
    sa.UniqueConstraint('slug', name=op.f('uq_studios_slug'))
    )
    op.create_index('ix_studios_name_key_id', 'studios', ['name_key', 'id'], unique=False)
    op.create_table('studio_sources',
    sa.Column('studio_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_studio_sources_source_id_sources')),
    sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('fk_studio_sources_studio_id_studios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('studio_id', 'source_id', name=op.f('pk_studio_sources'))
    )
    op.create_table('work_forms',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('form', _enum('work_form', 'FEATURE', 'ANIMATION', 'DOCUMENTARY', 'OPERA_FILM', 'TV_SERIES', 'MULTI_PART_FILM'), nullable=False),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_forms_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_forms'))
    )
    op.create_table('work_audiences',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('audience', _enum('audience', 'GENERAL', 'CHILDREN'), nullable=False),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_audiences_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', name=op.f('pk_work_audiences'))
    )
    op.create_table('work_parts',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('unit', _enum('part_unit', 'PART', 'EPISODE'), nullable=False),
    sa.Column('first_number', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.CheckConstraint('first_number >= 1 AND last_number >= first_number', name=op.f('ck_work_parts_range')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_parts_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_parts'))
    )
    op.create_table('work_events',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('part_position', sa.Integer(), nullable=True),
    sa.Column('kind', _enum('event_kind', 'MADE', 'PREMIERE', 'RELEASE', 'BROADCAST', 'LEAK'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=True),
    sa.Column('day', sa.Integer(), nullable=True),
    sa.Column('until_year', sa.Integer(), nullable=True),
    sa.Column('until_month', sa.Integer(), nullable=True),
    sa.Column('until_day', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=500), nullable=True),
    sa.Column('qualifier', _enum('qualifier', *QUALIFIER), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('year BETWEEN 1888 AND 2100', name=op.f('ck_work_events_year_range')),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_work_events_month')),
    sa.CheckConstraint('day BETWEEN 1 AND 31', name=op.f('ck_work_events_day')),
    sa.CheckConstraint('day IS NULL OR month IS NOT NULL', name=op.f('ck_work_events_day_needs_month')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_events_work_id_works'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_id', 'part_position'], ['work_parts.work_id', 'work_parts.position'], name=op.f('fk_work_events_work_id_part_position_work_parts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_events'))
    )
    op.create_table('work_origins',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('original_title', sa.String(length=500), nullable=True),
    sa.Column('form', sa.String(length=500), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('qualifier', _enum('qualifier', *QUALIFIER), nullable=True),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_origins_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_origins'))
    )
    op.create_table('work_studios',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('studio_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('fk_work_studios_studio_id_studios')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_studios_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_studios')),
    sa.UniqueConstraint('work_id', 'studio_id', 'role', name=op.f('uq_work_studios_work_id_studio_id_role'))
    )
    op.create_index('ix_work_studios_studio_id_work_id', 'work_studios', ['studio_id', 'work_id'], unique=False)
    op.create_table('work_statement_sources',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('statement', _enum('statement', 'PART', 'EVENT', 'ORIGIN', 'STUDIO'), nullable=False),
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_work_statement_sources_source_id_sources')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_statement_sources_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'statement', 'item', 'source_id', name=op.f('pk_work_statement_sources'))
    )


def downgrade() -> None:
    op.drop_table('work_statement_sources')
    op.drop_index('ix_work_studios_studio_id_work_id', table_name='work_studios')
    op.drop_table('work_studios')
    op.drop_table('work_origins')
    op.drop_table('work_events')
    op.drop_table('work_parts')
    op.drop_table('work_audiences')
    op.drop_table('work_forms')
    op.drop_table('studio_sources')
    op.drop_index('ix_studios_name_key_id', table_name='studios')
    op.drop_table('studios')
