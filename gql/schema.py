"""The Strawberry schema: the public contract (shared/contract/api.graphql) and more."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from gql.extensions import ErrorCodes
from gql.query import Query
from gql.types.person import Person
from gql.types.theme import Theme
from gql.types.work import Work


class CatalogSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are the client's business; ErrorCodes logs the unexpected ones."""


schema = CatalogSchema(
    query=Query,
    types=[Work, Person, Theme],
    extensions=[ErrorCodes],
    config=StrawberryConfig(auto_camel_case=True),
)
