"""What the authenticated fuzzers need to write: the catalog's current state (so that inputs
name records that exist, at the version they are at), mostly-valid mutation inputs with
hostile variants, the coverage of the Mutation fields, and the integrity checks run on the
database after the fuzzing (nothing half-written).

Inputs are generated from the state read just before each example: a work and its current
``version``, a person it credits or does not, a theme it is tagged with or not, a dispute by
its index, a source key that exists. Most of them apply; a hostile variant changes one value
of an otherwise valid input to something a client may send and no server should choke on
(NUL, lone surrogates, zero-width-only or over-long text, folding-growing letters, 40,000-item
lists, integers past 32 bits, CR/LF in a URL, ...).

The integrity checks (``integrity_problems``) hold the database to what ``db.curation`` says
every write does: each applied write is one ``changes`` row and one bump of the catalog
version, and nothing else is; the rows of one record chain (each ``before`` is the previous
``after``, versions go up by one) and the last ``after`` is the record as stored; derived
columns (sort keys, search documents, the trigger-kept copies) agree with what they derive
from; no row points at nothing; positions a client sees (billing order, a dispute's index)
run 0, 1, 2 … without gaps or twins.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import graphql
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from db import models as m
from db.curation.links import DISPUTE_FIELDS
from db.curation.names import PERSON, THEME
from db.curation.names import snapshot as named_snapshot
from db.curation.works import snapshot
from db.enums import CreditRole, Qualifier, TitleKind, WorkKind, WorkRelationType
from db.search_documents import person_document, searchable_forms, theme_document, work_document
from db.text import sort_key
from gql.schema import schema as strawberry_schema

SCHEMA = graphql.build_schema(strawberry_schema.as_str())
assert SCHEMA.mutation_type is not None
MUTATION_FIELDS: tuple[str, ...] = tuple(SCHEMA.mutation_type.fields)

ROLES = tuple(r.name for r in CreditRole)
KINDS = tuple(k.name for k in WorkKind)
RELATIONS = tuple(t.name for t in WorkRelationType)
ENUM_KEYS = frozenset({"kind", "role", "type"})

# -- the state ---------------------------------------------------------------------------------


@dataclass
class WorkState:
    slug: str
    version: int
    credits: list[tuple[str, str]] = field(default_factory=list)  # (person, ROLE) billed order
    themes: list[str] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)  # (TYPE, other work)
    disputes: int = 0
    referenced: bool = False  # another work relates to it: deleting it is REFERENCED


@dataclass
class NamedState:
    slug: str
    version: int
    used: bool  # a person with credits, a theme tagging works: deleting it is REFERENCED


@dataclass
class State:
    works: list[WorkState]
    people: list[NamedState]
    themes: list[NamedState]
    sources: list[str]


async def read_state(session: AsyncSession) -> State:
    works = {
        wid: WorkState(slug, version)
        for wid, slug, version in await session.execute(
            select(m.Work.id, m.Work.slug, m.Work.version).order_by(m.Work.id)
        )
    }
    for wid, person, role in await session.execute(
        select(m.Credit.work_id, m.Person.slug, m.Credit.role)
        .join(m.Person, m.Person.id == m.Credit.person_id)
        .order_by(m.Credit.work_id, m.Credit.position)
    ):
        works[wid].credits.append((person, role.name))
    for wid, theme in await session.execute(
        select(m.WorkTheme.work_id, m.Theme.slug)
        .join(m.Theme, m.Theme.id == m.WorkTheme.theme_id)
        .order_by(m.WorkTheme.work_id, m.WorkTheme.position)
    ):
        works[wid].themes.append(theme)
    for wid, other, kind in await session.execute(
        select(m.WorkRelation.work_id, m.WorkRelation.related_work_id, m.WorkRelation.type)
    ):
        works[wid].related.append((kind.name, works[other].slug))
        works[other].referenced = True
    for wid, count in await session.execute(
        text("SELECT work_id, count(*) FROM disputes GROUP BY work_id")
    ):
        works[wid].disputes = int(count)
    credited = set(await session.scalars(select(m.Credit.person_id).distinct()))
    tagging = set(await session.scalars(select(m.WorkTheme.theme_id).distinct()))
    people = [
        NamedState(slug, version, pid in credited)
        for pid, slug, version in await session.execute(
            select(m.Person.id, m.Person.slug, m.Person.version).order_by(m.Person.id)
        )
    ]
    themes = [
        NamedState(slug, version, tid in tagging)
        for tid, slug, version in await session.execute(
            select(m.Theme.id, m.Theme.slug, m.Theme.version).order_by(m.Theme.id)
        )
    ]
    sources = list(await session.scalars(select(m.Source.key).order_by(m.Source.id)))
    return State(list(works.values()), people, themes, sources)


# -- values --------------------------------------------------------------------------------------

#: Text a client may send that no server should fault on (one value each).
HOSTILE_TEXT = (
    "\x00",
    "a\x00b",
    "\ud800",  # lone surrogates: JSON can spell them, UTF-8 cannot carry them
    "a\udc00b",
    "\udfff\ud800",
    "\u200b",  # zero-width only
    "\u200b\u200c\u200d\u2060\ufeff",
    " \t\n ",
    "\x07\x1b[31m",
    "\u202egnp.exe",
    "e\u0301" * 300,  # 600 code points, 300 after NFC
    "ß" * 300,  # case folding doubles it
    "ﬃ" * 200,  # folding triples it
    "İ" * 260,
    "a" * 201,  # a generated slug past the column
    "a" * 501,
    "b " * 15_000,
    "x" * 120_000,
    "🎬" * 260,
    "\U0010ffff\ufdd0\ufffe",
    "' OR 1=1 --",
    "%_\\",
    "../../etc/passwd",
    " a/b c ",
    "https://example.org/\r\nX-Injected: 1",
    "javascript:alert(1)",
    "http://" + "a" * 2100,
    "Work:1",
    "-",
    "--",
    "a--b",
    "UPPER-Case",
)
HOSTILE_INTS = (
    -1,
    0,
    2**31 - 1,
    -(2**31),
    2**31,  # past Int: BAD_USER_INPUT from coercion
    2**53 + 1,
    2**63,
    10**30,
    -(10**30),
)
HOSTILE_OTHER = (1.5, "1", True, None, [], {}, 1e308)
HUGE_LIST = 40_000
KEEP_WORKS = 12  # deleteWork mostly misses below this many works: later mutations need some
WORDS = (
    "Sea of Blood",
    "The Flower Girl",
    "Pulgasari",
    "피바다",
    "꽃파는 처녀",
    "Ch'oe Ik-kyu",
    "Kim Jong Il",
    "A Schoolgirl's Diary",
    "Order No. 027",
    "Hong Kil Dong",
    "Straße",
    "Ōtsuka",
)
_counter = iter(range(10**9))


def fresh(prefix: str) -> str:
    """A slug-like value no record has (the fuzz run's own)."""
    return f"{prefix}-fz{next(_counter)}"


class Chooser:
    """Random choices from a seed Hypothesis draws: the inputs depend on the catalog's state,
    which changes under every example, so they cannot be Hypothesis draws themselves (it
    replays choice sequences and would call that flaky); the seed keeps an example
    reproducible against the same state."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def chance(self, one_in: int) -> bool:
        return self.random.randrange(one_in) == 0

    def choice(self, items: Sequence[Any], default: Any = None) -> Any:
        return self.random.choice(items) if items else default

    def some(self, items: Sequence[str], most: int) -> list[str]:
        return self.random.sample(list(items), self.random.randint(0, min(most, len(items))))

    def text(self) -> str:
        how = self.random.randrange(4)
        if how == 0:
            return self.choice(WORDS)
        if how == 1:
            return f"{self.choice(WORDS)} {next(_counter)}"
        if how == 2:  # letters of any script, marks, symbols and spaces
            size = self.random.randint(1, 30)
            chars = [chr(self.random.randint(0x20, 0x2FFF)) for _ in range(size)]
            text = "".join(c for c in chars if c.isprintable()) or "x"
            return text
        return "".join(self.choice("abcdefghij ") for _ in range(self.random.randint(1, 12)))

    def maybe(self, data: dict[str, Any], key: str, value: Any) -> None:
        if self.random.random() < 0.5:
            data[key] = value


@dataclass
class Case:
    field: str
    input: dict[str, Any]
    hostile: str | None = None  # what was made hostile, for the tallies


def _work(r: Chooser, state: State, want: str = "") -> WorkState:
    """A work, preferably one with what the mutation needs (credits, themes, ...)."""
    if want == "unreferenced":
        candidates = [w for w in state.works if not w.referenced]
    else:
        candidates = [w for w in state.works if not want or getattr(w, want)]
    if not candidates or r.chance(10):
        candidates = state.works
    return r.choice(candidates) or WorkState(fresh("work"), 1)


def _version(r: Chooser, version: int) -> int:
    """The version read: current nine times in ten, else stale or ahead (CONFLICT)."""
    return r.choice([version - 1, version + 1, 1, 0]) if r.chance(10) else version


def _slug(r: Chooser, record: Any, kind: str) -> str:
    if r.chance(20):
        return str(r.choice([fresh(kind), "", "no-such-" + kind]))
    return str(record.slug)


def _work_target(r: Chooser, state: State, want: str = "") -> tuple[WorkState, dict[str, Any]]:
    work = _work(r, state, want)
    return work, {"slug": _slug(r, work, "work"), "version": _version(r, work.version)}


def valid_case(name: str, state: State, seed: int) -> Case:
    """An input for Mutation.<name> that applies as far as the state read allows."""
    r = Chooser(seed)
    people = [p.slug for p in state.people]
    themes = [t.slug for t in state.themes]
    data: dict[str, Any] = {}
    if name in ("createWork", "updateWork"):
        if name == "createWork":
            data = {"title": r.text(), "kind": r.choice(KINDS)}
            if r.chance(5):
                data["slug"] = r.choice([fresh("work"), *[w.slug for w in state.works]])
        else:
            _, data = _work_target(r, state)
            r.maybe(data, "title", r.text())
            r.maybe(data, "kind", r.choice(KINDS))
        year = None if name == "updateWork" and r.chance(4) else r.random.randint(1888, 2100)
        r.maybe(data, "year", year)
        r.maybe(data, "synopsis", r.text())
        r.maybe(data, "originalTitle", r.text())
        r.maybe(data, "directors", r.some(people, 3))
        r.maybe(data, "themes", r.some(themes, 3))
        r.maybe(data, "source", r.choice(state.sources))
    elif name == "deleteWork":
        _, data = _work_target(r, state, "unreferenced")
        if len(state.works) <= KEEP_WORKS and not r.chance(5):  # keep works for the others
            data["slug"] = fresh("work")
    elif name in ("createPerson", "createTheme"):
        data = {"name": r.text()}
        if name == "createPerson":
            r.maybe(data, "originalName", r.text())
            r.maybe(data, "biography", r.text())
            r.maybe(data, "source", r.choice(state.sources))
        else:
            r.maybe(data, "description", r.text())
        if r.chance(5):
            data["slug"] = fresh("named")
    elif name in ("updatePerson", "updateTheme", "deletePerson", "deleteTheme"):
        records = state.people if name.endswith("Person") else state.themes
        unused = [x for x in records if not x.used]
        if name.startswith("delete") and unused and not r.chance(10):
            records = unused
        record = r.choice(records) or NamedState(fresh("named"), 1, False)
        data = {"slug": _slug(r, record, "named"), "version": _version(r, record.version)}
        if name == "updatePerson":
            r.maybe(data, "name", r.text())
            r.maybe(data, "originalName", r.text())
            r.maybe(data, "biography", r.text())
            r.maybe(data, "source", r.choice(state.sources))
        elif name == "updateTheme":
            r.maybe(data, "name", r.text())
            r.maybe(data, "description", r.text())
    elif name in ("addCredit", "removeCredit"):
        work, data = _work_target(r, state, "credits" if name == "removeCredit" else "")
        if name == "removeCredit" and work.credits and not r.chance(10):
            data["person"], data["role"] = r.choice(work.credits)
        else:
            data["person"] = r.choice(people, fresh("person"))
            data["role"] = r.choice(ROLES)
            if name == "addCredit":
                r.maybe(data, "source", r.choice(state.sources))
    elif name == "reorderCredits":
        work, data = _work_target(r, state, "credits")
        billed = [{"person": p, "role": role} for p, role in work.credits]
        order = list(billed)
        r.random.shuffle(order)
        if order == billed and len(order) > 1:  # the order it has writes nothing: move one
            order = order[1:] + order[:1]
        if r.chance(10):  # one credit left out, or one that is not the work's
            order = order[1:] or [{"person": r.choice(people, "x"), "role": "OTHER"}]
        data["order"] = order
    elif name in ("tagWork", "untagWork"):
        work, data = _work_target(r, state, "themes" if name == "untagWork" else "")
        wanted = work.themes if name == "untagWork" else [t for t in themes if t not in work.themes]
        data["theme"] = (
            r.choice(wanted) if wanted and not r.chance(10) else r.choice(themes, fresh("theme"))
        )
    elif name in ("relateWorks", "unrelateWorks"):
        work, data = _work_target(r, state, "related" if name == "unrelateWorks" else "")
        if name == "unrelateWorks" and work.related and not r.chance(10):
            data["type"], data["work"] = r.choice(work.related)
        else:
            data["type"] = r.choice(RELATIONS)
            data["work"] = r.choice([w.slug for w in state.works], "x")
    elif name == "createSource":
        data = {"key": fresh("source"), "title": r.text()}
        r.maybe(data, "url", f"https://example.org/{next(_counter)}")
    elif name in ("addDispute", "removeDispute"):
        work, data = _work_target(r, state, "disputes" if name == "removeDispute" else "")
        if name == "addDispute":
            data["field"] = r.choice([*DISPUTE_FIELDS, "rating"])
            data["stated"] = r.text()
            data["reported"] = r.text()
            data["source"] = r.choice(state.sources, "none")
            r.maybe(data, "note", r.text())
        else:  # the dispute's index among the work's, as listed
            last = max(work.disputes - 1, 0)
            data["position"] = (
                r.choice([-1, last + 1]) if r.chance(10) else r.random.randint(0, last)
            )
    else:  # a Mutation field this generator does not know yet: the coverage test says so
        raise AssertionError(f"no input generator for Mutation.{name}")
    return Case(name, data)


_LIST_KEYS = ("directors", "themes", "order")


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def hostile_case(case: Case, seed: int) -> Case:
    """``case`` with one value replaced by something hostile (to be sent as variables)."""
    r = Chooser(seed)
    data = json.loads(json.dumps(case.input))  # a deep copy
    how = r.choice(["text", "text", "int", "list", "other"])
    lists = [k for k in _LIST_KEYS if k in data]
    if how == "list" and not lists and case.field in ("createWork", "updateWork"):
        lists = ["directors", "themes"]
    if how == "list" and lists:
        key = r.choice(lists)
        order = key == "order"
        kind = r.choice(["repeated", "distinct", "hostile items"])
        # items of one to three characters: 40,000 of them stay under the body limit
        if kind == "repeated":
            data[key] = [{"person": "a", "role": "OTHER"} if order else "a"] * HUGE_LIST
        elif kind == "distinct":
            data[key] = [
                {"person": _base36(i), "role": "OTHER"} if order else _base36(i)
                for i in range(HUGE_LIST)
            ]
        else:
            value = r.choice(HOSTILE_TEXT)
            data[key] = [{"person": value, "role": "OTHER"} if order else value] * 3
        return Case(case.field, data, f"{key}: {kind} list")
    numbers = [k for k in ("version", "year", "position") if k in data]
    if how == "int" and numbers:
        key = r.choice(numbers)
        data[key] = r.choice(HOSTILE_INTS)
        return Case(case.field, data, f"{key}: {data[key]!r}"[:60])
    key = r.choice(sorted(data))
    if how == "other":
        data[key] = r.choice(HOSTILE_OTHER)
        return Case(case.field, data, f"{key}: a {type(data[key]).__name__}")
    if key in ENUM_KEYS:
        data[key] = r.choice(["MOVIE", "film", "", "\x00"])
    elif isinstance(data[key], list) and data[key] and isinstance(data[key][0], str):
        data[key][r.random.randrange(len(data[key]))] = r.choice(HOSTILE_TEXT)
    else:
        data[key] = r.choice(HOSTILE_TEXT)
    return Case(case.field, data, f"{key}: text")


#: The sweep (``hostile_sweep``): what every string, integer and list of an input gets once.
SWEEP_TEXT = ("a\x00b", "\ud800", "\u200b\u200b", "ß" * 300, "a" * 201, "x" * 120_000)
SWEEP_INTS = (2**31, -1, 2**31 - 1)
SWEEP_LISTS: tuple[tuple[str, Any], ...] = (("40,000 items", "a"), ("a NUL item", "\x00"))


def hostile_sweep(case: Case) -> list[Case]:
    """``case`` once per (input value, hostile value): deterministic, so that every run
    sends each kind of hostile value to every input of every mutation."""
    cases = []
    for key, value in case.input.items():
        if isinstance(value, str) and key not in ENUM_KEYS:
            replacements: list[tuple[str, Any]] = [(repr(t[:8]), t) for t in SWEEP_TEXT]
        elif isinstance(value, int) and not isinstance(value, bool):
            replacements = [(repr(n), n) for n in SWEEP_INTS]
        elif isinstance(value, list):
            order = key == "order"
            replacements = [
                (
                    label,
                    [{"person": item, "role": "OTHER"} if order else item]
                    * (HUGE_LIST if label.startswith("40,000") else 1),
                )
                for label, item in SWEEP_LISTS
            ]
        else:
            continue
        for label, replacement in replacements:
            data = dict(case.input)
            data[key] = replacement
            cases.append(Case(case.field, data, f"{key}: {label}"))
    return cases


# -- documents -----------------------------------------------------------------------------------


def _input_type(name: str) -> str:
    assert SCHEMA.mutation_type is not None
    return str(SCHEMA.mutation_type.fields[name].args["input"].type)


_PAYLOADS = {
    "WorkPayload": "work { id slug version title kind year credits { person { slug } role "
    "position } themes { slug } related { type work { slug } } disputes { field } }",
    "DeleteWorkPayload": "deletedSlug",
    "DeletePayload": "deletedSlug",
    "PersonPayload": "person { id slug name version }",
    "ThemePayload": "theme { id slug name version }",
    "SourcePayload": "key",
}


def selection(name: str) -> str:
    assert SCHEMA.mutation_type is not None
    payload = graphql.get_named_type(SCHEMA.mutation_type.fields[name].type).name
    return _PAYLOADS[payload] + " userErrors { field code message }"


def _literal(value: Any, key: str = "") -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v, k)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, key) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str) and key in ENUM_KEYS and value.isidentifier():
        return value
    return json.dumps(value)


def _literal_safe(value: Any) -> bool:
    """Whether a literal of ``value`` keeps the document valid (no surrogate, Int in range)."""
    if isinstance(value, dict):
        return all(_literal_safe(v) for v in value.values())
    if isinstance(value, list):
        return len(value) < 1000 and all(_literal_safe(v) for v in value)
    if isinstance(value, str):
        return not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, bool) or value is None:
        return True
    return isinstance(value, int) and -(2**31) <= value < 2**31


def document(cases: Sequence[Case], *, literal: bool) -> tuple[str, dict[str, Any] | None]:
    """One mutation operation running ``cases`` in order (aliased ``m0``, ``m1`` ...)."""
    parts, definitions, variables = [], [], {}
    for index, case in enumerate(cases):
        if literal:
            argument = _literal(case.input)
        else:
            argument = f"$i{index}"
            definitions.append(f"$i{index}: {_input_type(case.field)}")
            variables[f"i{index}"] = case.input
        parts.append(f"m{index}: {case.field}(input: {argument}) {{ {selection(case.field)} }}")
    head = f"mutation Fuzz({', '.join(definitions)})" if definitions else "mutation Fuzz"
    return f"{head} {{ {' '.join(parts)} }}", (variables or None)


def literal_safe(cases: Sequence[Case]) -> bool:
    return all(_literal_safe(c.input) for c in cases)


# -- coverage ------------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Per Mutation field: how often it was sent with the admin token and applied; per
    operation of the audit trail: how many writes the responses say applied."""

    sent: Counter[str] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)
    anonymous: Counter[str] = field(default_factory=Counter)
    user_errors: Counter[str] = field(default_factory=Counter)
    hostile: Counter[str] = field(default_factory=Counter)
    #: responses whose outcome is unknown (no JSON): a write may or may not have happened
    unknown: int = 0


#: backend -> the coverage of its run, printed by tests/fuzz/conftest.py at the end
COVERAGE: dict[str, Coverage] = {}


def mutation_fields(
    query: str | None, operation_name: str | None = None
) -> list[tuple[str, str, graphql.FieldNode]]:
    """(response key, field name, node) of the root fields of the mutation a request would
    run."""
    if not isinstance(query, str):
        return []
    try:
        document_ = graphql.parse(query, max_tokens=100_000)
    except (graphql.GraphQLError, RecursionError):
        return []
    operations = [
        d for d in document_.definitions if isinstance(d, graphql.OperationDefinitionNode)
    ]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != graphql.OperationType.MUTATION:
        return []
    found = []
    for selection_ in operations[0].selection_set.selections:
        if isinstance(selection_, graphql.FieldNode) and selection_.name.value in MUTATION_FIELDS:
            key = selection_.alias.value if selection_.alias else selection_.name.value
            found.append((key, selection_.name.value, selection_))
    return found


#: Updates that write nothing when every value given is the one stored (no new version, no
#: audit entry): one of these applied only if the version it answers is past the one it sent.
MAY_WRITE_NOTHING = frozenset({"updateWork", "updatePerson", "updateTheme", "reorderCredits"})


def sent_version(node: graphql.FieldNode, variables: dict[str, Any] | None) -> int | None:
    """The ``input.version`` a mutation field was sent with, as a literal or a variable."""
    for argument in node.arguments:
        if argument.name.value != "input":
            continue
        value = argument.value
        if isinstance(value, graphql.VariableNode):
            given = (variables or {}).get(value.name.value)
            version = given.get("version") if isinstance(given, dict) else None
            return version if isinstance(version, int) else None
        if isinstance(value, graphql.ObjectValueNode):
            for field_ in value.fields:
                if field_.name.value == "version" and isinstance(
                    field_.value, graphql.IntValueNode
                ):
                    return int(field_.value.value)
    return None


_MAIN_FIELDS = ("work", "person", "theme", "key", "deletedSlug")


def observe(
    coverage: Coverage,
    query: str | None,
    operation_name: str | None,
    body: Any,
    *,
    authenticated: bool,
    variables: dict[str, Any] | None = None,
) -> list[str]:
    """Count what a response says about the mutation fields it ran; the problems it shows (a
    mutation applied without a token, or without a top-level error refusing it)."""
    fields = mutation_fields(query, operation_name)
    if not fields:
        return []
    problems: list[str] = []
    if not isinstance(body, dict):
        coverage.unknown += 1
        return []
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    paths = [e["path"] for e in errors if isinstance(e, dict) and isinstance(e.get("path"), list)]
    refused = {path[0] for path in paths if len(path) == 1}  # the mutation itself failed
    partial = {path[0] for path in paths if len(path) > 1}  # it ran; reading its payload failed
    for key, name, node in fields:
        payload = data.get(key) if isinstance(data, dict) else None
        if authenticated:
            coverage.sent[name] += 1
        else:
            coverage.anonymous[name] += 1
        if not isinstance(payload, dict):
            if not authenticated and data and key not in refused:
                problems.append(f"{name} without a token: not refused")
            elif key not in refused and (key in partial or body.get("data") is None):
                # applied, or not: a payload nulled by an error below it, or by another
                # field's error reaching ``data``, does not say
                coverage.unknown += 1
            continue
        if not authenticated:
            problems.append(f"{name} ran without a token: {json.dumps(payload)[:300]}")
        user_errors = payload.get("userErrors")
        main = next((k for k in _MAIN_FIELDS if k in payload), None)
        if key in refused:
            continue
        if key in partial and main is not None and payload[main] is None:
            coverage.unknown += 1
            continue
        if isinstance(user_errors, list):
            applied = not user_errors and (main is None or payload[main] is not None)
            for error in user_errors:
                if isinstance(error, dict) and isinstance(error.get("code"), str):
                    coverage.user_errors[f"{name} {error.get('code')}"] += 1
        elif main is not None:
            applied = payload[main] is not None
        else:  # neither the outcome nor the errors selected: whether it applied is unknown
            coverage.unknown += 1
            continue
        if applied and name in MAY_WRITE_NOTHING:
            record = payload.get(main) if main is not None else None
            answered = record.get("version") if isinstance(record, dict) else None
            version = sent_version(node, variables)
            if not isinstance(answered, int) or version is None:
                coverage.unknown += 1  # a write, or a no-op: the response does not say
                continue
            applied = answered != version
        if applied:
            coverage.applied[name] += 1
    return problems


# -- integrity -----------------------------------------------------------------------------------

#: Operations of the audit trail that change an existing work (its version goes up by one).
WORK_CHANGES = frozenset(
    {
        "updateWork",
        "addCredit",
        "removeCredit",
        "reorderCredits",
        "tagWork",
        "untagWork",
        "relateWorks",
        "unrelateWorks",
        "addDispute",
        "removeDispute",
    }
)


@dataclass
class Baseline:
    """The catalog as seeded, before any fuzzing."""

    catalog_version: int
    records: dict[tuple[str, str], dict[str, Any]]  # (subject type, slug) -> snapshot
    sources: frozenset[str]


async def current_records(session: AsyncSession) -> dict[tuple[str, str], dict[str, Any]]:
    """Every work, person and theme as the audit trail records it."""
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for work in await session.scalars(select(m.Work).order_by(m.Work.id)):
        records[("work", work.slug)] = json.loads(json.dumps(await snapshot(session, work)))
    for kind in (PERSON, THEME):
        for row in await session.scalars(select(kind.entity).order_by(kind.entity.id)):
            records[(kind.subject, row.slug)] = named_snapshot(kind, row)
    return records


async def baseline(session: AsyncSession) -> Baseline:
    version = await session.scalar(select(m.CatalogState.version))
    sources = frozenset(await session.scalars(select(m.Source.key)))
    return Baseline(int(version or 0), await current_records(session), sources)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


async def audit_problems(
    session: AsyncSession, base: Baseline, applied: Counter[str], unknown: int
) -> list[str]:
    """The audit trail against the responses and against the records as stored."""
    problems: list[str] = []
    rows = (await session.execute(select(m.Change).order_by(m.Change.id))).scalars().all()
    audited = Counter(row.operation for row in rows)
    wrong = {
        op: (audited[op], applied[op])
        for op in sorted(set(audited) | set(applied))
        if audited[op] != applied[op]
    }
    # a response that did not show whether its write applied may account for one entry
    unexplained = sum(audited.values()) - sum(applied.values())
    if wrong and (unknown == 0 or any(a < b for a, b in wrong.values()) or unexplained > unknown):
        problems.append(
            f"the audit trail does not match the writes the responses say applied "
            f"(operation: (audited, applied)), {unknown} outcomes not shown: {wrong}"
        )
    version = await session.scalar(select(m.CatalogState.version))
    if int(version or 0) - base.catalog_version != len(rows):
        problems.append(
            f"the catalog version went from {base.catalog_version} to {version} over "
            f"{len(rows)} audited changes (one bump per change)"
        )
    chains: dict[tuple[str, str], list[m.Change]] = defaultdict(list)
    for row in rows:
        chains[(row.subject_type, row.subject_slug)].append(row)
    records = await current_records(session)
    sources = set(await session.scalars(select(m.Source.key)))
    for subject, chain in chains.items():
        if subject[0] == "source":
            for row in chain:
                if row.operation != "createSource" or subject[1] not in sources:
                    problems.append(f"{subject}: {row.operation} audited, source not stored")
            continue
        exists, last = subject in base.records, base.records.get(subject)
        for row in chain:
            before, after = _loads(row.before), _loads(row.after)
            where = f"{subject[0]} {subject[1]!r}, change {row.id} ({row.operation})"
            if row.operation.startswith("create"):
                if exists or before is not None or after is None:
                    problems.append(f"{where}: a create of a record that exists, or no after")
                exists = True
            else:
                if not exists:
                    problems.append(f"{where}: a change of a record that does not exist")
                elif before != last:
                    problems.append(
                        f"{where}: its before is not the previous after: "
                        f"{json.dumps(before, ensure_ascii=False)[:400]} != "
                        f"{json.dumps(last, ensure_ascii=False)[:400]}"
                    )
                if row.operation.startswith("delete"):
                    exists = after is not None
                    if after is not None:
                        problems.append(f"{where}: a delete with an after")
                elif (
                    isinstance(before, dict)
                    and isinstance(after, dict)
                    and after.get("version") != (before.get("version") or 0) + 1
                ):
                    problems.append(
                        f"{where}: version {before.get('version')} -> {after.get('version')}"
                    )
            last = after
        stored = records.get(subject)
        if exists != (stored is not None):
            problems.append(
                f"{subject}: the audit trail says it {'exists' if exists else 'is gone'}, "
                f"the database says {'it exists' if stored is not None else 'it is gone'}"
            )
        elif stored is not None and stored != last:
            problems.append(
                f"{subject}: stored {json.dumps(stored, ensure_ascii=False)[:600]} is not the "
                f"last audited {json.dumps(last, ensure_ascii=False)[:600]}"
            )
    for subject, stored in records.items():
        if subject not in chains and base.records.get(subject) != stored:
            problems.append(
                f"{subject}: changed or created without an audit entry: "
                f"{json.dumps(stored, ensure_ascii=False)[:600]}"
            )
    for subject in base.records:
        if subject not in chains and subject not in records:
            problems.append(f"{subject}: gone without an audit entry")
    created = {s for (t, s) in chains if t == "source"}
    for key in sources - base.sources - created:
        if not key.startswith("curator-"):
            problems.append(f"source {key!r} exists without an audit entry")
    return problems


# (description, SQL counting rows that break it); each must count 0
_ROW_CHECKS = (
    (
        "works.theme_ids differs from work_themes",
        None,  # checked in Python: JSON columns compare differently on the two databases
    ),
    (
        "a credit's copies of its work's sort keys differ from the work",
        "SELECT count(*) FROM credits c JOIN works w ON w.id = c.work_id WHERE "
        "c.work_title_key <> w.title_key OR c.work_title <> w.title OR "
        "c.work_year <> coalesce(w.year, 0) OR "
        "c.work_year_unknown <> CASE WHEN w.year IS NULL THEN 1 ELSE 0 END",
    ),
    *(
        (f"{table}: a kept facet count the live count does not find ({direction})", sql)
        for table, kept, live in (
            (
                "work_counts",
                "SELECT kind, year, works FROM work_counts",
                "SELECT kind, coalesce(year, 0), count(*) FROM works "
                "GROUP BY kind, coalesce(year, 0)",
            ),
            (
                "theme_work_counts",
                "SELECT theme_id, kind, decade, works FROM theme_work_counts",
                "SELECT t.theme_id, w.kind, coalesce(w.year / 10 * 10, 0), count(*) "
                "FROM work_themes t JOIN works w ON w.id = t.work_id "
                "GROUP BY t.theme_id, w.kind, coalesce(w.year / 10 * 10, 0)",
            ),
            (
                "theme_pair_counts",
                "SELECT theme_id, other_id, works FROM theme_pair_counts",
                "SELECT a.theme_id, b.theme_id, count(*) FROM work_themes a "
                "JOIN work_themes b ON b.work_id = a.work_id GROUP BY a.theme_id, b.theme_id",
            ),
        )
        for direction, sql in (
            ("kept, not live", f"SELECT count(*) FROM ({kept} EXCEPT {live}) d"),
            ("live, not kept", f"SELECT count(*) FROM ({live} EXCEPT {kept}) d"),
        )
    ),
    (
        "a tag's copy of its theme's slug differs from the theme",
        "SELECT count(*) FROM work_themes wt JOIN themes t ON t.id = wt.theme_id "
        "WHERE wt.theme_slug <> t.slug",
    ),
    *(
        (f"an orphan: {child} without its {parent}", sql)
        for child, parent, sql in (
            (
                "credit",
                "person",
                "SELECT count(*) FROM credits c LEFT JOIN people p ON p.id = c.person_id "
                "WHERE p.id IS NULL",
            ),
            (
                "credit",
                "work",
                "SELECT count(*) FROM credits c LEFT JOIN works w ON w.id = c.work_id "
                "WHERE w.id IS NULL",
            ),
            (
                "credit source",
                "credit",
                "SELECT count(*) FROM credit_sources s LEFT JOIN credits c ON "
                "c.work_id = s.work_id AND c.person_id = s.person_id AND c.role = s.role "
                "WHERE c.work_id IS NULL",
            ),
            (
                "tag",
                "theme or work",
                "SELECT count(*) FROM work_themes wt LEFT JOIN themes t ON t.id = wt.theme_id "
                "LEFT JOIN works w ON w.id = wt.work_id WHERE t.id IS NULL OR w.id IS NULL",
            ),
            (
                "relation",
                "works",
                "SELECT count(*) FROM work_relations r LEFT JOIN works a ON a.id = r.work_id "
                "LEFT JOIN works b ON b.id = r.related_work_id WHERE a.id IS NULL OR b.id IS NULL",
            ),
            (
                "dispute",
                "work or source",
                "SELECT count(*) FROM disputes d LEFT JOIN works w ON w.id = d.work_id "
                "LEFT JOIN sources s ON s.id = d.source_id WHERE w.id IS NULL OR s.id IS NULL",
            ),
            *(
                (
                    f"{table} row",
                    "record or source",
                    f"SELECT count(*) FROM {table} x LEFT JOIN {owner} o ON o.id = x.{column} "
                    f"LEFT JOIN sources s ON s.id = x.source_id "
                    f"WHERE o.id IS NULL OR s.id IS NULL",
                )
                for table, owner, column in (
                    ("work_sources", "works", "work_id"),
                    ("work_field_sources", "works", "work_id"),
                    ("person_sources", "people", "person_id"),
                    ("person_field_sources", "people", "person_id"),
                    ("credit_sources", "works", "work_id"),
                )
            ),
        )
    ),
    *(
        (
            f"{table}: two rows of one {owner} share a position",
            f"SELECT count(*) FROM (SELECT {owner}, position FROM {table} "
            f"GROUP BY {owner}, position HAVING count(*) > 1) twins",
        )
        for table, owner in (
            ("work_themes", "work_id"),
            ("work_relations", "work_id"),
            ("work_sources", "work_id"),
            ("person_sources", "person_id"),
        )
    ),
    *(
        (
            f"{table}: positions a client sees are not 0 … n-1 per work ({meaning})",
            f"SELECT count(*) FROM (SELECT work_id FROM {table} GROUP BY work_id "
            f"HAVING min(position) <> 0 OR max(position) <> count(*) - 1 "
            f"OR count(DISTINCT position) <> count(*)) gapped",
        )
        for table, meaning in (
            ("credits", "Credit.position: billing position from 0"),
            ("disputes", "removeDispute(position:) is the index among the work's disputes"),
        )
    ),
)


async def _overlong(session: AsyncSession) -> list[str]:
    """Values longer than their column: PostgreSQL refuses them, SQLite stores them (and the
    catalog import refuses them later)."""
    problems = []
    for table in m.Base.metadata.sorted_tables:
        for column in table.columns:
            length = getattr(column.type, "length", None)
            if isinstance(length, int):
                over = list(
                    await session.scalars(select(column).where(func.length(column) > length))
                )
                if over:
                    problems.append(
                        f"{table.name}.{column.name}: {len(over)} values over {length} "
                        f"(e.g. {over[0][:60]!r}…, {len(over[0])} characters)"
                    )
    return problems


async def row_problems(session: AsyncSession) -> list[str]:
    """Derived columns, orphans, positions, lengths."""
    problems: list[str] = await _overlong(session)
    for description, sql in _ROW_CHECKS:
        if sql is None:
            continue
        count = int(await session.scalar(text(sql)) or 0)
        if count:
            problems.append(f"{description}: {count} rows")
    tags: dict[int, list[list[int]]] = defaultdict(list)
    for work_id, position, theme_id in await session.execute(
        select(m.WorkTheme.work_id, m.WorkTheme.position, m.WorkTheme.theme_id)
    ):
        tags[work_id].append([position, theme_id])
    for work_id, slug, stored in await session.execute(
        select(m.Work.id, m.Work.slug, m.Work.theme_ids)
    ):
        if sorted(map(list, stored or [])) != sorted(tags.get(work_id, [])):
            problems.append(f"work {slug!r}: theme_ids {stored} but tags {tags.get(work_id)}")
    titles: dict[int, list[str]] = defaultdict(list)
    for work_id, title in await session.execute(
        select(m.WorkAlternativeTitle.work_id, m.WorkAlternativeTitle.title).order_by(
            m.WorkAlternativeTitle.work_id, m.WorkAlternativeTitle.position
        )
    ):
        titles[work_id].append(title)
    disputes: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for work_id, reported, note in await session.execute(
        select(m.Dispute.work_id, m.Dispute.reported, m.Dispute.note).order_by(
            m.Dispute.work_id, m.Dispute.position
        )
    ):
        disputes[work_id].append((reported, note))
    work_forms = await _forms(session, m.WorkTitle, m.WorkTitle.work_id)
    for work in await session.scalars(select(m.Work).options(undefer(m.Work.search_text))):
        document = work_document(
            work.title,
            work.original_title,
            titles[work.id],
            work.synopsis,
            disputes[work.id],
            work_forms[work.id],
        )
        _derived(problems, "work", work.slug, work.title_key, work.title, work.search_text,
                 document)  # fmt: skip
    names_of: dict[int, list[str]] = defaultdict(list)
    for person_id, name in await session.execute(
        select(m.PersonAlternativeName.person_id, m.PersonAlternativeName.name).order_by(
            m.PersonAlternativeName.person_id, m.PersonAlternativeName.position
        )
    ):
        names_of[person_id].append(name)
    person_forms = await _forms(session, m.PersonName, m.PersonName.person_id)
    for person in await session.scalars(select(m.Person).options(undefer(m.Person.search_text))):
        document = person_document(
            person.name,
            person.original_name,
            names_of[person.id],
            person.biography,
            person_forms[person.id],
        )
        _derived(problems, "person", person.slug, person.name_key, person.name,
                 person.search_text, document)  # fmt: skip
    for theme in await session.scalars(select(m.Theme).options(undefer(m.Theme.search_text))):
        _derived(problems, "theme", theme.slug, theme.name_key, theme.name, theme.search_text,
                 theme_document(theme.name))  # fmt: skip
    return problems


async def _forms(session: AsyncSession, table: Any, owner: Any) -> dict[int, list[str]]:
    """The searchable texts of each record's typed forms (``work_titles``, ``person_names``)."""
    rows: dict[int, list[tuple[str, TitleKind, Qualifier | None]]] = defaultdict(list)
    for owner_id, text_, kind, qualifier in await session.execute(
        select(owner, table.text, table.kind, table.qualifier).order_by(owner, table.position)
    ):
        rows[owner_id].append((text_, kind, qualifier))
    return defaultdict(list, {k: searchable_forms(v) for k, v in rows.items()})


def _derived(
    problems: list[str],
    what: str,
    slug: str,
    key: str,
    name: str,
    search_text: str,
    document: str,
) -> None:
    """A record's sort key and search document are what the catalog import makes of its
    names and prose (``db.search_documents``): a re-seeded catalog sorts and searches the same."""
    if key != sort_key(name):
        problems.append(f"{what} {slug!r}: sort key {key!r} is not sort_key({name!r})")
    if search_text != document:
        problems.append(
            f"{what} {slug!r}: search document {search_text[:200]!r} is not the one its names "
            f"and prose make ({document[:200]!r})"[:800]
        )
