"""Mutation inputs checked at the boundary, by the rules of ``db.rules``, before a resolver runs.

Every string field of a mutation's input type declares its rule (``checked``: a slug, a source
key, a URL, a name, prose …); every list its size is bounded. ``Validated``, a field extension
on every mutation, runs after the field's permission classes (``gql.permissions``: who may ask
is settled before what they sent is read) and walks the input object generically: each
problem becomes a userError (``field`` its path, e.g. ``["input", "themes", "3"]``) and the
payload is returned with nothing read or written; otherwise the resolver gets the input
with every string normalised. A string field without a rule is a programming error, refused
when the schema is built (``tests/gql/test_input_validation.py`` checks every mutation).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from db import rules
from gql.context import Info

RULE = "nkcinema.rule"
MAX_ITEMS = "nkcinema.max_items"


def checked(
    rule: rules.Rule, description: str, *, max_items: int = rules.MAX_LIST_ITEMS, **kwargs: Any
) -> Any:
    """An input field whose strings (or list of strings) obey ``rule``."""
    return strawberry.field(
        description=description, metadata={RULE: rule, MAX_ITEMS: max_items}, **kwargs
    )


def bounded(description: str, *, max_items: int = rules.MAX_LIST_ITEMS, **kwargs: Any) -> Any:
    """An input field holding a list of input objects, at most ``max_items`` of them."""
    return strawberry.field(description=description, metadata={MAX_ITEMS: max_items}, **kwargs)


Found = tuple[tuple[str, ...], rules.Problem]


def _unwrapped(kind: Any) -> Any:
    while isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind


def _walk(
    value: Any, kind: Any, field: StrawberryField, path: tuple[str, ...], found: list[Found]
) -> Any:
    """``value`` (of type ``kind``, declared by ``field``) checked; problems go to ``found``."""
    kind = _unwrapped(kind)
    if value is None or value is UNSET:
        return value
    if isinstance(kind, StrawberryList):
        problem = rules.list_size(len(value), field.metadata.get(MAX_ITEMS, rules.MAX_LIST_ITEMS))
        if problem is not None:
            found.append((path, problem))
            return value
        return [_walk(v, kind.of_type, field, (*path, str(i)), found) for i, v in enumerate(value)]
    if kind is str:
        result = field.metadata[RULE](value)
        if isinstance(result, rules.Problem):
            found.append((path, result))
            return value
        return result
    if has_object_definition(kind):
        return check_object(value, path, found)
    return value  # numbers, booleans and enum values: GraphQL has checked them


def check_object(value: Any, path: tuple[str, ...], found: list[Found]) -> Any:
    """A copy of an input object with its strings normalised; problems go to ``found``."""
    result = copy.copy(value)
    for field in value.__strawberry_definition__.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        checked_value = _walk(
            getattr(value, field.python_name), field.type, field, (*path, name), found
        )
        setattr(result, field.python_name, checked_value)
    return result


def undeclared(cls: Any, path: str = "") -> Iterator[str]:
    """The fields of an input type (and of the input types it holds) that escape checking:
    strings without a rule, lists without a bound, scalars other than Int, Boolean and enums."""
    for field in cls.__strawberry_definition__.fields:
        where = f"{path}{cls.__name__}.{field.python_name}"
        kind = _unwrapped(field.type)
        if isinstance(kind, StrawberryList):
            if MAX_ITEMS not in field.metadata:
                yield where
            kind = _unwrapped(kind.of_type)
        if kind is str:
            if RULE not in field.metadata:
                yield where
        elif has_object_definition(kind):
            if kind is not cls:
                yield from undeclared(kind, f"{where} > ")
        elif kind not in (int, bool) and not isinstance(kind, StrawberryEnumDefinition):
            yield where  # a scalar no rule covers (an ID, a float, a custom scalar …)


class Validated(FieldExtension):
    """Check the ``input`` argument; a problem answers the mutation's payload with its
    ``userErrors`` and nulls, and nothing runs."""

    def apply(self, field: StrawberryField) -> None:
        [argument] = [a for a in field.arguments if a.python_name == "input"]
        missing = list(undeclared(_unwrapped(argument.type)))
        if missing:
            raise TypeError(f"{field.python_name}: input fields without a rule: {missing}")

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        found: list[Found] = []
        kwargs["input"] = check_object(kwargs["input"], ("input",), found)
        if found:
            return _refusal(info, found)
        return await next_(source, info, **kwargs)


def _label(path: tuple[str, ...]) -> str:
    """A field's path as people read it: ``order[2].person``."""
    return path[1] + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path[2:])


def _refusal(info: Info, found: list[Found]) -> Any:
    """The payload of a refused mutation: every field null, and the userErrors."""
    payload: Any = info.return_type
    fields = {f.python_name: f for f in payload.__strawberry_definition__.fields}
    error_type = _unwrapped(fields["user_errors"].type).of_type
    errors = [
        error_type(field=list(path), code=problem.code, message=f"{_label(path)} {problem.message}")
        for path, problem in found
    ]
    values = {name: None for name in fields if name != "user_errors"}
    return payload(**values, user_errors=errors)
