"""Configuration (DESIGN.md section 5): where things live and how the network behaves.

Precedence, highest first: explicit arguments (``--home``, ``--config``), the
environment (``ATTUNE_HOME``, ``ATTUNE_CONFIG``, ``ATTUNE_DATABASE_URL``), the
config file, built-in defaults.  A config file with an unknown key or a wrong
type is refused with the key's dotted name in the message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from attune_packs.errors import ConfigError

CONFIG_NAME = "config.yaml"
DB_NAME = "attune.db"


@dataclass
class NetworkConfig:
    allow_http: bool = False
    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 3
    index_max_bytes: int = 10 * 1024 * 1024
    archive_max_bytes: int = 100 * 1024 * 1024
    cache_ttl: int = 3600
    retry_backoff: float = 0.5  # seconds before the first retry, doubled for each next one


@dataclass
class ArchiveLimits:
    max_entries: int = 10_000
    max_entry_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024


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


def _type_name(t: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(t, str(t))


def _check_scalar(key: str, value: Any, expected: type) -> Any:
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected in (bool, str) and isinstance(value, expected):
        return value
    raise ConfigError(
        f"config key '{key}' must be {_type_name(expected)}, not {type(value).__name__}"
    )


def _section(key: str, raw: Any, cls: type) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"config key '{key}' must be a mapping")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for k, v in raw.items():
        if k not in known:
            raise ConfigError(f"unknown config key '{key}.{k}'")
        expected = {"bool": bool, "int": int, "float": float}[str(known[k].type)]
        values[k] = _check_scalar(f"{key}.{k}", v, expected)
        if expected in (int, float) and values[k] < 0:
            raise ConfigError(f"config key '{key}.{k}' must not be negative")
    return cls(**values)


def _registries(raw: Any) -> list[RegistryConfig]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError("config key 'registries' must be a list")
    out: list[RegistryConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key = f"registries[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"config key '{key}' must be a mapping")
        allowed = {"name", "url", "priority", "enabled", "headers"}
        for k in item:
            if k not in allowed:
                raise ConfigError(f"unknown config key '{key}.{k}'")
        for k in ("name", "url"):
            if k not in item:
                raise ConfigError(f"config key '{key}.{k}' is required")
            _check_scalar(f"{key}.{k}", item[k], str)
        headers = item.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ConfigError(f"config key '{key}.headers' must map strings to strings")
        if item["name"] in seen:
            raise ConfigError(f"config key '{key}.name': duplicate registry name {item['name']!r}")
        seen.add(item["name"])
        out.append(
            RegistryConfig(
                name=item["name"],
                url=item["url"],
                priority=_check_scalar(f"{key}.priority", item.get("priority", 100), int),
                enabled=_check_scalar(f"{key}.enabled", item.get("enabled", True), bool),
                headers=dict(headers),
            )
        )
    return out


def _packs_dir(value: str | None, home: Path, config: Path) -> tuple[Path, Path | None]:
    """``packs_dir`` (configured, or ``<home>/packs``) as the real folder it names, and the
    configured path when that went through a symbolic link.  Resolving once here means
    the store always works on the real path and nothing later depends on the link."""
    given = Path(value).expanduser() if value else home / "packs"
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


def _check_database_folder(url: str, key: str) -> None:
    """An explicitly given SQLite database must be in an existing folder: it is created
    on first use, but its folder never is (a typo would otherwise start an empty record)."""
    path = _sqlite_path(url)
    if path is None:
        return
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(
            f"{key}: the folder {os.fspath(folder) or '.'} of the database {url!r} {what}; "
            "create it first or fix the URL (the database file itself is created on first use)"
        )


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
    db_url = env.get("ATTUNE_DATABASE_URL") or raw.get("database_url")
    if db_url is not None:
        _check_scalar("database_url", db_url, str)
        key = (
            "ATTUNE_DATABASE_URL"
            if env.get("ATTUNE_DATABASE_URL")
            else f"config key 'database_url' in {config_path}"
        )
        _check_database_folder(db_url, key)
    keep = _check_scalar("keep_versions", raw.get("keep_versions", 2), int)
    if keep < 1:
        raise ConfigError("config key 'keep_versions' must be at least 1")
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
        registries=_registries(raw.get("registries")),
        network=_section("network", raw.get("network"), NetworkConfig),
        archive=_section("archive", raw.get("archive"), ArchiveLimits),
    )
