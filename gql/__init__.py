"""The GraphQL API: schema, types, request context and loaders. Depends on db, never the reverse."""
