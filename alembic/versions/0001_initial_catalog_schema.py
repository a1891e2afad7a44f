"""Initial catalog schema: works, people, themes, credits, tags, relations, sources, disputes.

Reviewed by hand: every table has a named primary key, link tables use composite keys, enums
are CHECK-constrained strings (portable across SQLite and PostgreSQL), sort keys compare
byte-wise (collation "C" on PostgreSQL, BINARY on SQLite), and years stay in 1888..2100.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 04:17:31.408283
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('name_key', sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql'), nullable=False),
    sa.Column('original_name', sa.String(length=500), nullable=True),
    sa.Column('biography', sa.Text(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('slug', name=op.f('uq_people_slug'))
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_name_key_id', ['name_key', 'id'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('key', name=op.f('uq_sources_key'))
    )
    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('name_key', sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    sa.UniqueConstraint('slug', name=op.f('uq_themes_slug'))
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index('ix_themes_name_key_id', ['name_key', 'id'], unique=False)

    op.create_table('works',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('title_key', sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql'), nullable=False),
    sa.Column('original_title', sa.String(length=500), nullable=True),
    sa.Column('kind', sa.Enum('FILM', 'SERIES', name='work_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('synopsis', sa.Text(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.CheckConstraint('year BETWEEN 1888 AND 2100', name=op.f('ck_works_year_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_works')),
    sa.UniqueConstraint('slug', name=op.f('uq_works_slug'))
    )
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.create_index('ix_works_kind', ['kind'], unique=False)
        batch_op.create_index('ix_works_title_key_id', ['title_key', 'id'], unique=False)
        batch_op.create_index('ix_works_year_id', ['year', 'id'], unique=False)

    op.create_table('credits',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('DIRECTOR', 'WRITER', 'ACTOR', 'COMPOSER', 'PRODUCER', 'CREATOR', 'OTHER', name='credit_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_credits_person_id_people')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_credits_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'person_id', 'role', name=op.f('pk_credits'))
    )
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.create_index('ix_credits_person_id_role', ['person_id', 'role'], unique=False)
        batch_op.create_index('uq_credits_work_id_position', ['work_id', 'position'], unique=True)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('stated', sa.Text(), nullable=False),
    sa.Column('reported', sa.Text(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_disputes_source_id_sources')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_disputes_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('uq_disputes_work_id_position', ['work_id', 'position'], unique=True)

    op.create_table('person_alternative_names',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_alternative_names_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'position', name=op.f('pk_person_alternative_names'))
    )
    op.create_table('person_field_sources',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_field_sources_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_person_field_sources_source_id_sources')),
    sa.PrimaryKeyConstraint('person_id', 'field', 'source_id', name=op.f('pk_person_field_sources'))
    )
    op.create_table('person_sources',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_sources_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_person_sources_source_id_sources')),
    sa.PrimaryKeyConstraint('person_id', 'source_id', name=op.f('pk_person_sources'))
    )
    op.create_table('work_alternative_titles',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_alternative_titles_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'position', name=op.f('pk_work_alternative_titles'))
    )
    op.create_table('work_field_sources',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_work_field_sources_source_id_sources')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_field_sources_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'field', 'source_id', name=op.f('pk_work_field_sources'))
    )
    op.create_table('work_relations',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('related_work_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('EXTENDS', 'ADAPTS', 'REMAKES', 'SEQUEL_OF', 'PART_OF', name='work_relation_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('work_id <> related_work_id', name=op.f('ck_work_relations_not_self')),
    sa.ForeignKeyConstraint(['related_work_id'], ['works.id'], name=op.f('fk_work_relations_related_work_id_works')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_relations_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'related_work_id', 'type', name=op.f('pk_work_relations'))
    )
    with op.batch_alter_table('work_relations', schema=None) as batch_op:
        batch_op.create_index('ix_work_relations_related_work_id', ['related_work_id'], unique=False)

    op.create_table('work_sources',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_work_sources_source_id_sources')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_sources_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'source_id', name=op.f('pk_work_sources'))
    )
    op.create_table('work_themes',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_work_themes_theme_id_themes')),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_work_themes_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'theme_id', name=op.f('pk_work_themes'))
    )
    with op.batch_alter_table('work_themes', schema=None) as batch_op:
        batch_op.create_index('ix_work_themes_theme_id', ['theme_id'], unique=False)

    op.create_table('credit_sources',
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('DIRECTOR', 'WRITER', 'ACTOR', 'COMPOSER', 'PRODUCER', 'CREATOR', 'OTHER', name='credit_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_credit_sources_source_id_sources')),
    sa.ForeignKeyConstraint(['work_id', 'person_id', 'role'], ['credits.work_id', 'credits.person_id', 'credits.role'], name=op.f('fk_credit_sources_work_id_person_id_role_credits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_id', 'person_id', 'role', 'source_id', name=op.f('pk_credit_sources'))
    )


def downgrade() -> None:
    op.drop_table('credit_sources')
    with op.batch_alter_table('work_themes', schema=None) as batch_op:
        batch_op.drop_index('ix_work_themes_theme_id')

    op.drop_table('work_themes')
    op.drop_table('work_sources')
    with op.batch_alter_table('work_relations', schema=None) as batch_op:
        batch_op.drop_index('ix_work_relations_related_work_id')

    op.drop_table('work_relations')
    op.drop_table('work_field_sources')
    op.drop_table('work_alternative_titles')
    op.drop_table('person_sources')
    op.drop_table('person_field_sources')
    op.drop_table('person_alternative_names')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('uq_disputes_work_id_position')

    op.drop_table('disputes')
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.drop_index('uq_credits_work_id_position')
        batch_op.drop_index('ix_credits_person_id_role')

    op.drop_table('credits')
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.drop_index('ix_works_year_id')
        batch_op.drop_index('ix_works_title_key_id')
        batch_op.drop_index('ix_works_kind')

    op.drop_table('works')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index('ix_themes_name_key_id')

    op.drop_table('themes')
    op.drop_table('sources')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_name_key_id')

    op.drop_table('people')
