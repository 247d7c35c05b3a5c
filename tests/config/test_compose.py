"""Static checks of the deployment files: docker-compose.yml and the Dockerfile.

No Docker engine is needed: the compose file is parsed with PyYAML (anchors and merge keys
resolved as compose resolves them) and the Dockerfile is read instruction by instruction.
"""

import re
import shlex
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

SERVICES = ("web", "worker", "beat", "db", "redis", "mailpit")
APP_SERVICES = ("web", "worker", "beat")
WEASYPRINT_PACKAGES = (
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
    "fontconfig",
    "fonts-dejavu-core",
)


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def service(name: str) -> dict:
    return compose()["services"][name]


def environment(name: str) -> dict:
    env = service(name).get("environment", {})
    if isinstance(env, list):  # ["KEY=value", ...] form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def strings(node):
    """Every string in a parsed YAML tree, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(KEYWORD, arguments) pairs, continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return tuple(instructions)


def instructions(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def test_it_declares_every_service_with_a_healthcheck():
    services = compose()["services"]
    for name in SERVICES:
        assert name in services, f"service {name!r} is missing"
        healthcheck = services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
        test = healthcheck.get("test")
        assert test, f"{name}'s healthcheck has no test"
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: {test[0]!r}"
            assert len(test) > 1, f"{name}'s healthcheck runs nothing"


def test_it_has_no_obsolete_version_key():
    assert "version" not in compose()


def test_it_gives_every_service_an_image_or_a_build():
    for name, definition in compose()["services"].items():
        assert definition.get("image") or definition.get("build"), name
    assert service("db")["image"].startswith("postgres:16")
    assert service("redis")["image"].startswith("redis:7")
    assert service("mailpit")["image"].startswith("axllent/mailpit")
    for name in APP_SERVICES:
        assert service(name).get("build"), f"{name} does not build the project's image"


def test_it_declares_every_named_volume_it_mounts():
    declared = set(compose().get("volumes") or {})
    used = set()
    for definition in compose()["services"].values():
        for volume in definition.get("volumes", []):
            if isinstance(volume, dict):
                if volume.get("type", "volume") == "volume" and volume.get("source"):
                    used.add(volume["source"])
                continue
            source, separator, _ = volume.partition(":")
            if separator and not source.startswith(("/", ".", "~", "$")):
                used.add(source)
    assert {"pgdata", "redisdata"} <= used, "the database and redis data are not persisted"
    assert used <= declared, f"undeclared volumes: {sorted(used - declared)}"


def test_it_starts_the_app_services_once_db_and_redis_are_healthy_and_migrated():
    assert "migrate" in service("migrate")["command"]
    for name in APP_SERVICES:
        depends_on = service(name).get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency in ("db", "redis"):
            assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
                f"{name} does not wait for {dependency} to be healthy"
            )
        assert depends_on.get("migrate", {}).get("condition") == (
            "service_completed_successfully"
        ), f"{name} does not wait for the migrations"


def test_it_configures_the_app_services_from_one_shared_environment():
    env = environment("web")
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    # Taken from the environment, and compose must refuse to start without it.
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert str(env["DEBUG"]).lower() in ("false", "0", "no", "off")
    for name in ("worker", "beat", "migrate"):
        assert environment(name) == env, f"{name} does not share the app environment"


def test_it_allows_the_host_the_web_healthcheck_calls():
    healthcheck = " ".join(service("web")["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "127.0.0.1" in environment("web")["ALLOWED_HOSTS"].split(",")


def test_it_pings_the_worker_by_its_own_node_name():
    healthcheck = " ".join(service("worker")["healthcheck"]["test"])
    assert "inspect ping" in healthcheck
    assert "celery@$$HOSTNAME" in healthcheck


def test_it_escapes_every_dollar_compose_must_not_interpolate():
    for text in strings(compose()):
        unescaped = re.sub(r"\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+-][^}]*)?\}", "", text)
        assert "$" not in unescaped, f"bare $ interpolated by compose in {text!r}"


def test_it_builds_from_python_311_with_the_weasyprint_libraries():
    assert DOCKERFILE.is_file()
    base_images = instructions("FROM")
    assert base_images, "no FROM"
    assert base_images[0].startswith("python:3.11"), base_images[0]

    apt_installs = [run for run in instructions("RUN") if "apt-get install" in run]
    installed = {word for run in apt_installs for word in shlex.split(run)}
    missing = [package for package in WEASYPRINT_PACKAGES if package not in installed]
    assert not missing, f"WeasyPrint libraries not installed: {missing}"

    text = DOCKERFILE.read_text(encoding="utf-8").lower()
    assert "playwright install" not in text
    assert any("pip install" in run for run in instructions("RUN"))
    assert any("collectstatic --noinput" in run for run in instructions("RUN"))


def test_it_runs_the_image_unprivileged_without_a_baked_in_secret():
    users = instructions("USER")
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "8000" in " ".join(instructions("EXPOSE")).split()
    for env in instructions("ENV"):
        assert "SECRET_KEY" not in env, "SECRET_KEY is baked into the image"


def test_web_and_worker_scale_behind_one_load_balancer_with_nothing_on_local_disk():
    """`docker compose up --scale web=3 --scale worker=4`: no fixed name or host port on a
    scaled service, no volume of theirs; `lb` publishes the one port and proxies to `web`."""
    for name in ("web", "worker"):
        assert "container_name" not in service(name), f"{name} cannot scale with a fixed name"
        assert "ports" not in service(name), f"{name} cannot scale with a fixed host port"
        assert "volumes" not in service(name), f"{name} keeps nothing on local disk"
    assert service("lb")["ports"] == ["127.0.0.1:8000:8080"]
    config = compose()["configs"][service("lb")["configs"][0]["source"]]["content"]
    assert "http://web:8000" in config
    assert "resolver 127.0.0.11" in config  # scaled web containers found by Docker's DNS
    assert "X-Forwarded-Proto" in config  # Django still knows the request came over HTTPS
    # The replica and the release reach every app service through the shared environment.
    assert {"DATABASE_REPLICA_URL", "RELEVE_RELEASE"} <= set(environment("web"))
