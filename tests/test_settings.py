"""Settings come from the environment, validated, with the standard URL forms mapped to drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    async_database_url,
    load_settings,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///nkcinema.db", "sqlite+aiosqlite:///nkcinema.db"),
        ("sqlite:////var/lib/nk.db", "sqlite+aiosqlite:////var/lib/nk.db"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_standard_urls_map_to_the_async_drivers(url: str, expected: str) -> None:
    assert async_database_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "nkcinema.db", "", "sqlite+pysqlite:///x.db"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(SettingsError):
        async_database_url(url)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "NKCINEMA_MAX_PAGE_SIZE", "NKCINEMA_DEFAULT_PAGE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///nkcinema.db"
    assert (settings.default_page_size, settings.max_page_size) == (20, 100)
    assert settings.sqlite_path() == Path("nkcinema.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.setenv("NKCINEMA_MAX_PAGE_SIZE", "50")
    monkeypatch.setenv("NKCINEMA_GRAPHIQL", "off")
    settings = load_settings()
    assert settings.async_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert settings.max_page_size == 50
    assert settings.graphiql is False
    assert settings.sqlite_path() is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NKCINEMA_MAX_PAGE_SIZE", "many"),
        ("NKCINEMA_MAX_PAGE_SIZE", "0"),
        ("NKCINEMA_GRAPHIQL", "perhaps"),
        ("NKCINEMA_DEFAULT_PAGE_SIZE", "500"),  # more than the maximum
        ("DATABASE_URL", "oracle://x"),
    ],
)
def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_replicas_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@primary/catalog")
    monkeypatch.setenv(
        "NKCINEMA_REPLICA_URLS", " postgresql://reader@r1/catalog , postgres://reader@r2/catalog,"
    )
    monkeypatch.setenv("NKCINEMA_REPLICA_MAX_LAG", "2.5")
    settings = load_settings()
    assert settings.replica_urls == (
        "postgresql://reader@r1/catalog",
        "postgres://reader@r2/catalog",
    )
    assert (settings.replica_max_lag, settings.replica_probe_interval) == (2.5, 1.0)
    monkeypatch.delenv("NKCINEMA_REPLICA_URLS")
    monkeypatch.delenv("NKCINEMA_REPLICA_MAX_LAG")
    assert load_settings().replica_urls == ()
    assert load_settings().replica_max_lag == 30.0


@pytest.mark.parametrize(
    ("database", "replicas"),
    [
        ("postgresql://p/c", "sqlite:///replica.db"),
        ("postgresql://p/c", "not a url"),
        ("sqlite:///nkcinema.db", "postgresql://reader@r1/catalog"),  # no SQLite primary
    ],
)
def test_bad_replica_urls_are_named_and_not_echoed(
    monkeypatch: pytest.MonkeyPatch, database: str, replicas: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("NKCINEMA_REPLICA_URLS", replicas)
    with pytest.raises(SettingsError, match="NKCINEMA_REPLICA_URLS") as raised:
        load_settings()
    assert replicas not in str(raised.value)


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Settings().max_page_size = 1  # type: ignore[misc]


def test_persisted_query_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NKCINEMA_PERSISTED_QUERIES", "NKCINEMA_TRUSTED_DOCUMENTS"):
        monkeypatch.delenv(name, raising=False)
    defaults = load_settings()
    assert (defaults.persisted_queries, defaults.trusted_documents) == (True, False)
    monkeypatch.setenv("NKCINEMA_PERSISTED_QUERIES", "off")
    monkeypatch.setenv("NKCINEMA_TRUSTED_DOCUMENTS", "true")
    monkeypatch.setenv("NKCINEMA_PERSISTED_QUERY_LIMIT", "5")
    monkeypatch.setenv("NKCINEMA_PERSISTED_QUERY_BYTES", "4096")
    settings = load_settings()
    assert (settings.persisted_queries, settings.trusted_documents) == (False, True)
    assert (settings.persisted_query_limit, settings.persisted_query_bytes) == (5, 4096)
    monkeypatch.setenv("NKCINEMA_TRUSTED_DOCUMENTS", "perhaps")
    with pytest.raises(SettingsError, match="NKCINEMA_TRUSTED_DOCUMENTS"):
        load_settings()
