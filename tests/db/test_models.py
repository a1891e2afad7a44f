"""db.models: the constraints the database itself enforces, on the backend under test.

Every failing statement runs inside ``session.begin_nested()`` so the test's own transaction
stays usable afterwards (PostgreSQL aborts a transaction after an error otherwise).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, insert, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable

from db import queries as q
from db.base import NAMING_CONVENTION, Base
from db.enums import CreditRole, SortDirection, WorkKind, WorkOrderField, WorkRelationType
from db.models import YEAR_MAX, YEAR_MIN, Credit, Person, Theme, Work, WorkRelation, WorkTheme
from db.text import sort_key
from tests.support.sql import query_plan


async def _id(session: AsyncSession, model: Any, slug: str) -> int:
    return int((await session.execute(select(model.id).where(model.slug == slug))).scalar_one())


def _work(slug: str, **overrides: Any) -> Work:
    values: dict[str, Any] = {"slug": slug, "title": slug.replace("-", " ").title()}
    values.setdefault("kind", WorkKind.FILM)
    values.update(overrides)
    return Work(**values)


async def _insert_work_sql(session: AsyncSession, slug: str, kind: str, year: int | None) -> None:
    await session.execute(
        text(
            "INSERT INTO works (slug, title, title_key, kind, year, search_text) "
            "VALUES (:slug, :title, :title_key, :kind, :year, '')"
        ),
        {"slug": slug, "title": slug, "title_key": slug, "kind": kind, "year": year},
    )


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(
        (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
    )


# -- unique ----------------------------------------------------------------------------------


async def test_two_works_with_the_same_slug_are_rejected(session: AsyncSession) -> None:
    session.add(_work("twin-film"))
    await session.flush()
    with pytest.raises(IntegrityError) as error:
        async with session.begin_nested():
            session.add(_work("twin-film", title="Another Film"))
            await session.flush()
    assert "slug" in str(error.value)
    # the outer transaction is still usable and holds only the first work
    assert await _count(session, Work, Work.slug == "twin-film") == 1


async def test_a_new_work_cannot_take_a_seeded_slug(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await _insert_work_sql(session, "sea-of-blood", "FILM", 1971)
    assert await _count(session, Work, Work.slug == "sea-of-blood") == 1


async def test_two_people_with_the_same_slug_are_rejected(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(Person(slug="choe-ik-kyu", name="Another Choe"))
            await session.flush()


# -- foreign keys ------------------------------------------------------------------------------


async def test_a_credit_for_a_missing_person_is_rejected(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    missing = int((await session.execute(select(func.max(Person.id)))).scalar_one()) + 1000
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                Credit(work_id=work_id, person_id=missing, role=CreditRole.ACTOR, position=99)
            )
            await session.flush()
    assert await _count(session, Credit, Credit.work_id == work_id) == 1


async def test_a_credit_for_a_missing_work_is_rejected(session: AsyncSession) -> None:
    person_id = await _id(session, Person, "choe-ik-kyu")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO credits (work_id, person_id, role, position) "
                    "VALUES (:work, :person, 'ACTOR', 0)"
                ),
                {"work": 987654, "person": person_id},
            )


async def test_a_credited_person_cannot_be_deleted(session: AsyncSession) -> None:
    person_id = await _id(session, Person, "kim-ki-nam")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(delete(Person).where(Person.id == person_id))
    assert await _count(session, Person, Person.id == person_id) == 1


async def test_deleting_a_work_cascades_to_its_credits(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "pulgasari")
    assert await _count(session, Credit, Credit.work_id == work_id) == 2
    await session.execute(delete(Work).where(Work.id == work_id))
    assert await _count(session, Credit, Credit.work_id == work_id) == 0


async def test_the_same_person_cannot_be_credited_twice_in_one_role(
    session: AsyncSession,
) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    person_id = await _id(session, Person, "kim-ki-nam")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                Credit(work_id=work_id, person_id=person_id, role=CreditRole.DIRECTOR, position=5)
            )
            await session.flush()


async def test_two_credits_cannot_share_a_billing_position(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    person_id = await _id(session, Person, "choe-ik-kyu")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                Credit(work_id=work_id, person_id=person_id, role=CreditRole.WRITER, position=0)
            )
            await session.flush()


# -- checks ------------------------------------------------------------------------------------


async def test_an_invalid_kind_is_rejected_by_the_database(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError) as error:
        async with session.begin_nested():
            await _insert_work_sql(session, "a-movie", "MOVIE", 1999)
    assert "ck_works_work_kind" in str(error.value)
    assert await _count(session, Work, Work.slug == "a-movie") == 0


async def test_a_lowercase_kind_is_rejected_by_the_database(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await _insert_work_sql(session, "a-film", "film", 1999)


async def test_every_work_kind_is_accepted_by_the_database(session: AsyncSession) -> None:
    for kind in WorkKind:
        await _insert_work_sql(session, f"kind-{kind.value.lower()}", kind.value, 2000)
    rows = await session.execute(select(Work.kind).where(Work.slug.like("kind-%")))
    assert sorted(rows.scalars()) == sorted(WorkKind)


async def test_an_invalid_credit_role_is_rejected_by_the_database(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    person_id = await _id(session, Person, "choe-ik-kyu")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO credits (work_id, person_id, role, position) "
                    "VALUES (:work, :person, 'STUNTMAN', 7)"
                ),
                {"work": work_id, "person": person_id},
            )


@pytest.mark.parametrize("year", [1800, YEAR_MIN - 1, YEAR_MAX + 1, 2200])
async def test_a_year_out_of_range_is_rejected_by_the_database(
    session: AsyncSession, year: int
) -> None:
    with pytest.raises(IntegrityError) as error:
        async with session.begin_nested():
            await _insert_work_sql(session, f"year-{year}", "FILM", year)
    assert "ck_works_year_range" in str(error.value)


@pytest.mark.parametrize("year", [YEAR_MIN, YEAR_MAX, None])
async def test_years_at_the_bounds_or_unknown_are_accepted(
    session: AsyncSession, year: int | None
) -> None:
    await _insert_work_sql(session, "edge-year", "FILM", year)
    stored = (await session.execute(select(Work.year).where(Work.slug == "edge-year"))).scalar_one()
    assert stored == year


async def test_the_orm_year_is_checked_too(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(_work("too-old", year=1800))
            await session.flush()


async def test_a_work_cannot_relate_to_itself(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    with pytest.raises(IntegrityError) as error:
        async with session.begin_nested():
            session.add(
                WorkRelation(
                    work_id=work_id,
                    related_work_id=work_id,
                    type=WorkRelationType.REMAKES,
                    position=0,
                )
            )
            await session.flush()
    assert "ck_work_relations_not_self" in str(error.value)
    other = await _id(session, Work, "the-flower-girl")
    session.add(
        WorkRelation(
            work_id=work_id, related_work_id=other, type=WorkRelationType.REMAKES, position=0
        )
    )
    await session.flush()
    assert await _count(session, WorkRelation, WorkRelation.work_id == work_id) == 1


async def test_a_relation_to_a_missing_work_is_rejected(session: AsyncSession) -> None:
    work_id = await _id(session, Work, "sea-of-blood")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                WorkRelation(
                    work_id=work_id,
                    related_work_id=987654,
                    type=WorkRelationType.EXTENDS,
                    position=0,
                )
            )
            await session.flush()


async def test_a_null_title_is_rejected(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO works (slug, title, title_key, kind, search_text) "
                    "VALUES ('untitled', NULL, '', 'FILM', '')"
                )
            )


# -- ORM behaviour -----------------------------------------------------------------------------


async def test_unloaded_relationships_raise_instead_of_lazy_loading(session: AsyncSession) -> None:
    work = await session.get(Work, await _id(session, Work, "pulgasari"))
    assert work is not None
    with pytest.raises(InvalidRequestError):
        _ = work.alternative_titles
    person = await session.get(Person, await _id(session, Person, "shin-sang-ok"))
    assert person is not None
    with pytest.raises(InvalidRequestError):
        _ = person.alternative_names
    credit = (
        await session.execute(select(Credit).where(Credit.work_id == work.id).limit(1))
    ).scalar_one()
    with pytest.raises(InvalidRequestError):
        _ = credit.person
    with pytest.raises(InvalidRequestError):
        _ = credit.work


def test_every_relationship_is_lazy_raise() -> None:
    relationships = [
        (mapper.class_.__name__, rel.key, rel.lazy)
        for mapper in Base.registry.mappers
        for rel in mapper.relationships
    ]
    assert relationships
    assert all(lazy == "raise" for _, _, lazy in relationships), relationships


def test_setting_a_title_or_name_sets_its_sort_key() -> None:
    work = Work(slug="x", title="  The   ŎRINI  ", kind=WorkKind.FILM)
    assert work.title_key == sort_key("  The   ŎRINI  ") == "the orini"
    person = Person(slug="y", name="Ch'oe Ik-kyu")
    assert person.name_key == "ch'oe ik-kyu"


async def test_the_orm_rejects_an_invalid_kind_before_the_database(session: AsyncSession) -> None:
    with pytest.raises(StatementError) as error:
        async with session.begin_nested():
            session.add(_work("orm-movie", kind="MOVIE"))
            await session.flush()
    assert isinstance(error.value.orig, LookupError)
    assert not isinstance(error.value, IntegrityError)


# -- naming convention -------------------------------------------------------------------------


def test_metadata_has_a_naming_convention() -> None:
    convention = Base.metadata.naming_convention
    assert convention == NAMING_CONVENTION
    assert {"ix", "uq", "ck", "fk", "pk"} <= set(convention)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_rendered_ddl_names_constraints_by_convention(dialect: Any) -> None:
    works = str(CreateTable(Work.__table__).compile(dialect=dialect))
    assert "CONSTRAINT pk_works PRIMARY KEY (id)" in works
    assert "CONSTRAINT uq_works_slug UNIQUE (slug)" in works
    assert "CONSTRAINT ck_works_year_range CHECK" in works
    assert "CONSTRAINT ck_works_work_kind CHECK" in works
    credits = str(CreateTable(Credit.__table__).compile(dialect=dialect))
    assert "CONSTRAINT pk_credits PRIMARY KEY (work_id, person_id, role)" in credits
    assert "CONSTRAINT fk_credits_person_id_people FOREIGN KEY" in credits
    assert "CONSTRAINT fk_credits_work_id_works FOREIGN KEY" in credits
    relations = str(CreateTable(WorkRelation.__table__).compile(dialect=dialect))
    assert "CONSTRAINT ck_work_relations_not_self CHECK" in relations


async def test_database_constraint_names_follow_the_convention(session: AsyncSession) -> None:
    connection = await session.connection()

    def reflect(sync_connection: Any) -> dict[str, Any]:
        inspector = inspect(sync_connection)
        return {
            table: {
                "pk": inspector.get_pk_constraint(table)["name"],
                "uq": [c["name"] for c in inspector.get_unique_constraints(table)],
                "ck": [c["name"] for c in inspector.get_check_constraints(table)],
                "fk": [
                    (fk["name"], fk["constrained_columns"], fk["referred_table"])
                    for fk in inspector.get_foreign_keys(table)
                ],
            }
            for table in Base.metadata.tables
        }

    reflected = await connection.run_sync(reflect)
    assert set(reflected) == set(Base.metadata.tables)
    assert reflected["works"]["uq"] == ["uq_works_slug"]
    assert "ck_works_year_range" in reflected["works"]["ck"]
    assert "ck_work_relations_not_self" in reflected["work_relations"]["ck"]
    for table, found in reflected.items():
        assert found["pk"] == f"pk_{table}", table
        for name in found["uq"]:
            assert name.startswith(f"uq_{table}_"), (table, name)
        for name in found["ck"]:
            assert name.startswith(f"ck_{table}_"), (table, name)
        for name, columns, referred in found["fk"]:
            assert name == f"fk_{table}_{'_'.join(columns)}_{referred}", (table, name)


FILMOGRAPHY = q.credit_ordering(
    q.work_ordering(
        (q.WorkOrder(WorkOrderField.YEAR, SortDirection.ASC), q.WorkOrder(WorkOrderField.TITLE))
    )
)

COVERED_READS = [
    pytest.param(
        select(Credit.work_id).where(Credit.person_id == 1, Credit.role == CreditRole.DIRECTOR),
        "ix_credits_person_id_role_work_page",
        id="a person's works in a role",
    ),
    pytest.param(
        select(Credit.work_id)
        .where(Credit.person_id == 1, Credit.role == CreditRole.DIRECTOR)
        .order_by(*(k.ordering for k in FILMOGRAPHY.keys))
        .limit(10),
        "ix_credits_person_id_role_work_page",
        id="a page of a person's works in a role, in order",
    ),
    pytest.param(
        select(Credit.work_id, Credit.work_title, Credit.work_year, Credit.work_year_unknown)
        .where(Credit.person_id == 1, Credit.role == CreditRole.DIRECTOR)
        .order_by(*(k.ordering for k in FILMOGRAPHY.keys))
        .limit(10),
        "ix_credits_person_id_role_work_page",
        id="a page of a person's works in a role, with their titles and years",
    ),
    pytest.param(
        select(Credit.work_id)
        .where(Credit.person_id == 1)
        .group_by(*(k.expression for k in FILMOGRAPHY.keys))
        .order_by(*(k.ordering for k in FILMOGRAPHY.keys))
        .limit(20),
        "ix_credits_person_id_work_order",
        id="a page of a person's works in any role, each once, in order",
    ),
    pytest.param(
        select(WorkTheme.theme_id).where(WorkTheme.work_id == 1).order_by(WorkTheme.position),
        "ix_work_themes_work_id_position_theme_id",
        id="a work's themes in order",
    ),
]


@pytest.mark.parametrize(("statement", "index"), COVERED_READS)
async def test_nested_reads_come_from_covering_indexes(
    session: AsyncSession, statement: Any, index: str
) -> None:
    """The reads below every nested list (a director's works, a work's themes) need nothing
    from the table: on SQLite the plan says so (COVERING INDEX), on PostgreSQL an index-only
    scan of that index."""
    if session.get_bind().dialect.name == "sqlite":
        plan = await query_plan(session, statement)
        assert f"USING COVERING INDEX {index} " in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # any order asked for is the index's
    else:
        # Two indexes lead with the person (a role's order, any role's order), and the primary
        # key (work, person, role) covers a role's read too, scanned whole. Between them
        # PostgreSQL chooses by statistics, and in the suite's small catalog (a person with a
        # few credits, the seed's statistics, other tests' dead rows) their costs come close,
        # so the choice varied from run to run. What is checked here is that each index
        # serves its read alone, in order: for a role's page the other two are dropped (in
        # the test's transaction, rolled back); for the any-role page the tables are analyzed.
        if index == "ix_credits_person_id_role_work_page":
            await session.execute(text("DROP INDEX ix_credits_person_id_work_order"))
            await session.execute(text("ALTER TABLE credits DROP CONSTRAINT pk_credits CASCADE"))
        else:
            await session.execute(text("ANALYZE credits, work_themes"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = await query_plan(session, statement)
        assert f"Index Only Scan using {index} " in plan, plan
        assert "Sort Key" not in plan, plan


async def _copied_keys(session: AsyncSession, work_id: int) -> set[tuple[int, int, str]]:
    rows = await session.execute(
        select(Credit.work_year_unknown, Credit.work_year, Credit.work_title_key).where(
            Credit.work_id == work_id
        )
    )
    return {tuple(row) for row in rows}  # type: ignore[misc]


async def test_credits_carry_their_works_sort_keys(session: AsyncSession) -> None:
    """The database's triggers (migration 0008) copy a work's sort keys onto its credits when
    a credit is written and whenever the work's year or title changes, whoever writes."""
    work = Work(slug="copied-keys", title="Öther Title", kind=WorkKind.FILM, year=1971)
    people = [Person(slug=f"copied-keys-{i}", name=f"Copied {i}") for i in range(2)]
    session.add_all([work, *people])
    await session.flush()
    session.add(
        Credit(work_id=work.id, person_id=people[0].id, role=CreditRole.DIRECTOR, position=0)
    )
    await session.flush()
    # a Core insert, as the benchmark's bulk loader writes
    await session.execute(
        Credit.__table__.insert(),
        [{"work_id": work.id, "person_id": people[1].id, "role": CreditRole.WRITER, "position": 1}],
    )
    assert await _copied_keys(session, work.id) == {(0, 1971, sort_key("Öther Title"))}

    work.title = "Another Title"
    await session.flush()
    assert await _copied_keys(session, work.id) == {(0, 1971, sort_key("Another Title"))}

    work.year = None
    await session.flush()
    assert await _copied_keys(session, work.id) == {(1, 0, sort_key("Another Title"))}

    await session.execute(text("UPDATE works SET year = 1960 WHERE id = :id"), {"id": work.id})
    assert await _copied_keys(session, work.id) == {(0, 1960, sort_key("Another Title"))}


async def test_a_credit_of_a_missing_work_is_still_refused_by_its_foreign_key(
    session: AsyncSession,
) -> None:
    person = Person(slug="no-such-work", name="No Such Work")
    session.add(person)
    await session.flush()
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        async with session.begin_nested():
            await session.execute(
                Credit.__table__.insert(),
                [
                    {
                        "work_id": 10**9,
                        "person_id": person.id,
                        "role": CreditRole.DIRECTOR,
                        "position": 0,
                    }
                ],
            )


async def _copied_slugs(session: AsyncSession, work_id: int) -> set[str]:
    rows = await session.execute(select(WorkTheme.theme_slug).where(WorkTheme.work_id == work_id))
    return set(rows.scalars())


async def test_work_themes_carry_their_themes_slugs(session: AsyncSession) -> None:
    """The database's triggers (migration 0009) copy a theme's slug onto its tags when a tag
    is written and whenever the theme's slug changes, whoever writes."""
    work = _work("copied-slugs")
    themes = [Theme(slug=f"copied-slug-{i}", name=f"Copied Slug {i}") for i in range(3)]
    session.add_all([work, *themes])
    await session.flush()
    session.add(WorkTheme(work_id=work.id, theme_id=themes[0].id, position=0))
    await session.flush()
    # a Core insert, as the benchmark's bulk loader and the catalog import write
    await session.execute(
        WorkTheme.__table__.insert(),
        [{"work_id": work.id, "theme_id": themes[1].id, "position": 1}],
    )
    assert await _copied_slugs(session, work.id) == {"copied-slug-0", "copied-slug-1"}

    themes[0].slug = "renamed-slug-0"
    await session.flush()
    assert await _copied_slugs(session, work.id) == {"renamed-slug-0", "copied-slug-1"}

    await session.execute(
        text("UPDATE themes SET slug = 'renamed-slug-1' WHERE id = :id"), {"id": themes[1].id}
    )
    assert await _copied_slugs(session, work.id) == {"renamed-slug-0", "renamed-slug-1"}

    await session.execute(
        text("UPDATE work_themes SET theme_id = :new WHERE work_id = :work AND theme_id = :old"),
        {"new": themes[2].id, "work": work.id, "old": themes[1].id},
    )
    assert await _copied_slugs(session, work.id) == {"renamed-slug-0", "copied-slug-2"}


async def test_a_tag_of_a_missing_theme_is_still_refused_by_its_foreign_key(
    session: AsyncSession,
) -> None:
    work = _work("no-such-theme")
    session.add(work)
    await session.flush()
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        async with session.begin_nested():
            await session.execute(
                WorkTheme.__table__.insert(),
                [{"work_id": work.id, "theme_id": 10**9, "position": 0}],
            )


TAGGED_WORKS = 2000


async def _tagged_page_plan(session: AsyncSession, slug: str) -> str:
    page = (
        select(Work.id)
        .where(*q.work_conditions(q.WorkFilter(themes=(slug,))))
        .order_by(Work.title_key, Work.id)
        .limit(50)
    )
    compiled = page.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    rows = await session.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(r[0] for r in rows)


async def test_a_page_of_works_by_theme_is_planned_for_how_common_the_theme_is(
    session: AsyncSession,
) -> None:
    """PostgreSQL knows how common each theme is (its slug is on the tags, migration 0009): a
    page of a theme that tags every work walks the title index until the page is full; a page
    of a theme that tags three reads those three and sorts them. Before, both collected and
    sorted every match, as for a theme of average size."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite (built without STAT4) keeps no per-value statistics")
    common, rare = Theme(slug="plan-common", name="Common"), Theme(slug="plan-rare", name="Rare")
    session.add_all([common, rare])
    await session.flush()
    works = [
        {"slug": f"plan-{i}", "title": f"Plan {i:05}", "title_key": f"plan {i:05}", "kind": "FILM"}
        for i in range(TAGGED_WORKS)
    ]
    ids = (await session.execute(Work.__table__.insert().returning(Work.id), works)).scalars().all()
    tags = [{"work_id": i, "theme_id": common.id, "position": 0} for i in ids]
    tags += [{"work_id": i, "theme_id": rare.id, "position": 1} for i in ids[:3]]
    await session.execute(WorkTheme.__table__.insert(), tags)
    await session.execute(text("ANALYZE works"))
    await session.execute(text("ANALYZE work_themes"))

    common_plan = await _tagged_page_plan(session, "plan-common")
    assert "ix_works_title_key_id" in common_plan, common_plan
    assert "Sort" not in common_plan, common_plan

    rare_plan = await _tagged_page_plan(session, "plan-rare")
    assert "ix_work_themes_theme_slug_work_id" in rare_plan, rare_plan
    assert "ix_works_title_key_id" not in rare_plan, rare_plan


async def _tag_array(session: AsyncSession, work_id: int) -> list[int]:
    """The work's ``theme_ids`` (migration 0010) as theme ids in position order."""
    stored = (await session.execute(select(Work.theme_ids).where(Work.id == work_id))).scalar_one()
    positions = [position for position, _ in stored]
    assert len(set(positions)) == len(positions), stored
    return [theme_id for _, theme_id in sorted(stored)]


async def _tags(session: AsyncSession, work_id: int) -> list[int]:
    rows = await session.execute(
        select(WorkTheme.theme_id).where(WorkTheme.work_id == work_id).order_by(WorkTheme.position)
    )
    return list(rows.scalars())


async def test_works_carry_their_theme_tags(session: AsyncSession) -> None:
    """The database's triggers (migration 0010) keep ``works.theme_ids`` equal to the work's
    tags after every statement that writes them, whoever writes: the ORM, a multi-row Core
    insert (as the catalog import writes), plain SQL updates and deletes, a work's deletion."""
    works = [_work(f"tag-array-{i}") for i in range(2)]
    themes = [Theme(slug=f"tag-array-{i}", name=f"Tag Array {i}") for i in range(4)]
    session.add_all([*works, *themes])
    await session.flush()
    first, second = (w.id for w in works)
    t = [theme.id for theme in themes]
    assert await _tag_array(session, first) == []

    session.add(WorkTheme(work_id=first, theme_id=t[2], position=0))
    await session.flush()
    assert await _tag_array(session, first) == [t[2]]

    # one statement for two works' tags
    await session.execute(
        insert(WorkTheme).returning(WorkTheme.work_id),
        [
            {"work_id": first, "theme_id": t[0], "position": 1},
            {"work_id": first, "theme_id": t[1], "position": 2},
            {"work_id": second, "theme_id": t[3], "position": 0},
            {"work_id": second, "theme_id": t[0], "position": 1},
        ],
    )
    assert await _tag_array(session, first) == [t[2], t[0], t[1]]
    assert await _tag_array(session, second) == [t[3], t[0]]

    # reordered, retagged, untagged by hand
    await session.execute(
        text("UPDATE work_themes SET position = 5 - position WHERE work_id = :id"), {"id": first}
    )
    assert await _tag_array(session, first) == [t[1], t[0], t[2]]
    await session.execute(
        text("UPDATE work_themes SET theme_id = :new WHERE work_id = :id AND theme_id = :old"),
        {"new": t[3], "id": first, "old": t[0]},
    )
    assert await _tag_array(session, first) == [t[1], t[3], t[2]]
    await session.execute(delete(WorkTheme).where(WorkTheme.theme_id == t[1]))
    assert await _tag_array(session, first) == [t[3], t[2]]
    assert await _tag_array(session, second) == [t[3], t[0]]

    # a tag moved from one work to the other changes both
    await session.execute(
        text(
            "UPDATE work_themes SET work_id = :to, position = 9 "
            "WHERE work_id = :id AND theme_id = :t"
        ),
        {"to": second, "id": first, "t": t[2]},
    )
    assert await _tag_array(session, first) == [t[3]]
    assert await _tag_array(session, second) == [t[3], t[0], t[2]]
    for work_id in (first, second):
        assert await _tag_array(session, work_id) == await _tags(session, work_id)

    await session.execute(delete(WorkTheme).where(WorkTheme.work_id == second))
    assert await _tag_array(session, second) == []
    await session.execute(delete(Work).where(Work.id == first))  # cascades to its tags
    assert await _count(session, Work, Work.id == first) == 0


async def test_a_stored_tag_array_is_corrected_by_the_next_write_of_its_tags(
    session: AsyncSession,
) -> None:
    """A bulk writer may store the array with the work to spare the rewrite (the loaders
    do); the tags it writes decide, whatever was stored."""
    themes = [Theme(slug=f"stored-array-{i}", name=f"Stored Array {i}") for i in range(2)]
    session.add_all(themes)
    await session.flush()
    t = [theme.id for theme in themes]
    await session.execute(
        insert(Work),
        [
            {
                "slug": "stored-array",
                "title": "Stored Array",
                "title_key": "stored array",
                "kind": WorkKind.FILM,
                "theme_ids": [[0, t[1]], [1, t[0]], [2, 10**6]],
            }
        ],
    )
    work_id = await _id(session, Work, "stored-array")
    await session.execute(
        insert(WorkTheme).returning(WorkTheme.work_id),
        [
            {"work_id": work_id, "theme_id": t[0], "position": 0},
            {"work_id": work_id, "theme_id": t[1], "position": 1},
        ],
    )
    assert await _tag_array(session, work_id) == [t[0], t[1]]


async def test_a_truncated_tag_table_empties_every_tag_array(session: AsyncSession) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no TRUNCATE")
    assert await _count(session, Work, Work.theme_ids != []) > 0  # the seeded catalog's tags
    await session.execute(text("TRUNCATE work_themes"))
    assert await _count(session, Work, Work.theme_ids != []) == 0
    # and so are the copies on the works' credits (migration 0011)
    assert await _count(session, Credit, Credit.work_theme_ids != []) == 0


async def _credit_copies(session: AsyncSession, work_id: int) -> set[tuple[str, tuple[int, ...]]]:
    """What the work's credits carry of it (migration 0011): title and tags in order."""
    rows = await session.execute(
        select(Credit.work_title, Credit.work_theme_ids).where(Credit.work_id == work_id)
    )
    return {(title, tuple(t for _, t in sorted(tags))) for title, tags in rows}


async def _stale_credit_copies(session: AsyncSession) -> int:
    """Credits anywhere whose copies differ from their work's row."""
    w = Work.__table__
    c = Credit.__table__
    statement = (
        select(func.count())
        .select_from(c.join(w, w.c.id == c.c.work_id))
        .where((c.c.work_title != w.c.title) | (c.c.work_theme_ids != w.c.theme_ids))
    )
    return int((await session.execute(statement)).scalar_one())


async def test_credits_carry_their_works_title_and_tags(session: AsyncSession) -> None:
    """The database's triggers (migration 0011) copy a work's title and ``theme_ids`` onto
    its credits when a credit is written or moved, and whenever the work's title or tags
    change, whoever writes: the ORM, Core inserts, plain SQL."""
    assert await _stale_credit_copies(session) == 0  # the seeded catalog, as imported
    works = [_work(f"credit-copies-{i}") for i in range(2)]
    people = [Person(slug=f"credit-copies-{i}", name=f"Credit Copies {i}") for i in range(2)]
    themes = [Theme(slug=f"credit-copies-{i}", name=f"Credit Copies {i}") for i in range(3)]
    session.add_all([*works, *people, *themes])
    await session.flush()
    first, second = (w.id for w in works)
    t = [theme.id for theme in themes]
    session.add(WorkTheme(work_id=first, theme_id=t[2], position=0))
    await session.flush()

    session.add(Credit(work_id=first, person_id=people[0].id, role=CreditRole.DIRECTOR, position=0))
    await session.flush()
    await session.execute(
        Credit.__table__.insert(),
        [{"work_id": first, "person_id": people[1].id, "role": CreditRole.WRITER, "position": 1}],
    )
    title = works[0].title
    assert await _credit_copies(session, first) == {(title, (t[2],))}

    # the work's tags change: its row's array (0010), then its credits
    await session.execute(
        insert(WorkTheme).returning(WorkTheme.work_id),
        [
            {"work_id": first, "theme_id": t[0], "position": 1},
            {"work_id": first, "theme_id": t[1], "position": 2},
        ],
    )
    assert await _credit_copies(session, first) == {(title, (t[2], t[0], t[1]))}
    await session.execute(delete(WorkTheme).where(WorkTheme.theme_id == t[2]))
    assert await _credit_copies(session, first) == {(title, (t[0], t[1]))}

    works[0].title = "Renamed Copies"
    await session.flush()
    assert await _credit_copies(session, first) == {("Renamed Copies", (t[0], t[1]))}
    await session.execute(
        text("UPDATE works SET title = 'By Hand', title_key = 'by hand' WHERE id = :id"),
        {"id": first},
    )
    assert await _credit_copies(session, first) == {("By Hand", (t[0], t[1]))}

    # a credit moved to another work takes that work's copies
    await session.execute(
        text("UPDATE credits SET work_id = :to WHERE work_id = :id AND role = 'WRITER'"),
        {"to": second, "id": first},
    )
    assert await _credit_copies(session, second) == {(works[1].title, ())}
    assert await _stale_credit_copies(session) == 0
