"""YAML in and out: the C-accelerated safe loader when present, bounded against alias bombs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: A document whose aliases expand to more nodes than this is refused.
MAX_EXPANDED_NODES = 1_000_000
#: Deeper nesting is refused before composing (libyaml's composer recurses in C
#: and crashes the interpreter on a few tens of thousands of levels).
MAX_NESTING = 500
_NESTING_CHARS = "[{-?:"


class YamlError(ValueError):
    """Malformed or hostile YAML; the message is one line."""


def _expanded_size(root: Any) -> int:
    """Count nodes as if every alias were copied, without copying (memoised by identity)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(obj: Any) -> int:
        if not isinstance(obj, (dict, list)):
            return 1
        key = id(obj)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise YamlError("recursive alias: the document refers to itself")
        in_progress.add(key)
        items = list(obj.items()) if isinstance(obj, dict) else [(None, v) for v in obj]
        total = 1
        for _, value in items:
            total += size(value)
            if total > MAX_EXPANDED_NODES:
                raise YamlError(
                    f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases"
                )
        in_progress.discard(key)
        sizes[key] = total
        return total

    size(root)
    return sizes.get(id(root), 1)


def _check_nesting(text: str | bytes) -> None:
    """Refuse documents nested deeper than MAX_NESTING (streamed events, no recursion)."""
    sample = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    # Every nesting level needs at least one of these characters: skip the event
    # pass for the (usual) documents that cannot possibly be that deep.
    if sum(sample.count(c) for c in _NESTING_CHARS) <= MAX_NESTING:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                raise YamlError(f"invalid YAML: nested more than {MAX_NESTING} levels deep")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely; raise :class:`YamlError` with one line."""
    try:
        _check_nesting(text)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlError(f"invalid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    except YamlError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        # A constructor refusing a scalar: an over-long integer, a bad timestamp, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise YamlError(f"invalid YAML value: {first}") from None
    try:
        _expanded_size(data)
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    return data


def load_yaml_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"{path.name} is not valid UTF-8 (byte {exc.start})") from None
    return load_yaml(text)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


class _Quoted(str):
    """A string value written in double quotes."""


class _QuotingDumper(_Dumper):  # type: ignore[misc, valid-type]
    pass


_QuotingDumper.add_representer(
    _Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"')
)


def _quote_values(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _quote_values(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_quote_values(v) for v in obj]
    return _Quoted(obj) if isinstance(obj, str) else obj


def dump_yaml_canonical(data: Any) -> str:
    """One canonical text for ``data``: keys in the given order, every string value
    double-quoted, ASCII only (other characters escaped), block style, no line wrapping."""
    return yaml.dump(
        _quote_values(data),
        Dumper=_QuotingDumper,
        sort_keys=False,
        allow_unicode=False,
        default_flow_style=False,
        width=2**31 - 1,
    )
