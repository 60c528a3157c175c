"""YAML in and out: the C-accelerated safe loader when present, bounded against alias bombs."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import yaml

from attune_packs.fsutil import NotRegularFile, read_regular_file

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: A document whose aliases expand to more nodes than this is refused.
MAX_EXPANDED_NODES = 1_000_000
#: Deeper nesting is refused before the YAML library sees the text (libyaml's
#: composer recurses in C and crashes the interpreter on a few tens of thousands
#: of levels; newer libyaml refuses deep nesting itself, in its own words).
MAX_NESTING = 500
_NESTING_CHARS = "[{-?:"
_STANDARD_TAG = "tag:yaml.org,2002:"


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


# -- nesting: our own scanner -------------------------------------------------------------
#
# The depth check must not depend on the YAML library: libyaml looks ahead through a
# flow collection before it delivers a single event, and refuses (in its own words) a
# nesting it finds too deep, before any event pass of ours could count the levels.  So
# the levels are counted here, on the text, by a small line scanner that knows just
# enough YAML to tell where a collection starts: block sequences (``- ``), block
# mappings (``key:``, ``? ``), flow collections (``[``, ``{``) and the one-pair
# mappings inside flow sequences (``[a: b]``), while skipping comments, quoted
# scalars, block scalars (``|``, ``>``) and plain scalars.  Where it has to guess, it
# guesses deeper (a document it mistakes for a deep one is hostile-looking anyway).

_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_FLOW_SPECIAL = re.compile(r"[\[\]{},:?'\"#]")
_BLOCK_PLAIN_END = re.compile(r":(?=[ \t]|$)|[ \t]#")
_PROPERTY = re.compile(r"[^ \t\[\]{},]*")
_ANCHOR = re.compile(r"[0-9A-Za-z_-]*")
_SINGLE_QUOTED = re.compile(r"[^']*(?:''[^']*)*")
_DOUBLE_QUOTED = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*')
_BLOCK_HEADER = re.compile(r"[|>][-+]?([1-9])?[-+]?")
_SPACE = " \t"
_FLOW_END = ",[]{}"


class _TooDeep(Exception):
    pass


class _DepthScanner:
    """Counts the nesting of a YAML text line by line (no recursion, linear time)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.blocks: list[tuple[int, bool]] = []  # (column, is_sequence) of open block nodes
        self.flow: list[str] = []  # "[", "{", or "p" (a one-pair mapping in a sequence)
        self.quote = ""  # the quote character of a scalar that goes on past the line
        self.quote_col = 0
        self.flow_col = 0  # column of the outermost flow collection (for "[a]: b")
        self.flow_peak = 0  # its deepest level: one more if it turns out to be a key
        self.token_start = True  # in flow: may a quoted scalar start here?
        self.after_node = False  # in flow: just after a quoted scalar or a closed collection
        self.literal = False  # inside a block scalar
        self.literal_parent = -1
        self.literal_indent: int | None = None
        self.plain_above: int | None = None  # a plain scalar goes on below this column
        self.deepest = 0

    def _deeper(self) -> None:
        depth = len(self.blocks) + len(self.flow)
        if depth > self.deepest:
            self.deepest = depth
            if depth > self.limit:
                raise _TooDeep

    def _block(self, col: int, is_seq: bool) -> None:
        blocks = self.blocks
        if blocks and blocks[-1][0] == col:
            if blocks[-1][1] == is_seq:
                return
            if not is_seq:  # a key at the column of an indentless sequence ends it
                blocks.pop()
                if blocks and blocks[-1] == (col, False):
                    return
        blocks.append((col, is_seq))
        self._deeper()

    def line(self, line: str) -> None:
        if line[:3] in ("---", "...") and line[3:4] in ("", " ", "\t"):
            # A document marker ends whatever was open (or is an error inside it).
            self.blocks.clear()
            self.flow.clear()
            self.quote, self.literal, self.plain_above = "", False, None
            if line[:3] == "---":
                self._node(line, 3)
            return
        if self.literal:
            content = line.lstrip(" ")
            indent = len(line) - len(content)
            if not content.strip():
                return
            if self.literal_indent is None:
                if indent > self.literal_parent:
                    self.literal_indent = indent
                    return
            elif indent >= self.literal_indent:
                return
            self.literal = False
        pos = 0
        if self.quote:
            pos = self._quoted(line, 0)
            if self.quote:
                return
            if not self.flow:
                self._after_block_node(line, pos, self.quote_col)
                return
            self.token_start, self.after_node = False, True
        if self.flow:
            pos = self._flow(line, pos)
            if not self.flow and not self.quote:
                self._after_block_node(line, pos, self.flow_col, self.flow_peak)
            return
        content = line.lstrip(" ")
        col = len(line) - len(content)
        if not content or content[0] == "#" or not content.strip(_SPACE):
            return
        if self.plain_above is not None:
            if col > self.plain_above:
                # More of a multi-line plain scalar ("a: some\n  'text"): text, unless
                # it holds a key (an error: count it) or a comment (which ends it).
                found = _BLOCK_PLAIN_END.search(line, col)
                if found is None:
                    return
                self.plain_above = None
                if line[found.start()] != ":":
                    return
            self.plain_above = None
        if col == 0 and line[0] == "%" and not self.blocks:
            return  # a directive
        blocks = self.blocks
        while blocks and blocks[-1][0] > col:
            blocks.pop()
        self._node(line, col)

    def _node(self, line: str, pos: int) -> None:
        """Block context: what starts at ``pos`` (and what follows it on the line)."""
        end = len(line)
        start = -1  # where the node began: at its first property (anchor, tag), if any
        while True:
            while pos < end and line[pos] in _SPACE:
                pos += 1
            if pos >= end:
                return
            ch = line[pos]
            nxt = line[pos + 1 : pos + 2]
            col = start if start >= 0 else pos
            if ch == "#":
                return
            if ch in "-?:" and nxt in ("", " ", "\t"):
                self._block(col if ch == ":" else pos, ch == "-")
                pos, start = pos + 1, -1
                continue
            if ch in "&!*":
                name = _PROPERTY if ch == "!" else _ANCHOR
                start, pos = col, name.match(line, pos + 1).end()  # type: ignore[union-attr]
                if ch == "*":
                    self._after_block_node(line, pos, col)
                    return
                continue
            if ch in "[{":
                self.flow_col, self.flow_peak = col, 0
                self.token_start, self.after_node = True, False
                pos = self._flow(line, pos)
                if not self.flow and not self.quote:
                    self._after_block_node(line, pos, self.flow_col, self.flow_peak)
                return
            if ch in "|>":
                # Its lines are indented more than the enclosing block node, and by
                # at least one column (libyaml's rule, also at the top level).
                parent = max(self.blocks[-1][0] if self.blocks else 0, 0)
                header = _BLOCK_HEADER.match(line, pos)
                digit = header.group(1) if header else None
                self.literal = True
                self.literal_parent = parent
                self.literal_indent = parent + int(digit) if digit else None
                return
            if ch in "'\"":
                self.quote, self.quote_col = ch, col
                pos = self._quoted(line, pos + 1)
                if not self.quote:
                    self._after_block_node(line, pos, self.quote_col)
                return
            found = _BLOCK_PLAIN_END.search(line, pos)
            if found is None:
                # A plain scalar to the end of the line: the lines below that are
                # indented more than its block node continue it.
                self.plain_above = self.blocks[-1][0] if self.blocks else -1
                return
            if line[found.start()] != ":":
                return  # a comment ends it
            self._block(col, False)  # a plain key
            pos, start = found.end(), -1

    def _after_block_node(self, line: str, pos: int, col: int, peak: int = 0) -> None:
        """After a quoted scalar, alias or flow collection in block context: a key?
        (``peak``: how deep that flow collection went, now one level deeper.)"""
        end = len(line)
        while pos < end and line[pos] in _SPACE:
            pos += 1
        if pos < end and line[pos] == ":":
            self._block(col, False)
            if peak:
                self.flow.extend("[" * peak)
                self._deeper()
                del self.flow[-peak:]
            self._node(line, pos + 1)

    def _quoted(self, line: str, pos: int) -> int:
        """Scan a quoted scalar from ``pos``; clears ``self.quote`` when it closes."""
        pattern = _SINGLE_QUOTED if self.quote == "'" else _DOUBLE_QUOTED
        end = pattern.match(line, pos).end()  # type: ignore[union-attr]
        if end < len(line) and line[end] == self.quote:
            self.quote = ""
            return end + 1
        return len(line)

    def _flow(self, line: str, pos: int) -> int:
        """Flow context from ``pos``; returns where the outermost collection closed."""
        flow = self.flow
        end = len(line)
        while True:
            found = _FLOW_SPECIAL.search(line, pos)
            stop = found.start() if found else end
            between = line[pos:stop]
            if between.strip(_SPACE):
                # Plain text (or node properties, after which a quoted scalar may start).
                words = between.split()
                self.token_start = self.token_start and all(w[0] in "!&" for w in words)
                self.after_node = False
            if found is None:
                return end
            ch = line[stop]
            pos = stop + 1
            nxt = line[pos : pos + 1]
            if ch in "[{":
                flow.append(ch)
                self._deeper()
                if len(flow) > self.flow_peak:
                    self.flow_peak = len(flow)
                self.token_start, self.after_node = True, False
            elif ch in "]}":
                if flow and flow[-1] == "p":
                    flow.pop()
                if flow:
                    flow.pop()
                self.token_start, self.after_node = False, True
                if not flow:
                    return pos
            elif ch == ",":
                if flow and flow[-1] == "p":
                    flow.pop()
                self.token_start, self.after_node = True, False
            elif ch in ":?":
                indicator = nxt in ("", " ", "\t") or nxt in _FLOW_END
                if ch == ":" and self.after_node:
                    indicator = True
                if indicator:
                    if flow and flow[-1] == "[":
                        flow.append("p")
                        self._deeper()
                        if len(flow) > self.flow_peak:
                            self.flow_peak = len(flow)
                    self.token_start, self.after_node = True, False
                else:
                    self.token_start = self.after_node = False
            elif ch == "#":
                if stop == 0 or line[stop - 1] in _SPACE:
                    return end  # a comment
                self.token_start = self.after_node = False
            elif self.token_start:  # a quote
                self.quote = ch
                pos = self._quoted(line, pos)
                if self.quote:
                    return end
                self.token_start, self.after_node = False, True
            else:
                self.after_node = False


def nesting_depth(text: str, limit: int = MAX_NESTING) -> int:
    """How deeply ``text`` nests collections, counted without the YAML library; the
    count stops (returning ``limit + 1``) as soon as it passes ``limit``."""
    scanner = _DepthScanner(limit)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        for line in _LINE_BREAK.split(text):
            scanner.line(line)
    except _TooDeep:
        pass
    return scanner.deepest


def _check_nesting(text: str | bytes) -> None:
    """Refuse documents nested deeper than MAX_NESTING (our own count, see above)."""
    sample = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    # Every nesting level needs at least one of these characters: skip the scan for
    # the (usual) documents that cannot possibly be that deep.
    if sum(sample.count(c) for c in _NESTING_CHARS) <= MAX_NESTING:
        return
    if nesting_depth(sample, MAX_NESTING) > MAX_NESTING:
        raise YamlError(f"invalid YAML: nested more than {MAX_NESTING} levels deep")


# -- loading -------------------------------------------------------------------------------


def _tag_name(tag: str | None) -> str:
    if not tag:
        return "value"
    if tag.startswith(_STANDARD_TAG):
        return "!!" + tag[len(_STANDARD_TAG) :]
    return f"!<{tag}>" if not tag.startswith("!") else tag


def _node_text(node: Any) -> str:
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        if len(value) > 40:
            value = value[:37] + "..."
        return repr(value)
    return "this mapping" if isinstance(node, yaml.MappingNode) else "this sequence"


def _refusal(node: Any, exc: Exception) -> str:
    """Why a constructor refused ``node``, in our words."""
    tag = _tag_name(node.tag)
    if tag == "!!int" and isinstance(node, yaml.ScalarNode):
        digits = str(node.value).lstrip("+-").replace("_", "")
        if digits.isdigit() and len(digits) > 1000:
            return f"an integer of {len(digits)} digits is too long for {tag}"
    why = f"{_node_text(node)} is not a valid {tag}"
    if tag == "!!timestamp" and isinstance(exc, ValueError) and str(exc):
        # A well-formed date out of range: say which part ("month must be in 1..12").
        why += f" ({str(exc).splitlines()[0]})"
    return why


def _where(mark: Any) -> str:
    if mark is None or getattr(mark, "line", None) is None:
        return ""
    return f" at line {mark.line + 1}, column {mark.column + 1}"


class _BadValue(Exception):
    """A constructor refused a node: carries our message (with the node's position)."""


class _GuardedLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, with every failure of a value's constructor (a bad ``!!bool``,
    ``!!timestamp``, ``!!int``, ``!!float``, ``!!binary``) reported by us, at the
    node's line, instead of the ``KeyError``/``AttributeError``/``ValueError`` the
    library lets out (or, for base64, the garbage it decodes)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A key given twice in one mapping is refused (the library keeps the last one
        silently, so ``ref: a`` then ``ref: b`` would install ``b`` without a word)."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _value in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _BadValue(
                        f"duplicate key {key_node.value!r}{_where(key_node.start_mark)}"
                        f" (first given at line {seen[key] + 1})"
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_strict_binary(self, node: Any) -> bytes:
        text = "".join(str(self.construct_scalar(node)).split())
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise _BadValue(
                f"invalid YAML value{_where(node.start_mark)}: "
                f"{_node_text(node)} is not valid base64 (!!binary)"
            ) from None


def _guarded(construct: Any) -> Any:
    def run(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (_BadValue, yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as exc:
            where = _where(node.start_mark)
            raise _BadValue(f"invalid YAML value{where}: {_refusal(node, exc)}") from None

    return run


for _name in ("bool", "int", "float", "timestamp"):
    _tag = _STANDARD_TAG + _name
    _GuardedLoader.add_constructor(_tag, _guarded(_Loader.yaml_constructors[_tag]))
_GuardedLoader.add_constructor(_STANDARD_TAG + "binary", _GuardedLoader.construct_strict_binary)
del _name, _tag


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely; raise :class:`YamlError` with one line.

    Whatever the YAML library raises (its own errors, or any exception out of a
    value's constructor) comes out as a :class:`YamlError` in our words, with the
    line and column where they are known."""
    try:
        _check_nesting(text)
        data = yaml.load(text, Loader=_GuardedLoader)
    except _BadValue as exc:
        raise YamlError(str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        where = _where(exc.problem_mark)
        raise YamlError(f"invalid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    except YamlError:
        raise
    except MemoryError:
        raise YamlError("invalid YAML: the document is too large to load") from None
    except Exception as exc:
        raise YamlError(
            f"invalid YAML: the document cannot be read ({type(exc).__name__})"
        ) from None
    try:
        _expanded_size(data)
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    return data


def load_yaml_file(path: Path) -> Any:
    """Read and parse ``path``; a FIFO or other special file is refused without blocking.

    Messages do not repeat the path: callers put the name the user knows in front.
    """
    try:
        raw = read_regular_file(path)
    except NotRegularFile as exc:
        raise YamlError(f"it is {exc.kind}, not a regular file") from None
    except OSError as exc:
        raise YamlError(f"cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not valid UTF-8 (byte {exc.start})") from None
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
