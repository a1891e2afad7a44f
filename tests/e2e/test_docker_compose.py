"""Static checks for the container setup (no Docker engine is needed).

docker-compose.yml is parsed with PyYAML and the Dockerfile with a tiny
instruction parser, and the wiring between them is asserted. The scale profile's parts also
run, without Docker, in test_scale_topology.py (deploy/nginx.conf in a real nginx).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
APP_PORT = 8000


# --------------------------------------------------------------------------- helpers


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """Normalise a compose ``environment`` (mapping or list of K=V) to a dict."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {k: (v[0] if v else "") for k, *v in pairs}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _healthcheck_command(service: dict[str, Any]) -> str:
    check = service.get("healthcheck")
    assert isinstance(check, dict), "service has no healthcheck"
    assert not check.get("disable", False), "healthcheck is disabled"
    test = check.get("test")
    if isinstance(test, list):
        assert test, "healthcheck test is empty"
        assert test[0] in {"CMD", "CMD-SHELL"}, f"unexpected healthcheck form {test[0]!r}"
        command = " ".join(str(part) for part in test[1:])
    else:
        command = str(test or "")
    assert command.strip(), "healthcheck test has no command"
    return command


def _container_ports(service: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            target = entry.get("target")
        else:
            spec = str(entry).split("/", 1)[0]  # drop "/tcp"
            target = spec.rsplit(":", 1)[-1]
        if target is not None and str(target).isdigit():
            ports.add(int(target))
    return ports


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """Instructions of the final build stage as (KEYWORD, arguments)."""
    logical: list[str] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue  # comment inside a continuation
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    if buffer.strip():
        logical.append(buffer)

    instructions: list[tuple[str, str]] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            instructions = []  # only the final stage ends up in the image
        instructions.append((keyword, args.strip()))
    return instructions


def _exec_or_shell(args: str) -> list[str]:
    """Parse CMD/ENTRYPOINT arguments in exec (JSON) or shell form."""
    if args.startswith("["):
        parsed = json.loads(args)
        assert isinstance(parsed, list), "exec form must be a JSON array"
        return [str(part) for part in parsed]
    return ["/bin/sh", "-c", args]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose.get("services")
    assert isinstance(svcs, dict), "docker-compose.yml has no services mapping"
    return svcs


@pytest.fixture(scope="module")
def db(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert "db" in services, "no 'db' service"
    return services["db"]


@pytest.fixture(scope="module")
def app(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert "app" in services, "no 'app' service"
    return services["app"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return _dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def _instructions(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in dockerfile if kw == keyword]


# --------------------------------------------------------------------------- compose


def test_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"db", "app"} <= services.keys()


def test_db_image_is_postgres(db: dict[str, Any]) -> None:
    image = str(db.get("image", ""))
    name = image.split("@", 1)[0].split(":", 1)[0]
    assert name in {"postgres", "library/postgres", "docker.io/library/postgres"}, image


def test_db_healthcheck_uses_pg_isready(db: dict[str, Any]) -> None:
    command = _healthcheck_command(db)
    assert "pg_isready" in command
    env = _environment(db)
    user = env.get("POSTGRES_USER", "postgres")
    assert "-U" in shlex.split(command) and user in shlex.split(command)


def test_db_data_is_on_a_named_volume(compose: dict[str, Any], db: dict[str, Any]) -> None:
    named = set((compose.get("volumes") or {}).keys())
    sources = {
        (v.get("source") if isinstance(v, dict) else str(v).split(":", 1)[0])
        for v in db.get("volumes") or []
    }
    assert sources & named, f"db volumes {sources} use none of the named volumes {named}"


def test_app_builds_from_project_root(app: dict[str, Any]) -> None:
    build = app.get("build")
    assert build is not None, "app has no build section"
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    else:
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    assert (COMPOSE_FILE.parent / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).is_file()


def test_app_database_url_points_at_db_service(
    services: dict[str, dict[str, Any]], app: dict[str, Any], db: dict[str, Any]
) -> None:
    url = _environment(app).get("DATABASE_URL", "")
    parts = urlsplit(url)
    assert parts.scheme == "postgresql", url
    assert parts.hostname == "db" and parts.hostname in services, url
    assert parts.port in (None, 5432), url

    db_env = _environment(db)
    user = db_env.get("POSTGRES_USER", "postgres")
    assert parts.username == user
    assert parts.password == db_env.get("POSTGRES_PASSWORD")
    assert parts.path.lstrip("/") == db_env.get("POSTGRES_DB", user)


def test_app_waits_for_healthy_db(app: dict[str, Any]) -> None:
    depends = app.get("depends_on")
    assert isinstance(depends, dict), "depends_on must use the long form to carry a condition"
    assert "db" in depends
    assert (depends["db"] or {}).get("condition") == "service_healthy"


def test_app_publishes_port_8000(app: dict[str, Any]) -> None:
    assert APP_PORT in _container_ports(app)


def test_app_healthcheck_hits_readyz(app: dict[str, Any]) -> None:
    command = _healthcheck_command(app)
    assert re.search(rf"https?://(127\.0\.0\.1|localhost):{APP_PORT}/readyz\b", command), command
    # python:3.11-slim ships neither curl nor wget.
    assert not re.search(r"\b(curl|wget)\b", command), command


def test_app_restarts(app: dict[str, Any]) -> None:
    assert app.get("restart") in {"unless-stopped", "always", "on-failure"}


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_base_image(dockerfile: list[tuple[str, str]]) -> None:
    (base,) = _instructions(dockerfile, "FROM")
    image = next(tok for tok in base.split() if not tok.startswith("--"))
    assert image.startswith("python:3.11"), base


def test_dockerfile_exposes_8000(dockerfile: list[tuple[str, str]]) -> None:
    exposed = {
        int(port.split("/", 1)[0])
        for args in _instructions(dockerfile, "EXPOSE")
        for port in args.split()
    }
    assert APP_PORT in exposed


def test_dockerfile_has_healthcheck(dockerfile: list[tuple[str, str]]) -> None:
    checks = _instructions(dockerfile, "HEALTHCHECK")
    assert checks, "no HEALTHCHECK"
    last = checks[-1]
    assert last.upper() != "NONE"
    assert re.search(rf"(127\.0\.0\.1|localhost):{APP_PORT}/healthz\b", last), last
    assert not re.search(r"\b(curl|wget)\b", last), last


def test_dockerfile_runs_as_non_root(dockerfile: list[tuple[str, str]]) -> None:
    users = _instructions(dockerfile, "USER")
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":", 1)[0].strip()
    assert user and user not in {"root", "0"}, users[-1]
    # The user switch must happen before the process is started.
    keywords = [kw for kw, _ in dockerfile]
    assert max(i for i, kw in enumerate(keywords) if kw == "USER") < keywords.index("CMD")


def test_dockerfile_ships_migrations(dockerfile: list[tuple[str, str]]) -> None:
    sources: set[str] = set()
    for args in _instructions(dockerfile, "COPY"):
        tokens = [t for t in args.split() if not t.startswith("--")]
        sources.update(t.rstrip("/") for t in tokens[:-1])
    assert "." in sources or {"alembic.ini", "alembic"} <= sources, sources
    workdirs = _instructions(dockerfile, "WORKDIR")
    assert workdirs and workdirs[-1] == "/app"


def test_dockerfile_cmd_migrates_seeds_then_serves(dockerfile: list[tuple[str, str]]) -> None:
    cmds = _instructions(dockerfile, "CMD")
    assert cmds, "no CMD"
    argv = _exec_or_shell(cmds[-1])
    script = argv[-1] if argv[:1] in (["sh"], ["/bin/sh"]) and "-c" in argv else " ".join(argv)

    steps = ["nkcinema db upgrade", "nkcinema seed", "nkcinema serve"]
    positions = [script.find(step) for step in steps]
    assert all(p >= 0 for p in positions), f"missing step in CMD: {script!r}"
    assert positions == sorted(positions), f"steps out of order in CMD: {script!r}"
    # Each step must only run if the previous one succeeded.
    for i in range(len(steps) - 1):
        between = script[positions[i] + len(steps[i]) : positions[i + 1]]
        assert "&&" in between and ";" not in between and "||" not in between, between
    assert re.search(r"nkcinema serve\b.*--host\s+0\.0\.0\.0", script), script
    assert re.search(rf"nkcinema serve\b.*--port\s+{APP_PORT}\b", script), script


# --------------------------------------------------------------------------- scale profile

SCALE = ("replica", "app-2", "proxy")
REPLICATION_SCRIPT = ROOT / "deploy" / "postgres" / "replication.sh"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def _bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Host path (resolved from the project root) -> container path, of ``./…`` mounts."""
    mounts = {}
    for volume in service.get("volumes") or []:
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            mounts[str((ROOT / source).resolve())] = target
    return mounts


def test_scale_profile_adds_a_replica_a_second_app_and_a_proxy(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SCALE:
        assert services[name].get("profiles") == ["scale"], name
    # `docker compose up` alone still runs just the database and one app.
    assert not services["db"].get("profiles") and not services["app"].get("profiles")


def test_the_primary_lets_the_replica_stream(db: dict[str, Any]) -> None:
    assert _bind_mounts(db).get(str(REPLICATION_SCRIPT)) == (
        "/docker-entrypoint-initdb.d/replication.sh"
    )
    script = REPLICATION_SCRIPT.read_text(encoding="utf-8")
    assert re.search(r"CREATE ROLE replicator WITH REPLICATION LOGIN", script)
    assert "host replication replicator all scram-sha-256" in script
    assert REPLICATION_SCRIPT.stat().st_mode & 0o111, "the init script must be executable"


def test_the_replica_is_a_base_backup_of_the_primary_in_standby(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    replica = services["replica"]
    command = " ".join(str(part) for part in replica["command"])
    assert re.search(r"pg_basebackup -h db -U replicator -D \S+ -R -X stream", command)
    assert "hot_standby=on" in command
    password = re.search(
        r"PASSWORD '\$\{REPLICATION_PASSWORD:-(\w+)\}'", REPLICATION_SCRIPT.read_text()
    )
    assert password and _environment(replica)["PGPASSWORD"] == password.group(1)
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    sources = {str(v).split(":", 1)[0] for v in replica["volumes"]}
    assert sources & set(compose["volumes"]), "the replica keeps its data on a named volume"
    assert "pg_isready" in _healthcheck_command(replica)


def test_both_app_instances_read_from_the_replica(
    services: dict[str, dict[str, Any]], db: dict[str, Any]
) -> None:
    app, second = _environment(services["app"]), _environment(services["app-2"])
    assert app == second, "the two instances must be configured alike"
    primary = urlsplit(app["DATABASE_URL"])
    replicas = [urlsplit(url) for url in app["NKCINEMA_REPLICA_URLS"].split(",")]
    assert [r.hostname for r in replicas] == ["replica"]
    for replica in replicas:  # the replica holds the primary's roles and database
        assert (replica.username, replica.password, replica.path) == (
            primary.username,
            primary.password,
            primary.path,
        )


def test_only_the_first_instance_migrates(services: dict[str, dict[str, Any]]) -> None:
    second = services["app-2"]
    command = " ".join(second["command"])
    assert "serve" in command and "upgrade" not in command and "seed" not in command
    assert second["depends_on"]["app"]["condition"] == "service_healthy"
    assert second["image"] == services["app"]["image"]
    assert "/readyz" in _healthcheck_command(second)


def test_the_proxy_balances_both_instances(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert _bind_mounts(proxy).get(str(NGINX_CONF)) == "/etc/nginx/conf.d/default.conf"
    conf = NGINX_CONF.read_text(encoding="utf-8")
    upstream = re.search(r"upstream nkcinema \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = set(re.findall(r"server (\S+?):(\d+)", upstream.group(1)))
    assert servers == {("app", str(APP_PORT)), ("app-2", str(APP_PORT))}
    assert "proxy_pass http://nkcinema;" in conf
    assert 80 in _container_ports(proxy)
    for name in ("app", "app-2"):
        assert proxy["depends_on"][name]["condition"] == "service_healthy"
