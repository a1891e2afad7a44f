"""``ConnectionArguments`` on a schema of its own: where the paging arguments stand, what the
resolver is handed, and that a field without the ``page`` parameter is refused."""

from __future__ import annotations

import pytest
import strawberry

from gql.pagination import UNPAGED, ConnectionArguments, PageArguments


@strawberry.type
class Query:
    @strawberry.field(extensions=[ConnectionArguments()])
    def both(self, kind: str | None = None, page: PageArguments = UNPAGED, tail: int = 0) -> str:
        return f"{kind} {page} {tail}"

    @strawberry.field(extensions=[ConnectionArguments(backward=False)])
    def forward(self, page: PageArguments = UNPAGED) -> str:
        return repr(page)


schema = strawberry.Schema(query=Query)


def test_the_arguments_stand_where_the_resolver_names_its_page() -> None:
    fields = schema._schema.query_type.fields  # type: ignore[union-attr]
    assert list(fields["both"].args) == ["kind", "first", "after", "last", "before", "tail"]
    assert list(fields["forward"].args) == ["first", "after"]
    first = fields["both"].args["first"]
    assert str(first.type) == "Int" and first.description.startswith("Page forward")
    assert str(fields["both"].args["before"].type) == "String"


def test_the_resolver_is_handed_the_values_given_and_none_for_the_rest() -> None:
    result = schema.execute_sync('{ both(first: 3, before: "c", tail: 2) forward }')
    assert result.errors is None
    assert result.data == {
        "both": f"None {PageArguments(first=3, before='c')} 2",
        "forward": repr(PageArguments()),
    }


def test_a_second_schema_of_the_same_types_has_the_same_arguments() -> None:
    again = strawberry.Schema(query=Query)
    assert str(again) == str(schema)
    assert again.execute_sync("{ forward(first: 1) }").data == {
        "forward": repr(PageArguments(first=1))
    }


def test_a_field_without_a_page_parameter_is_refused() -> None:
    @strawberry.type
    class Broken:
        @strawberry.field(extensions=[ConnectionArguments()])
        def items(self, first: int | None = None) -> str:
            return ""

    with pytest.raises(TypeError, match="no `page` parameter"):
        strawberry.Schema(query=Broken)
