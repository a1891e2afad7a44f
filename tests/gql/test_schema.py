"""The exported SDL stays current, keeps the public contract, and documents every field."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    print_ast,
)
from graphql.utilities import ast_from_value

from gql.schema import schema

REPO = Path(__file__).resolve().parents[2]
# The contract lives in ../shared/contract/api.graphql beside the checkout; a copy is kept here
# so that a clone anywhere is checked against it (and the copy against the original, there).
SHARED_CONTRACT = REPO.parent / "shared" / "contract" / "api.graphql"
CONTRACT = Path(__file__).resolve().parent / "contract" / "api.graphql"


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="no ../shared beside this checkout")
def test_the_kept_contract_is_the_shared_one() -> None:
    assert CONTRACT.read_text(encoding="utf-8") == SHARED_CONTRACT.read_text(encoding="utf-8")


def _ours() -> GraphQLSchema:
    return build_schema(schema.as_str())


def _contract() -> GraphQLSchema:
    """The contract, with its convention spelled out: every XConnection has WorkConnection's
    shape (the contract shows it once, for Work)."""
    sdl = CONTRACT.read_text(encoding="utf-8")
    for node in ("Person", "Theme"):
        sdl += (
            f"\ntype {node}Connection {{ edges: [{node}Edge!]! nodes: [{node}!]! "
            f"pageInfo: PageInfo! totalCount: Int! }}\n"
            f"type {node}Edge {{ cursor: String! node: {node}! }}\n"
        )
    return build_schema(sdl)


def test_committed_sdl_matches_the_code() -> None:
    committed = (REPO / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: regenerate it with `nkcinema schema > schema.graphql`"
    )


def _default(arg_type: object, value: object) -> str | None:
    if value is None or repr(value) == "Undefined":
        return None
    node = ast_from_value(value, arg_type)  # type: ignore[arg-type]
    return print_ast(node) if node else None


def _contract_types() -> list[tuple[str, GraphQLNamedType]]:
    return [(name, t) for name, t in _contract().type_map.items() if not name.startswith("__")]


@pytest.mark.parametrize(("name", "contract_type"), _contract_types(), ids=lambda v: str(v))
def test_contract_type_is_kept(name: str, contract_type: GraphQLNamedType) -> None:
    ours = _ours().type_map.get(name)
    assert ours is not None, f"contract type {name} is missing"
    assert type(ours) is type(contract_type), f"{name} changed kind"
    if isinstance(contract_type, GraphQLEnumType):
        assert isinstance(ours, GraphQLEnumType)
        assert set(contract_type.values) <= set(ours.values), f"{name} lost enum values"
    if isinstance(contract_type, GraphQLUnionType):
        assert isinstance(ours, GraphQLUnionType)
        assert {t.name for t in contract_type.types} <= {t.name for t in ours.types}
    if isinstance(contract_type, (GraphQLObjectType, GraphQLInterfaceType)):
        assert isinstance(ours, (GraphQLObjectType, GraphQLInterfaceType))
        contract_interfaces = {i.name for i in contract_type.interfaces}
        assert contract_interfaces <= {i.name for i in ours.interfaces}
        for field_name, field in contract_type.fields.items():
            assert field_name in ours.fields, f"{name}.{field_name} is missing"
            mine = ours.fields[field_name]
            assert str(mine.type) == str(field.type), f"{name}.{field_name} changed type"
            for arg_name, arg in field.args.items():
                assert arg_name in mine.args, f"{name}.{field_name}({arg_name}) is missing"
                my_arg = mine.args[arg_name]
                assert str(my_arg.type) == str(arg.type), f"{name}.{field_name}({arg_name})"
                assert _default(my_arg.type, my_arg.default_value) == _default(
                    arg.type, arg.default_value
                ), f"{name}.{field_name}({arg_name}) changed its default"
            for arg_name, my_arg in mine.args.items():
                if arg_name not in field.args:  # additions must not break existing callers
                    assert not str(my_arg.type).endswith("!") or my_arg.default_value is not None
    if isinstance(contract_type, GraphQLInputObjectType):
        assert isinstance(ours, GraphQLInputObjectType)
        for field_name, field in contract_type.fields.items():
            assert field_name in ours.fields, f"{name}.{field_name} is missing"
            mine_input = ours.fields[field_name]
            assert str(mine_input.type) == str(field.type), f"{name}.{field_name} changed type"
            assert _default(mine_input.type, mine_input.default_value) == _default(
                field.type, field.default_value
            ), f"{name}.{field_name} changed its default"


def test_every_type_field_and_argument_is_described() -> None:
    undocumented = []
    for name, named in _ours().type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Boolean", "ID", "Float"):
            continue
        if not named.description:
            undocumented.append(name)
        fields = getattr(named, "fields", None) or {}
        for field_name, field in fields.items():
            if not field.description:
                undocumented.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description and arg_name not in _SELF_EXPLANATORY_ARGS:
                    undocumented.append(f"{name}.{field_name}({arg_name})")
    assert undocumented == []


# Connection arguments are described once, on the connection convention in the README and
# the field descriptions; every other argument needs its own description.
_SELF_EXPLANATORY_ARGS: frozenset[str] = frozenset()
