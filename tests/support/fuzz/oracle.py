"""The fuzzers' oracle: what every response of /graphql must satisfy, whatever was sent.

``check()`` returns the list of the rules a response breaks (empty: it passes):

- the status is below 500, and a 4xx only where the request has a transport-level problem
  (the caller says which: an empty query, a body that is not a JSON object, a batch …);
  GraphQL errors come with 200;
- a GraphQL answer is a JSON object with ``data`` and/or ``errors``; every error has a string
  ``message`` and a string ``extensions.code`` from the documented set (README "Errors");
- no error is ``INTERNAL_SERVER_ERROR`` (an unexpected exception: a bug to report, not to hide)
  or ``SERVICE_UNAVAILABLE`` (the test database is up, so that is a misclassified error);
- nothing leaks: no stack trace, driver or SQL text, source path or database URL in an error
  or in a non-JSON body (a marker the request itself contains is not held against the echo);
- no non-null violation: graphql-core's "Cannot return null for non-nullable field" never
  appears, and ``data`` conforms to the operation: every key was selected, no null where the
  schema says non-null, lists are lists, scalars and enum values have their declared type;
- for a valid operation: no parse or validation error; only argument-value and limit codes.

Responses are tallied per suite (operations sent, oracle failures) for the summary line the
fuzz conftest prints at the end of the run.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    get_operation_ast,
    parse,
)

# -- error codes (README "Errors", SECURITY.md) ---------------------------------------------------

#: A client-side problem with an argument or variable value: expected for any generated values.
ARGUMENT_CODES = frozenset({"BAD_USER_INPUT", "PAGE_SIZE_EXCEEDED", "INVALID_CURSOR", "INVALID_ID"})
#: An operation over one of the service's limits: a valid operation may be refused by them.
LIMIT_CODES = frozenset(
    {
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_TOKENS",
        "QUERY_TOO_COSTLY",
        "DOCUMENT_TOO_LARGE",
        "TIMEOUT",
    }
)
#: The fuzzers send no token: mutations and the audit trail refuse them (gql/permissions.py).
AUTH_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN"})
#: The document itself is not a valid operation.
DOCUMENT_CODES = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})
#: Transport-level refusals (with a 4xx status).
TRANSPORT_CODES = frozenset(
    {
        "REQUEST_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "BAD_REQUEST",
        "METHOD_NOT_ALLOWED",
        "NOT_FOUND",
    }
)
#: Persisted queries (web/persisted.py): a hash the service does not know, one that is not the
#: document's, hashes turned off, or (trusted documents) a document not trusted.
PERSISTED_CODES = frozenset(
    {
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_HASH_MISMATCH",
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "PERSISTED_QUERY_REQUIRED",
    }
)
#: Documented, but never acceptable while fuzzing a healthy service.
FORBIDDEN_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
KNOWN_CODES = (
    ARGUMENT_CODES
    | LIMIT_CODES
    | AUTH_CODES
    | DOCUMENT_CODES
    | TRANSPORT_CODES
    | PERSISTED_CODES
    | FORBIDDEN_CODES
)
#: What a schema-valid operation may be answered with.
VALID_OPERATION_CODES = ARGUMENT_CODES | LIMIT_CODES | AUTH_CODES

NON_NULL_VIOLATION = "Cannot return null for non-nullable field"
#: Text that must never reach a client (matched case-sensitively where case tells, e.g. SQL).
LEAK_MARKERS = (
    "Traceback",
    "sqlalchemy",
    "SQLAlchemy",
    "sqlalche.me",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "SELECT ",
    "INSERT INTO",
    '.py"',
    ".py'",
    ", line ",
    NON_NULL_VIOLATION,
)
#: 4xx statuses a request with a transport-level problem may get (the caller says which apply).
TRANSPORT_STATUSES = frozenset({400, 405, 413, 415})

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Expect:
    """What the request deserves.

    ``valid``: the operation is valid against the schema (only argument and limit codes may
    come back). ``errors``: the request is known to be wrong, so the answer must say so.
    ``statuses``: the 4xx statuses allowed because of a transport-level problem in the request.
    ``page``: a 200 HTML page is a fine answer (GraphiQL, for a GET without a query).
    ``authenticated``: the request carries an admin token, so no auth code is acceptable.
    """

    valid: bool = False
    errors: bool = False
    statuses: frozenset[int] = frozenset()
    page: bool = False
    #: sent with an admin token: UNAUTHENTICATED or FORBIDDEN is wrong
    authenticated: bool = False


VALID = Expect(valid=True)
INVALID = Expect(errors=True)
ANYTHING = Expect()


@dataclass(frozen=True)
class Sent:
    """What was sent, for echo-tolerant leak checks, the shape check and failure reports."""

    query: str | None
    variables: Any = None
    operation_name: str | None = None
    raw: str = ""  # everything the client sent (the body, the query string), as text

    def describe(self) -> str:
        return json.dumps(
            {
                "query": self.query,
                "variables": self.variables,
                "operationName": self.operation_name,
            },
            ensure_ascii=False,
            default=repr,
        )[:4000]


@dataclass
class Oracle:
    schema: GraphQLSchema
    secrets: Sequence[str] = ()  # e.g. the database URL, its file path or database name

    def check(
        self, sent: Sent, status: int, content_type: str, text: str, expect: Expect = ANYTHING
    ) -> list[str]:
        problems: list[str] = []
        if _unreadable(sent):  # not a request the API can read: refusing it is the answer
            expect = replace(expect, valid=False, statuses=expect.statuses | {400})
        echoed = sent.raw or ""
        if sent.query:
            echoed += sent.query
        if status >= 500:
            problems.append(f"status {status} (a server error)")
        elif 400 <= status < 500 and status not in expect.statuses:
            problems.append(f"status {status} for a request without a transport-level problem")
        elif status not in (200, *expect.statuses):
            problems.append(f"unexpected status {status}")
        if status != 200:  # a refusal: whatever its body says must not leak
            problems += self._leaks(text, echoed, "the body")
        if "json" not in content_type:
            if status == 200 and not (expect.page and content_type.startswith("text/html")):
                problems.append(f"a 200 whose content type is {content_type!r}, not JSON")
            return problems
        try:
            body = json.loads(text)
        except ValueError:
            return [*problems, "a JSON content type, but the body is not JSON"]
        if not isinstance(body, dict):
            return [*problems, f"the body is a JSON {type(body).__name__}, not an object"]
        if status != 200:  # a transport refusal in JSON: errors with codes, if any
            errors = body.get("errors", [])
            problems += self._errors(
                errors if isinstance(errors, list) else [errors], echoed, expect, transport=True
            )
            return problems
        if "data" not in body and "errors" not in body:
            problems.append("the body has neither data nor errors")
        extra = set(body) - {"data", "errors", "extensions"}
        if extra:
            problems.append(f"unexpected top-level keys {sorted(extra)}")
        problems += self._leaks(json.dumps(body.get("extensions")), echoed, "extensions")
        errors = body.get("errors")
        if errors is not None:
            if not isinstance(errors, list) or not errors:
                problems.append(f"errors must be a non-empty list, got {errors!r}")
            else:
                problems += self._errors(errors, echoed, expect, transport=False)
        elif expect.errors:
            problems.append("an invalid request was answered without errors")
        data = body.get("data")
        if "data" in body and data is not None and not isinstance(data, dict):
            problems.append(f"data is a {type(data).__name__}, not an object")
        elif isinstance(data, dict):
            problems += self._shape(sent, data)
        return problems

    def _leaks(self, text: str, echoed: str, where: str) -> list[str]:
        found = []
        for marker in (*LEAK_MARKERS, *(s for s in self.secrets if s)):
            if marker in text and marker not in echoed:
                found.append(f"{where} contains {marker!r}")
        return found

    def _errors(
        self, errors: Iterable[Any], echoed: str, expect: Expect, *, transport: bool
    ) -> list[str]:
        problems = []
        for error in errors:
            if not isinstance(error, dict):
                problems.append(f"an error that is not an object: {error!r}")
                continue
            message = error.get("message")
            extensions = error.get("extensions")
            code = extensions.get("code") if isinstance(extensions, dict) else None
            label = json.dumps(error, ensure_ascii=False)[:600]
            if not isinstance(message, str):
                problems.append(f"an error without a string message: {label}")
            if not isinstance(code, str):
                problems.append(f"an error without a string extensions.code: {label}")
                continue
            if code in FORBIDDEN_CODES:
                problems.append(f"{code}: {label}")
            elif code not in KNOWN_CODES:
                problems.append(
                    f"undocumented code {code!r} (document it in the README and add it to "
                    f"tests/support/fuzz/oracle.py): {label}"
                )
            elif expect.authenticated and code in AUTH_CODES:
                problems.append(f"{code} for a request with an admin token: {label}")
            elif expect.valid and code not in VALID_OPERATION_CODES:
                problems.append(f"{code} for a schema-valid operation: {label}")
            elif code in TRANSPORT_CODES and not transport:
                problems.append(f"transport code {code} with a 200: {label}")
            if isinstance(message, str) and NON_NULL_VIOLATION in message:
                problems.append(f"non-null violation: {label}")
            problems += self._leaks(json.dumps(error, ensure_ascii=False), echoed, "an error")
            if "path" in error and not _is_path(error["path"]):
                problems.append(f"a malformed error path: {label}")
        return problems

    def _shape(self, sent: Sent, data: dict[str, Any]) -> list[str]:
        if not sent.query:
            return ["data for a request without a query"]
        try:
            document = parse(sent.query, no_location=True)
        except GraphQLError as error:
            return [f"data for a document that does not parse: {error.message}"]
        except RecursionError:
            return []  # graphql-core cannot parse it here either; the server could not have run it
        operation = get_operation_ast(document, sent.operation_name)
        if operation is None:
            return ["data for a document without that operation"]
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        if root is None:
            return ["data for an operation type the schema does not have"]
        walker = _ShapeWalker(self.schema, document)
        walker.object([(root, operation.selection_set)], data, "data")
        return walker.problems


def _is_path(path: Any) -> bool:
    return isinstance(path, list) and all(isinstance(p, (str, int)) for p in path)


class _ShapeWalker:
    """Checks ``data`` against the operation's selections and the schema's types.

    Fields sharing a response key must have the same response shape (validation rule
    OverlappingFieldsCanBeMerged), so any of them tells the shape, whatever the runtime type.
    """

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.problems: list[str] = []

    def _collect(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        into: dict[str, list[tuple[GraphQLNamedType, FieldNode]]],
        visited: frozenset[str] = frozenset(),
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                into.setdefault(key, []).append((parent, selection))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    self._collect(target, selection.selection_set, into, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                if target is not None:
                    self._collect(target, fragment.selection_set, into, visited | {name})

    def object(
        self,
        groups: list[tuple[GraphQLNamedType, SelectionSetNode]],
        value: Mapping[str, Any],
        path: str,
    ) -> None:
        fields: dict[str, list[tuple[GraphQLNamedType, FieldNode]]] = {}
        for parent, selection_set in groups:
            self._collect(parent, selection_set, fields)
        for key, item in value.items():
            entries = fields.get(key)
            where = f"{path}.{key}"
            if not entries:
                self.problems.append(f"{where}: in the data but not selected")
                continue
            parent, node = entries[0]
            name = node.name.value
            if name == "__typename":
                if not isinstance(item, str) or self.schema.get_type(item) is None:
                    self.problems.append(f"{where}: __typename {item!r} names no type")
                continue
            definition = _field(self.schema, parent, name)
            if definition is None:
                self.problems.append(f"{where}: {parent.name} has no field {name}")
                continue
            subgroups = []
            for entry_parent, entry in entries:
                entry_field = _field(self.schema, entry_parent, entry.name.value)
                if entry.selection_set is not None and entry_field is not None:
                    subgroups.append((_named(entry_field.type), entry.selection_set))
            self.value(definition.type, subgroups, item, where)

    def value(
        self,
        type_: GraphQLOutputType,
        groups: list[tuple[GraphQLNamedType, SelectionSetNode]],
        value: Any,
        path: str,
    ) -> None:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                self.problems.append(f"{path}: null for the non-null type {type_}")
                return
            type_ = type_.of_type
        if value is None:
            return
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                self.problems.append(f"{path}: {type(value).__name__} for the list type {type_}")
                return
            for index, item in enumerate(value):
                self.value(type_.of_type, groups, item, f"{path}[{index}]")
            return
        if isinstance(type_, GraphQLScalarType):
            if not _scalar_ok(type_.name, value):
                self.problems.append(f"{path}: {value!r} is not a {type_.name}")
            return
        if isinstance(type_, GraphQLEnumType):
            if value not in type_.values:
                self.problems.append(f"{path}: {value!r} is not a {type_.name} value")
            return
        if not isinstance(value, dict):
            self.problems.append(f"{path}: {type(value).__name__} for the object type {type_}")
            return
        typename = value.get("__typename")
        if isinstance(typename, str) and isinstance(
            self.schema.get_type(typename), GraphQLObjectType
        ):
            runtime = self.schema.get_type(typename)
            named = _named(type_)
            if (
                named is not None
                and runtime is not None
                and not _is_possible(self.schema, named, runtime)
            ):
                self.problems.append(f"{path}: {typename} is not a possible {named.name}")
        self.object(groups, value, path)


def _field(schema: GraphQLSchema, parent: Any, name: str) -> GraphQLField | None:
    """A field of ``parent``, introspection's ``__schema`` and ``__type`` on the query root."""
    if parent is schema.query_type and name in ("__schema", "__type"):
        return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
    fields = getattr(parent, "fields", None)
    return fields.get(name) if isinstance(fields, dict) else None


def _named(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _is_possible(schema: GraphQLSchema, abstract: Any, runtime: Any) -> bool:
    if abstract is runtime:
        return True
    if isinstance(abstract, GraphQLObjectType):
        return False
    return schema.is_sub_type(abstract, runtime)


def _scalar_ok(name: str, value: Any) -> bool:
    if name == "Int":
        return (
            isinstance(value, int) and not isinstance(value, bool) and _INT_MIN <= value <= _INT_MAX
        )
    if name == "Float":
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if name in ("String", "ID"):
        return isinstance(value, str)
    if name == "Boolean":
        return isinstance(value, bool)
    return True  # a custom scalar: any JSON value


# -- known bugs ---------------------------------------------------------------------------------


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _unreadable(sent: Sent) -> bool:
    """Text no UTF-8 can carry (lone surrogates, which JSON can spell), JSON nested deeper
    than a parser should follow, or a document with no operation to run (``input A``; or
    none of the name asked for): a 400 is a fine answer."""
    return (
        _has_lone_surrogate(sent.query)
        or _has_lone_surrogate(sent.variables)
        or _json_depth(sent.raw or "") >= 500
        or _no_operation(sent)
    )


def _no_operation(sent: Sent) -> bool:
    if not isinstance(sent.query, str):
        return False
    try:
        document = graphql.parse(sent.query, max_tokens=10_000)
    except (graphql.GraphQLError, RecursionError):
        return False  # a parse error: answered as a GraphQL error, not a 400
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    if sent.operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == sent.operation_name]
    return len(operations) != 1


def _json_depth(text: str) -> int:
    """How deep brackets nest in ``text`` (strings not skipped: an upper bound is enough)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


_BASE64 = re.compile(r"[A-Za-z0-9+/]{6,}={0,2}")
_GLOBAL_ID = re.compile(r"(?:Work|Person|Theme):(\d+)")


def _has_int32_overflowing_id(sent: Sent) -> bool:
    """Whether the request holds a global ID of a record number past a 32-bit integer."""
    text = (sent.query or "") + json.dumps(sent.variables)
    for token in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (ValueError, UnicodeError):
            continue
        match = _GLOBAL_ID.fullmatch(decoded)
        if match and int(match.group(1)) > _INT_MAX:
            return True
    return False


@dataclass(frozen=True)
class KnownBug:
    """A reported bug the fuzzers keep finding: tolerated only for requests that have its
    trigger and only for the problems that carry one of its signatures, so it cannot hide
    anything else. ``example`` is a minimal request (a raw JSON body) for its strict-xfail
    test, on the ``backends`` that have the bug."""

    key: str
    summary: str
    signatures: tuple[str, ...]  # substrings of the oracle's problem text
    trigger: Callable[[Sent], bool]
    example: str
    backends: tuple[str, ...] = ("sqlite", "postgresql")


# Bugs the fuzzers found, now fixed: each minimal request stays in test_known_bug, judged with
# no tolerance, so a regression fails the run.
FIXED_BUGS: tuple[KnownBug, ...] = (
    KnownBug(
        key="surrogate-in-document",
        summary=(
            "a lone surrogate in the document (a JSON \\ud800 escape in `query`) makes "
            "query.encode('utf-8') raise (gql/limits.py, the document-size check): the error "
            "goes out without extensions.code and with Python's codec message"
        ),
        signatures=("surrogates not allowed",),
        trigger=lambda sent: _has_lone_surrogate(sent.query),
        example='{"query": "{ __typename } # \\ud800"}',
    ),
    KnownBug(
        key="surrogate-in-variable",
        summary=(
            "a lone surrogate in a String variable is not refused as BAD_USER_INPUT: an error "
            "without extensions.code with Python's codec message (the response cache's "
            "request_key encodes the variables), or INTERNAL_SERVER_ERROR where the value "
            "reaches the driver (a slug)"
        ),
        signatures=("surrogates not allowed", "INTERNAL_SERVER_ERROR"),
        trigger=lambda sent: _has_lone_surrogate(sent.variables),
        example=(
            '{"query": "query($s: String!) { work(slug: $s) { id } }", '
            '"variables": {"s": "\\ud800"}}'
        ),
    ),
    KnownBug(
        key="deeply-nested-json",
        summary=(
            "a request body nesting JSON ~1,000 deep makes json.loads raise RecursionError, "
            "which CatalogGraphQL.parse_json does not catch (it catches ValueError): a 500 "
            "instead of a 400"
        ),
        signatures=("status 500",),
        trigger=lambda sent: _json_depth(sent.raw) >= 900,
        example='{"query": ' + "[" * 1000 + "]" * 1000 + "}",
    ),
    KnownBug(
        key="int32-overflowing-id",
        summary=(
            "PostgreSQL: a well-formed global ID whose number does not fit the int4 id column "
            "(e.g. Work:2147483648; gql/ids.py accepts up to 2**63-1) is an "
            "INTERNAL_SERVER_ERROR (asyncpg: int32 out of range) instead of null, for every "
            "ID batched into the same load"
        ),
        signatures=("INTERNAL_SERVER_ERROR",),
        trigger=_has_int32_overflowing_id,
        example='{"query": "{ node(id: \\"V29yazoyMTQ3NDgzNjQ4\\") { id } }"}',
        backends=("postgresql",),
    ),
    KnownBug(
        key="out-of-range-cursor",
        summary=(
            "a cursor carrying a number no INTEGER column holds (an id of 2**63) reached the "
            "driver: SQLite's uncoded 'Python int too large to convert to SQLite INTEGER' (the "
            "compiled path did not mask its failures), INTERNAL_SERVER_ERROR on PostgreSQL"
        ),
        signatures=("INTERNAL_SERVER_ERROR", "without a string extensions.code"),
        trigger=lambda sent: "after" in (sent.query or ""),
        example=(
            '{"query": "{ works(first: 1, after: '
            '\\"WyJ3b3Jrc3x0aXRsZTphLGlkOmEiLFsieCIsOTIyMzM3MjAzNjg1NDc3NTgwOF1d\\") '
            '{ nodes { slug } } }"}'
        ),
    ),
)


# Bugs found and not fixed yet: tolerated by the fuzzers only on their trigger, and each a
# strict xfail in test_known_bug (none at the moment).
KNOWN_BUGS: tuple[KnownBug, ...] = ()


def known_bugs(sent: Sent, problems: list[str]) -> tuple[list[str], list[KnownBug]]:
    """The problems no known bug explains, and the known bugs that explain the others."""
    remaining: list[str] = []
    seen: list[KnownBug] = []
    for problem in problems:
        bug = next(
            (
                b
                for b in KNOWN_BUGS
                if any(signature in problem for signature in b.signatures) and b.trigger(sent)
            ),
            None,
        )
        if bug is None:
            remaining.append(problem)
        elif bug not in seen:
            seen.append(bug)
    return remaining, seen


# -- tallies ------------------------------------------------------------------------------------


@dataclass
class Tally:
    operations: int = 0
    failures: int = 0
    answered: int = 0  # responses with data: the operation reached the resolvers
    codes: dict[str, int] = field(default_factory=dict)
    known_bugs: int = 0


#: (suite, backend) -> counts, printed by tests/fuzz/conftest.py at the end of the session.
TALLIES: dict[tuple[str, str], Tally] = {}


def tally(suite: str, backend: str) -> Tally:
    return TALLIES.setdefault((suite, backend), Tally())


def record(counts: Tally, text: str, problems: list[str], known: Sequence[KnownBug] = ()) -> None:
    counts.operations += 1
    if problems:
        counts.failures += 1
    elif known:
        counts.known_bugs += 1
    try:
        body = json.loads(text)
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    data = body.get("data")
    if isinstance(data, dict) and any(value is not None for value in data.values()):
        counts.answered += 1
    if isinstance(body.get("errors"), list):
        for error in body["errors"]:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if isinstance(code, str):
                counts.codes[code] = counts.codes.get(code, 0) + 1


def report(sent: Sent, status: int, text: str, problems: list[str]) -> str:
    return (
        "the response breaks the fuzz oracle:\n  - "
        + "\n  - ".join(problems)
        + f"\nrequest: {sent.describe()}"
        + (f"\nas sent: {sent.raw[:3000]}" if sent.raw else "")
        + f"\nresponse {status}: {text[:3000]}"
    )
