"""The typed request context: resolvers take ``strawberry.Info[Context]``.

What one request knows (its HTTP request and response, its database, the settings, and what
the extensions found out about its operation); nothing that outlives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from db.models import ApiToken
from db.sessions import RequestDatabase
from gql.compiled.plan import Plan
from gql.loaders import Loaders
from settings import Settings


@dataclass
class Context:
    request: Request | None
    response: Response | None
    database: RequestDatabase
    settings: Settings
    request_id: str
    catalog_version: int | None = None  # read once per operation, before it executes
    cost: int | None = None  # the operation's cost, once gql.limits has computed it
    work: int | None = None  # the priced part of the cost: gql.admission gates by it
    token: ApiToken | None = None  # the curator's token, once gql.permissions has checked it
    plan: Plan | None = None  # the compiled plan that answered (gql.execution)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.database)


Info: TypeAlias = strawberry.Info[Context, None]
