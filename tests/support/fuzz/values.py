"""What the fuzzers and the differential test generate operations from: the served schema,
values harvested from the catalog and edge cases for the built-in scalars (hypothesis-graphql's
``custom_scalars``), and two rewrites of a generated document: ``tidy`` (drops the argument
combinations the API refuses by design) and ``hoist`` (argument values passed as variables)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import graphql
import hypothesis_graphql as hg
from hypothesis import strategies as st

from gql.schema import schema as strawberry_schema

SCHEMA = graphql.build_schema(strawberry_schema.as_str())
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

# Rankings (`similar`) are priced per work (gql/limits.py): a few works' are harvested.
HARVEST = """
{
  works(first: 100) { edges { cursor node { id slug title originalTitle alternativeTitles
    externalIds { value } } } }
  ranked: works(first: 8) { edges { node { id slug similar(first: 5) { edges { cursor } } } } }
  byYear: works(first: 100, orderBy: [{field: YEAR, direction: DESC}]) { edges { cursor } }
  people(first: 100) { edges { cursor node { id slug name originalName alternativeNames
    externalIds { value } } } }
  directors(first: 100) { edges { cursor } }
  themes(first: 100) { edges { cursor node { id slug name } } }
}
"""


@dataclass
class Pool:
    ids: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # names, titles, external identifiers


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


EDGE_STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "' OR 1=1 --",
    "%_%",
    "*",
    "\u200b",
    "🎬",
    "Ch'oe",
    "Choe",
    "Choi",
    "ŏ",
    "김",
    "a" * 257,
    "x" * 5000,
    "tt0168937",
    "tt1",
    "nm0000001",
    "Q42",
    "Q",
    "Q0",
    "Q99999999999999999999",
)
#: Lone surrogates: no GraphQL document can hold one, but a JSON string (a variable) can.
SURROGATES = ("\ud800", "\udfff\ud800", "a\udc00b")
EDGE_INTS = (0, 1, -1, 2, 9, 10, 20, 99, 100, 101, 1000, INT_MAX, INT_MIN, 1945, 1971, 2030)


def scalar_strategies(pool: Pool) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Strategies (of GraphQL value nodes) for ID, String and Int arguments."""
    malformed_ids = st.one_of(
        st.sampled_from(["", "Work", "V29yazox", "Work:1", "==", "!!!", "x" * 101]),
        st.builds(
            lambda kind, number: _b64(f"{kind}:{number}"),
            st.sampled_from(["Work", "Person", "Theme", "Credit", "work", ""]),
            st.one_of(st.integers(), st.sampled_from(["", "1x", "٣", " 1", "1e3", "-0"])),
        ),
        st.text(max_size=12),
        st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode()),
    )
    text = st.text(max_size=24) | st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=8
    )
    strings = st.one_of(
        st.sampled_from(pool.slugs),
        st.sampled_from(pool.cursors),
        st.sampled_from(pool.words or pool.slugs),
        st.sampled_from(EDGE_STRINGS),
        text,
    )
    ints = st.one_of(
        st.integers(min_value=-2, max_value=30),
        st.sampled_from(EDGE_INTS),
        st.integers(min_value=INT_MIN, max_value=INT_MAX),
    )
    return {
        "ID": st.one_of(st.sampled_from(pool.ids), malformed_ids).map(hg.nodes.String),
        "String": strings.map(hg.nodes.String),
        "Int": ints.map(hg.nodes.Int),
    }


class _Hoist(graphql.Visitor):
    """Replaces every argument value by a variable of the argument's type."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.definitions: list[graphql.VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}

    def enter_argument(self, node: graphql.ArgumentNode, *_args: Any) -> Any:
        argument = self.type_info.get_argument()
        if argument is None or isinstance(node.value, graphql.VariableNode):
            return None
        name = f"v{len(self.definitions)}"
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(
                variable=variable, type=graphql.parse_type(str(argument.type)), directives=()
            )
        )
        self.values[name] = graphql.value_from_ast_untyped(node.value)
        return graphql.ArgumentNode(name=node.name, value=variable)


class _Tidy(graphql.Visitor):
    """Drops the argument combinations the API refuses by design (`first` with `last`, an
    `orderBy` naming a field twice) and the cursors (mostly from another list), so that more
    operations reach the data; the untidied half of the examples keeps them."""

    def enter_field(self, node: graphql.FieldNode, *_args: Any) -> Any:
        given_ = tuple(node.arguments or ())
        names = {argument.name.value for argument in given_}
        drop = {"after", "before", "last"} if "first" in names else {"after", "before"}
        arguments = []
        for argument in given_:
            if argument.name.value in drop:
                continue
            if argument.name.value == "orderBy" and isinstance(
                argument.value, graphql.ListValueNode
            ):
                seen, keys = set(), []
                for key in argument.value.values:
                    field_ = next(
                        (f.value for f in getattr(key, "fields", ()) if f.name.value == "field"),
                        None,
                    )
                    marker = graphql.print_ast(field_) if field_ is not None else None
                    if marker not in seen:
                        seen.add(marker)
                        keys.append(key)
                argument = graphql.ArgumentNode(
                    name=argument.name, value=graphql.ListValueNode(values=tuple(keys))
                )
            arguments.append(argument)
        if len(arguments) == len(given_) and all(
            a is b for a, b in zip(arguments, given_, strict=True)
        ):
            return None
        return graphql.FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=tuple(arguments),
            directives=node.directives,
            selection_set=node.selection_set,
        )


def tidy(query: str) -> str:
    return graphql.print_ast(graphql.visit(graphql.parse(query), _Tidy()))


def hoist(query: str) -> tuple[str, dict[str, Any]]:
    """The same operation with its argument values passed as variables."""
    document = graphql.parse(query)
    type_info = graphql.TypeInfo(SCHEMA)
    hoister = _Hoist(type_info)
    document = graphql.visit(document, graphql.TypeInfoVisitor(type_info, hoister))
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            definition = graphql.OperationDefinitionNode(
                operation=definition.operation,
                name=definition.name,
                variable_definitions=tuple(hoister.definitions),
                directives=definition.directives,
                selection_set=definition.selection_set,
            )
        definitions.append(definition)
    return graphql.print_ast(graphql.DocumentNode(definitions=tuple(definitions))), hoister.values
