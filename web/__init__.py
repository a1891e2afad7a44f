"""HTTP serving: the ASGI app around the GraphQL schema (``gql``). Depends on gql, db and
settings; nothing but the command (``cli``) depends on it.

- ``app``: ``create_app`` assembles the middleware, the routes and the view; uvicorn's
  factory is ``web.app:create_served_app``.
- ``middleware``: the request id and the access log; ``over_http``: GraphQL over HTTP
  (media types, status codes, GET rules); ``deadline``: the request deadline from arrival;
  ``intake``: the POST body admitted and the request key computed, once.
- ``fast_lane``: repeated requests answered before routing, from the response cache
  (``response_cache``, ``http_cache``) or their prepared plan (``prepared``).
- ``view``: Strawberry's ASGI view over the served schema, whose caching extensions
  (``caching``: catalog version, entity tags, what repeats may reuse) run around execution.
- ``encoding``: the one JSON encoder of every answer; ``graphiql``: the GraphiQL page and
  its vendored assets.
"""
