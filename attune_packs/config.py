"""Configuration (DESIGN.md section 5): where things live and how the network behaves.

Precedence, highest first: explicit arguments (``--home``, ``--config``), the
environment (``ATTUNE_HOME``, ``ATTUNE_CONFIG``, ``ATTUNE_DATABASE_URL``), the
config file, built-in defaults.  A config file with an unknown key, a wrong
type or a value that could only fail later (a limit of 0 where 0 makes no
sense, a registry URL that can never be read) is refused here, once, with the
key's dotted name in the message (:func:`describe_value` words what was found).

Relative paths in the config file (``packs_dir``, a SQLite ``database_url``,
a registry ``url``) are relative to the config file's folder, so every command
finds the same files wherever it is run from; ``ATTUNE_DATABASE_URL`` is
relative to the current folder.  Both are made absolute here, once.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from attune_packs.errors import ConfigError

CONFIG_NAME = "config.yaml"
DB_NAME = "attune.db"

#: Seconds a command waits for another attune command on the same home by default.
DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_TIMEOUT_VARIABLE = "ATTUNE_LOCK_TIMEOUT"


@dataclass
class NetworkConfig:
    allow_http: bool = False
    timeout: float = 120.0  # 0: no limit
    connect_timeout: float = 10.0  # 0: no limit
    retries: int = 3  # 0: no retries
    index_max_bytes: int = 10 * 1024 * 1024  # 0: no limit
    archive_max_bytes: int = 100 * 1024 * 1024  # 0: no limit
    cache_ttl: int = 3600  # 0: always ask the server (conditionally)
    retry_backoff: float = 0.5  # seconds before the first retry, doubled for each next one


@dataclass
class ArchiveLimits:
    max_entries: int = 10_000
    max_entry_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024


#: The smallest value each number of a section may take.  Network limits of 0 mean
#: "no limit" / "none" (the network code treats them so); an archive limit of 0 would
#: refuse every archive, so those must be at least 1.
_MINIMUM: dict[str, int] = {
    **{f"network.{f.name}": 0 for f in fields(NetworkConfig)},
    **{f"archive.{f.name}": 1 for f in fields(ArchiveLimits)},
}


@dataclass
class RegistryConfig:
    name: str
    url: str
    priority: int = 100
    enabled: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def public_dict(self) -> dict[str, Any]:
        """Everything but the headers, which may hold credentials."""
        return {
            "name": self.name,
            "url": self.url,
            "priority": self.priority,
            "enabled": self.enabled,
        }


@dataclass
class Settings:
    home: Path
    config_file: Path
    packs_dir: Path
    database_url: str
    cache_dir: Path
    keep_versions: int = 2
    verify_checksums: bool = True
    require_checksums: bool = False
    registries: list[RegistryConfig] = field(default_factory=list)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    # The packs_dir as configured when it goes through a symbolic link (``packs_dir``
    # itself is then the real folder it was resolved to, once, here); else None.
    packs_dir_link: Path | None = None

    @property
    def lock_path(self) -> Path:
        return self.home / ".attune.lock"

    def enabled_registries(self) -> list[RegistryConfig]:
        """Enabled registries in ascending priority (stable for equal priorities)."""
        return sorted((r for r in self.registries if r.enabled), key=lambda r: r.priority)


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("attune", appauthor=False))


# --------------------------------------------------------------------------- words


def describe_value(value: Any) -> str:
    """A value as the user wrote it and, in words, what kind of value it is:
    ``'abc' (text)``, ``true (true/false)``, ``1.5 (a decimal number)``, ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (true/false)"
    if isinstance(value, int):
        return f"{value} (a whole number)"
    if isinstance(value, float):
        return f"{value!r} (a decimal number)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"{shown!r} (text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    kind = {"date": "a date", "datetime": "a date and time", "bytes": "binary data"}.get(
        type(value).__name__, "a value of another kind"
    )
    return f"{value} ({kind})" if kind != "binary data" else kind


_EXPECTED = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    dict: "a mapping (key: value lines)",
    list: "a list",
}


def _wrong(key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"config key '{key}' must be {expected}, got {describe_value(value)}")


def _check_scalar(key: str, value: Any, expected: type) -> Any:
    """``value`` if it is of the ``expected`` kind (an int is also a float), else a
    :class:`ConfigError` in words: ``must be a whole number, got 'abc' (text)``."""
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"config key '{key}' must be a finite number, got {value!r}")
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected in (bool, str, dict, list) and isinstance(value, expected):
        return value
    raise _wrong(key, _EXPECTED.get(expected, expected.__name__), value)


def _at_least(key: str, value: float, minimum: float) -> None:
    if value < minimum:
        rule = "must not be negative" if minimum == 0 else f"must be at least {minimum:g}"
        raise ConfigError(f"config key '{key}' {rule}, got {value:g}")


def _section(key: str, raw: Any, cls: type) -> Any:
    if raw is None:
        return cls()
    _check_scalar(key, raw, dict)
    known = {f.name: f for f in fields(cls)}
    values = {}
    for k, v in raw.items():
        if k not in known:
            raise ConfigError(f"unknown config key '{key}.{k}'")
        expected = {"bool": bool, "int": int, "float": float}[str(known[k].type)]
        values[k] = _check_scalar(f"{key}.{k}", v, expected)
        if expected in (int, float):
            _at_least(f"{key}.{k}", values[k], _MINIMUM.get(f"{key}.{k}", 0))
    return cls(**values)


# --------------------------------------------------------------------------- registries


def registry_url_problem(url: str, *, allow_http: bool = False) -> str | None:
    """Why a registry ``url`` can never be read, or ``None``: an ``https://`` URL
    (``http://`` with ``network.allow_http``) with a host and no credentials, query or
    fragment; a local ``file://`` URL; or a path (relative to the config file's folder)."""
    if not url.strip():
        return "must not be empty"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain control characters"
    if "://" not in url:
        return None  # a local path
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        if "@" in parts.netloc:
            return (
                "must not carry credentials: put them in the registry's headers "
                "(e.g. headers: {Authorization: 'Bearer ...'})"
            )
        if scheme == "http" and not allow_http:
            return "uses plain http://: use https:// (or set network.allow_http: true)"
        if not parts.hostname:
            return "has no host"
        if parts.query or parts.fragment or "?" in url or "#" in url:
            return "must not carry a query or a fragment"
        if any(ch.isspace() for ch in url):
            return "must not contain whitespace"
        return None
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return "must be a local file:// URL (file:///absolute/path)"
        return None
    return f"uses the unsupported scheme {scheme!r}: use https://, a local path or file://"


def _shown_url(url: str) -> str:
    """A registry URL safe to print (credentials, query and fragment hidden)."""
    from attune_packs.redaction import display_location

    return display_location(url)


def _registries(raw: Any, allow_http: bool) -> list[RegistryConfig]:
    if raw is None:
        return []
    _check_scalar("registries", raw, list)
    out: list[RegistryConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key = f"registries[{i}]"
        _check_scalar(key, item, dict)
        allowed = {"name", "url", "priority", "enabled", "headers"}
        for k in item:
            if k not in allowed:
                raise ConfigError(f"unknown config key '{key}.{k}'")
        for k in ("name", "url"):
            if k not in item:
                raise ConfigError(f"config key '{key}.{k}' is required")
            _check_scalar(f"{key}.{k}", item[k], str)
        name, url = item["name"], item["url"]
        if not name.strip():
            raise ConfigError(f"config key '{key}.name' must not be empty: name the registry")
        if name in seen:
            raise ConfigError(f"config key '{key}.name': duplicate registry name {name!r}")
        seen.add(name)
        problem = registry_url_problem(url, allow_http=allow_http)
        if problem:
            raise ConfigError(
                f"config key '{key}.url' of registry {name!r} ({_shown_url(url)!r}) {problem}"
            )
        headers = item.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ConfigError(
                f"config key '{key}.headers' must map header names to text values "
                "(e.g. Authorization: 'Bearer ...')"
            )
        out.append(
            RegistryConfig(
                name=name,
                url=url,
                priority=_check_scalar(f"{key}.priority", item.get("priority", 100), int),
                enabled=_check_scalar(f"{key}.enabled", item.get("enabled", True), bool),
                headers=dict(headers),
            )
        )
    return out


# --------------------------------------------------------------------------- paths


def _config_folder(config: Path) -> Path:
    """The folder relative paths in the config file are relative to."""
    return Path(os.path.abspath(config)).parent


def _packs_dir(value: str | None, home: Path, config: Path) -> tuple[Path, Path | None]:
    """``packs_dir`` (configured, or ``<home>/packs``) as the real folder it names, and the
    configured path when that went through a symbolic link.  Resolving once here means
    the store always works on the real path and nothing later depends on the link.  A
    relative ``packs_dir`` is relative to the config file's folder (as registry paths
    are), never to the folder a command happens to run in."""
    if value is not None and not value.strip():
        raise ConfigError(
            f"config key 'packs_dir' in {config} must not be empty: give a folder "
            f"(e.g. /var/lib/attune/packs), or remove the key to use {home / 'packs'}"
        )
    if value:
        try:
            given = Path(value).expanduser()
        except RuntimeError:  # ~user of an unknown user
            raise ConfigError(
                f"config key 'packs_dir' ({value!r}) in {config}: cannot expand '~'"
            ) from None
        if not given.is_absolute():
            given = _config_folder(config) / given
    else:
        given = home / "packs"
    shown = (
        f"config key 'packs_dir' ({value!r}) in {config}" if value else f"the packs folder {given}"
    )
    absolute = Path(os.path.abspath(given))
    if absolute == Path(absolute.anchor):
        raise ConfigError(
            f"{shown} must not be the root folder: installed packs need a folder of their "
            "own (e.g. /var/lib/attune/packs)"
        )
    real = Path(os.path.realpath(absolute))
    if real == Path(real.anchor):
        raise ConfigError(
            f"{shown} is a symbolic link to the root folder {real}: installed packs need a "
            "folder of their own (e.g. /var/lib/attune/packs)"
        )
    if real.exists() and not real.is_dir():
        raise ConfigError(f"{shown} is not a folder: {real}")
    return real, (absolute if real != absolute else None)


def _sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite://`` URL names (``None``: in memory, or not SQLite).  Kept free
    of SQLAlchemy: ``sqlite:///rel.db``, ``sqlite:////abs.db``, ``sqlite+driver:///...``,
    a query after ``?``, and ``sqlite:///file:PATH?uri=true`` URI filenames."""
    from urllib.parse import unquote, urlsplit

    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite" or not rest.startswith("/"):
        return None
    path, _, query = rest[1:].partition("?")
    if path.startswith("file:"):
        if "mode=memory" in query:
            return None
        path = unquote(urlsplit(path).path)
    if not path or path == ":memory:":
        return None
    return Path(path)


def _absolute_database_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite file made absolute against ``base`` (other URLs,
    absolute files and in-memory databases unchanged).  SQLAlchemy would otherwise open
    a relative file in whatever folder a command runs in, splitting the record."""
    from urllib.parse import quote, unquote

    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite" or not rest.startswith("/"):
        return url
    path, qmark, query = rest[1:].partition("?")
    if path.startswith("file:"):  # a URI filename (``?uri=true``)
        inner = path[len("file:") :]
        if not inner or inner.startswith("/") or inner == ":memory:" or "mode=memory" in query:
            return url
        absolute = os.path.abspath(base / unquote(inner))
        path = "file:" + quote(absolute, safe="/")
    else:
        if not path or path.startswith("/") or path == ":memory:":
            return url
        path = os.path.abspath(base / path)
    return f"{scheme}:///{path}{qmark}{query}"


def _hide_password(url: str) -> str:
    """A database URL safe to print: ``user:***@`` for ``user:secret@`` (the path as it is)."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def _check_database_folder(url: str, key: str, shown: str | None = None) -> None:
    """An explicitly given SQLite database must be in an existing folder: it is created
    on first use, but its folder never is (a typo would otherwise start an empty record)."""
    path = _sqlite_path(url)
    if path is None:
        return
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(
            f"{key}: the folder {os.fspath(folder) or '.'} of the database "
            f"{_hide_password(shown if shown is not None else url)!r} {what}; "
            "create it first or fix the URL (the database file itself is created on first use)"
        )


# --------------------------------------------------------------------------- environment


def lock_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a command waits for another attune command on the same home:
    ``$ATTUNE_LOCK_TIMEOUT`` (0: do not wait at all), else 600.  Anything but a
    number of seconds is a :class:`ConfigError` naming the variable."""
    env = os.environ if env is None else env
    raw = env.get(LOCK_TIMEOUT_VARIABLE)
    if raw is None:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{LOCK_TIMEOUT_VARIABLE} must be a number of seconds (0 or more), not {raw!r}"
        )
    return value


TOP_KEYS = {
    "packs_dir",
    "database_url",
    "keep_versions",
    "verify_checksums",
    "require_checksums",
    "registries",
    "network",
    "archive",
}


def load_settings(
    home: Path | str | None = None,
    config: Path | str | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings` from arguments, environment and the config file."""
    env = dict(os.environ) if env is None else env
    lock_timeout(env)  # refused here, by every command, not only when the lock is needed
    home_path = Path(home or env.get("ATTUNE_HOME") or default_home()).expanduser()
    explicit_config = config or env.get("ATTUNE_CONFIG")
    config_path = Path(explicit_config or home_path / CONFIG_NAME).expanduser()
    raw: Any = {}
    if config_path.exists():
        from attune_packs.yamlio import YamlError, load_yaml_file

        try:
            raw = load_yaml_file(config_path)
        except YamlError as exc:
            raise ConfigError(f"{config_path}: {exc}") from None
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{config_path}: the configuration must be a mapping")
    elif explicit_config:
        raise ConfigError(f"config file not found: {config_path}")
    for k in raw:
        if k not in TOP_KEYS:
            raise ConfigError(f"unknown config key '{k}' in {config_path}")
    packs_dir = raw.get("packs_dir")
    if packs_dir is not None:
        _check_scalar("packs_dir", packs_dir, str)
    db_url = env.get("ATTUNE_DATABASE_URL") or None
    if db_url is not None:
        db_url = _absolute_database_url(db_url, Path(os.path.abspath(os.curdir)))
        _check_database_folder(db_url, "ATTUNE_DATABASE_URL", env["ATTUNE_DATABASE_URL"])
    elif raw.get("database_url") is not None:
        given = _check_scalar("database_url", raw["database_url"], str)
        if not given.strip():
            raise ConfigError(
                f"config key 'database_url' in {config_path} must not be empty: give a URL "
                f"(e.g. sqlite:////var/lib/attune/attune.db), or remove the key to use "
                f"sqlite:///{home_path / DB_NAME}"
            )
        db_url = _absolute_database_url(given, _config_folder(config_path))
        _check_database_folder(db_url, f"config key 'database_url' in {config_path}", given)
    keep = _check_scalar("keep_versions", raw.get("keep_versions", 2), int)
    _at_least("keep_versions", keep, 1)
    network = _section("network", raw.get("network"), NetworkConfig)
    real_packs_dir, packs_dir_link = _packs_dir(packs_dir, home_path, config_path)
    return Settings(
        home=home_path,
        config_file=config_path,
        packs_dir=real_packs_dir,
        packs_dir_link=packs_dir_link,
        database_url=db_url or f"sqlite:///{home_path / DB_NAME}",
        cache_dir=home_path / "cache",
        keep_versions=keep,
        verify_checksums=_check_scalar("verify_checksums", raw.get("verify_checksums", True), bool),
        require_checksums=_check_scalar(
            "require_checksums", raw.get("require_checksums", False), bool
        ),
        registries=_registries(raw.get("registries"), network.allow_http),
        network=network,
        archive=_section("archive", raw.get("archive"), ArchiveLimits),
    )
