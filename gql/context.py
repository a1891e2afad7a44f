"""The typed request context: resolvers take ``strawberry.Info[Context]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from db.models import ApiToken
from db.sessions import RequestDatabase
from gql.loaders import Loaders
from gql.prepared import PreparedRequests
from gql.response_cache import ResponseCache
from settings import Settings


@dataclass
class Context:
    request: Request | None
    response: Response | None
    database: RequestDatabase
    settings: Settings
    request_id: str
    responses: ResponseCache | None = None  # gql.caching: answers to repeated queries
    prepared: PreparedRequests | None = None  # gql.caching: plans of compiled requests
    catalog_version: int | None = None  # read once per operation by gql.caching
    cost: int | None = None  # the operation's cost, once gql.limits has computed it
    work: int | None = None  # the priced part of the cost: gql.admission gates by it
    token: ApiToken | None = None  # the curator's token, once gql.auth has checked it
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.database)


Info: TypeAlias = strawberry.Info[Context, None]
