"""Safe YAML loading with line and column marks, and stable dumping.

The loader builds plain Python data (dicts, lists, str, int, float, bool,
None) straight from the parser's event stream, without PyYAML's object
construction, so that no tag can ever run code. Walking the events ourselves
also gives every guard in one place: duplicate keys, tabs, unsafe tags, alias
bombs and very deep nesting each become a :class:`~leadsim.errors.Problem` at
the line and column where the reader can fix them.

Unquoted dates and timestamps (``as_of: 2026-06-30``) become ISO strings, so
the data stays JSON-compatible and a date means the same in every code path.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from leadsim.errors import CriteriaError, LeadsimError, Problem

logger = logging.getLogger(__name__)

Marks = dict[tuple[str | int, ...], tuple[int, int]]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAPPING_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQUENCE_TAGS = {None, "!", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class YamlLimits:
    """Guards against hostile or accidental input.

    ``max_bytes`` is checked before a file is read, so a huge file fails at
    once. ``max_values`` bounds the number of values after aliases are
    expanded (the "billion laughs" attack) and ``max_aliases`` the number of
    alias uses.
    """

    max_bytes: int = 5_000_000
    max_depth: int = 50
    max_aliases: int = 200
    max_values: int = 500_000


DEFAULT_LIMITS = YamlLimits()


class _Stop(Exception):
    """Internal: a problem that ends the walk over the events."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class _Open:
    """A mapping or sequence whose end event has not been seen yet."""

    container: dict | list
    path: tuple[str | int, ...]
    anchor: str | None
    key: str | None = None  # a mapping's pending key, once read
    key_mark: tuple[int, int] = (0, 0)
    first_seen: dict[str, tuple[int, int]] | None = None


def load_yaml(
    text: str,
    source: str = "<input>",
    *,
    expect_mapping: bool = True,
    error_type: type[LeadsimError] = CriteriaError,
    limits: YamlLimits = DEFAULT_LIMITS,
) -> tuple[Any, Marks]:
    """Parse one YAML document into plain data and its marks.

    The marks map each key path (``("mql", "fit", "rules", 0)``) to the 1-based
    ``(line, column)`` where that key or sequence item starts; the empty path
    is the document itself. Raises ``error_type`` with a located problem for
    malformed YAML, tabs used for indentation, duplicate keys, tags other than
    the plain JSON-like ones, alias bombs, nesting deeper than
    ``limits.max_depth`` and, when ``expect_mapping``, a document that is not
    a mapping.
    """
    if len(text) > limits.max_bytes:
        raise error_type.single(_too_big_message(len(text), limits), file=source)

    builder = _Builder(text, source, limits)
    try:
        data = builder.run()
    except _Stop as stop:
        raise error_type([*builder.problems, stop.problem]) from None
    except yaml.YAMLError as error:
        problem = _syntax_problem(error, text, source)
        raise error_type([*builder.problems, problem]) from None
    if builder.problems:
        raise error_type(builder.problems)

    if expect_mapping and not isinstance(data, dict):
        line, column = builder.marks.get((), (1, 1))
        raise error_type.single(
            _not_mapping_message(data), file=source, line=line, column=column
        )
    return data, builder.marks


def read_yaml_text(
    path: str | os.PathLike[str],
    *,
    error_type: type[LeadsimError] = CriteriaError,
    limits: YamlLimits = DEFAULT_LIMITS,
) -> str:
    """Read a YAML file as UTF-8 text, refusing oversized and non-text files.

    The size is checked before reading. A byte-order mark is dropped. Errors
    (missing file, a directory, unreadable, not UTF-8) are raised as
    ``error_type`` naming the file and, for bad bytes, the line and column.
    """
    file = str(path)
    location = Path(path)
    try:
        size = location.stat().st_size
    except FileNotFoundError:
        raise error_type.single(
            "file not found; check the path and the current directory", file=file
        ) from None
    except OSError as error:
        raise error_type.single(
            f"cannot read the file: {error.strerror}", file=file
        ) from None

    if location.is_dir():
        raise error_type.single(
            "this is a directory; give the path of a YAML file", file=file
        )
    if size > limits.max_bytes:
        raise error_type.single(_too_big_message(size, limits), file=file)

    try:
        raw = location.read_bytes()
    except OSError as error:
        raise error_type.single(
            f"cannot read the file: {error.strerror}", file=file
        ) from None
    return decode_utf8(raw, file, error_type=error_type)


def decode_utf8(
    raw: bytes, source: str, *, error_type: type[LeadsimError] = CriteriaError
) -> str:
    """Decode UTF-8 bytes (a byte-order mark is allowed) or raise a located error."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise error_type.single(
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be "
            "decoded); save it as UTF-8",
            file=source,
            line=line,
            column=column,
        ) from None


def load_yaml_file(
    path: str | os.PathLike[str],
    *,
    expect_mapping: bool = True,
    error_type: type[LeadsimError] = CriteriaError,
    limits: YamlLimits = DEFAULT_LIMITS,
) -> tuple[str, Any, Marks]:
    """Read and parse a YAML file; return its text, data and marks."""
    text = read_yaml_text(path, error_type=error_type, limits=limits)
    data, marks = load_yaml(
        text,
        str(path),
        expect_mapping=expect_mapping,
        error_type=error_type,
        limits=limits,
    )
    return text, data, marks


def nearest_mark(marks: Marks, path: Sequence[str | int]) -> tuple[int, int]:
    """The mark of ``path`` or, failing that, of its closest ancestor."""
    key = tuple(path)
    while key:
        if key in marks:
            return marks[key]
        key = key[:-1]
    return marks.get((), (0, 0))


class _Builder:
    """Turns the parser's events into plain data, recording marks."""

    def __init__(self, text: str, source: str, limits: YamlLimits) -> None:
        self.text = text
        self.source = source
        self.limits = limits
        self.loader: Any = None
        self.marks: Marks = {}
        self.problems: list[Problem] = []  # found and walked past
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.values = 0
        self.aliases = 0
        self.documents = 0
        self.root: Any = None

    def run(self) -> Any:
        """Walk the whole event stream; return the document's data."""
        try:
            self.loader = _Loader(self.text)
        except UnicodeEncodeError as error:
            raise self._problem_at(
                f"the text holds a character that cannot be saved as UTF-8 "
                f"({error.object[error.start]!r}); remove it",
                error.start,
            ) from None
        try:
            while True:
                event = self.loader.get_event()
                if isinstance(event, yaml.StreamEndEvent):
                    break
                self._handle(event)
        finally:
            self.loader.dispose()
        return self.root

    def _problem(self, message: str, mark: Any) -> _Stop:
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return _Stop(Problem(message, file=self.source, line=line, column=column))

    def _problem_at(self, message: str, position: int) -> _Stop:
        line, column = _line_column(self.text, position)
        return _Stop(Problem(message, file=self.source, line=line, column=column))

    def _note(self, stop: _Stop) -> None:
        """Keep a problem that does not stop the walk, so all are reported."""
        self.problems.append(stop.problem)

    def _handle(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._problem(
                    "the file holds more than one YAML document; keep one and "
                    "remove the extra '---'",
                    event.start_mark,
                )
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._start(event)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._end()

    def _count(self, amount: int, mark: Any) -> None:
        self.values += amount
        if self.values > self.limits.max_values:
            raise self._problem(
                f"the document expands to more than {self.limits.max_values:,} "
                "values (aliases included); write the values out or make the "
                "file smaller",
                mark,
            )

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        mark = event.start_mark
        self._count(1, mark)
        if self.stack and isinstance(self.stack[-1].container, dict):
            if self.stack[-1].key is None:
                self._key(event)
                return
        value = self._scalar_value(event)
        self._place(value, mark, event.anchor, size=1)

    def _key(self, event: yaml.ScalarEvent) -> None:
        parent = self.stack[-1]
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        if event.tag not in (None, "!", "tag:yaml.org,2002:str"):
            self._allowed_tag(event.tag, event.start_mark)
        if event.value == "<<" and event.implicit[0]:
            raise self._problem(
                "merge keys ('<<') are not supported; write the keys out",
                event.start_mark,
            )

        assert parent.first_seen is not None
        earlier = parent.first_seen.get(event.value)
        if earlier is not None:
            self._note(
                self._problem(
                    f"duplicate key '{event.value}' (first at line {earlier[0]}, "
                    f"column {earlier[1]}); keep one of them",
                    event.start_mark,
                )
            )
        else:
            parent.first_seen[event.value] = mark
        parent.key = event.value
        parent.key_mark = mark

    def _scalar_value(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if not self._allowed_tag(tag, event.start_mark):
            return None
        if tag == "tag:yaml.org,2002:str":
            return event.value

        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, yaml.YAMLError):
            self._note(
                self._problem(
                    f"'{event.value}' is not a valid {tag.rsplit(':', 1)[-1]}; "
                    "put it in quotes if it is meant as text",
                    event.start_mark,
                )
            )
            return None
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        return value

    def _allowed_tag(self, tag: str | None, mark: Any) -> bool:
        """Whether ``tag`` is a plain value's; notes a problem when it is not."""
        if tag in _SCALAR_TAGS:
            return True
        shown = str(tag).replace("tag:yaml.org,2002:", "!!")
        self._note(
            self._problem(
                f"the tag '{shown}' is not allowed (only plain YAML values are "
                "read, nothing is constructed); remove the tag",
                mark,
            )
        )
        return False

    def _alias(self, event: yaml.AliasEvent) -> None:
        mark = event.start_mark
        self.aliases += 1
        if self.aliases > self.limits.max_aliases:
            raise self._problem(
                f"more than {self.limits.max_aliases} aliases; write the values "
                "out instead of repeating '*' references",
                mark,
            )
        if event.anchor in self.open_anchors:
            raise self._problem(
                f"the alias '*{event.anchor}' refers to a value that contains it; "
                "remove the recursive reference",
                mark,
            )
        if event.anchor not in self.anchors:
            raise self._problem(
                f"unknown alias '*{event.anchor}'; define '&{event.anchor}' before "
                "using it",
                mark,
            )

        value, size = self.anchors[event.anchor]
        self._count(size, mark)
        if self.stack and isinstance(self.stack[-1].container, dict):
            if self.stack[-1].key is None:
                raise self._problem(
                    "an alias cannot be used as a key; write the key out", mark
                )
        self._place(value, mark, None, size)

    def _start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        mark = event.start_mark
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        allowed = _MAPPING_TAGS if is_mapping else _SEQUENCE_TAGS
        if event.tag not in allowed:
            self._allowed_tag(event.tag, mark)
        if self.stack and isinstance(self.stack[-1].container, dict):
            if self.stack[-1].key is None:
                raise self._problem(
                    "a key must be plain text, not a list or mapping; quote it", mark
                )
        if len(self.stack) >= self.limits.max_depth:
            raise self._problem(
                f"nesting deeper than {self.limits.max_depth} levels; flatten the "
                "structure",
                mark,
            )

        self._count(1, mark)
        path = self._child_path()
        self.marks[path] = (
            (mark.line + 1, mark.column + 1)
            if not self.stack
            else self._item_mark(mark)
        )
        if event.anchor:
            self.open_anchors.add(event.anchor)
        container: dict | list = {} if is_mapping else []
        self.stack.append(
            _Open(container, path, event.anchor, first_seen={} if is_mapping else None)
        )

    def _end(self) -> None:
        closed = self.stack.pop()
        if closed.anchor:
            self.open_anchors.discard(closed.anchor)
            self.anchors[closed.anchor] = (closed.container, _size(closed.container))
        if not self.stack:
            self.root = closed.container
            return
        self._attach(closed.container)

    def _child_path(self) -> tuple[str | int, ...]:
        if not self.stack:
            return ()
        parent = self.stack[-1]
        if isinstance(parent.container, dict):
            assert parent.key is not None
            return (*parent.path, parent.key)
        return (*parent.path, len(parent.container))

    def _item_mark(self, mark: Any) -> tuple[int, int]:
        parent = self.stack[-1]
        if isinstance(parent.container, dict):
            return parent.key_mark
        return (mark.line + 1, mark.column + 1)

    def _place(self, value: Any, mark: Any, anchor: str | None, size: int) -> None:
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            self.marks[()] = (mark.line + 1, mark.column + 1)
            return
        self.marks[self._child_path()] = self._item_mark(mark)
        self._attach(value)

    def _attach(self, value: Any) -> None:
        parent = self.stack[-1]
        if isinstance(parent.container, dict):
            assert parent.key is not None
            parent.container[parent.key] = value
            parent.key = None
        else:
            parent.container.append(value)


def _size(value: Any) -> int:
    """Count the values in a finished anchored node (bounded by max_values)."""
    count = 0
    pending = [value]
    while pending:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def _syntax_problem(error: yaml.YAMLError, text: str, source: str) -> Problem:
    """Turn a PyYAML parse error into a located problem that says what to fix."""
    if isinstance(error, yaml.reader.ReaderError):
        line, column = _line_column(text, error.position)
        return Problem(
            f"the file holds a control character (#x{error.character:04x}) that "
            "YAML does not allow; remove it, or check that this is a text file",
            file=source,
            line=line,
            column=column,
        )
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    tab = _tab_near(text, line)
    if tab:
        return Problem(
            "a tab is used for indentation; YAML allows spaces only: replace the "
            "tab with spaces",
            file=source,
            line=tab[0],
            column=tab[1],
        )

    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    detail = f"{problem} ({context})" if context else problem
    return Problem(
        f"malformed YAML: {detail}; check the indentation, colons, brackets and "
        "quotes here or just above",
        file=source,
        line=line,
        column=column,
    )


def _line_column(text: str, position: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset in ``text``."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _tab_near(text: str, line: int) -> tuple[int, int] | None:
    """The first tab in the indentation at or just before ``line``, if any."""
    lines = text.splitlines()
    for number in range(max(line - 1, 1), min(line, len(lines)) + 1):
        content = lines[number - 1]
        indent = content[: len(content) - len(content.lstrip(" \t"))]
        if "\t" in indent:
            return number, indent.index("\t") + 1
    return None


def _too_big_message(size: int, limits: YamlLimits) -> str:
    return (
        f"the file is {_amount(size)}, over the {_amount(limits.max_bytes)} limit "
        "for this kind of file; check that this is the right file"
    )


def _amount(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _not_mapping_message(data: Any) -> str:
    if data is None:
        return "the document is empty; it must be a mapping of keys to values"
    found = "a list" if isinstance(data, list) else f"a single value ({data!r})"
    return f"the document must be a mapping of keys to values (key: value), not {found}"


class _BlockDumper(yaml.SafeDumper):
    """A safe dumper that indents lists under their key and never writes anchors.

    Containers that fit in ``flow_width`` characters and hold only values
    (or other such small containers) are written on one line, in flow style.
    """

    flow_width = 0

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # PyYAML writes list items flush with their parent key by default;
        # indenting them reads better and matches how people write criteria.
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def represent_str(self, data: str) -> yaml.ScalarNode:
        # PyYAML writes these Unicode line breaks unquoted, and reads them back
        # as spaces; double quotes keep them as written.
        if any(char in data for char in _UNICODE_BREAKS):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)

    def represent_dict(self, data: dict) -> yaml.MappingNode:
        flow = _fits_on_a_line(data, self.flow_width)
        return self.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)

    def represent_list(self, data: list) -> yaml.SequenceNode:
        flow = _fits_on_a_line(data, self.flow_width)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")
_BlockDumper.add_representer(str, _BlockDumper.represent_str)
_BlockDumper.add_representer(dict, _BlockDumper.represent_dict)
_BlockDumper.add_representer(list, _BlockDumper.represent_list)


def _fits_on_a_line(data: dict | list, width: int) -> bool:
    """Whether a small container of plain values reads best on one line."""
    if width <= 0 or not data:
        return False
    values = data.values() if isinstance(data, dict) else data
    for value in values:
        if isinstance(value, dict | list) and not _fits_on_a_line(value, width):
            return False
    return len(json.dumps(data, ensure_ascii=False, default=str)) <= width


def dump_yaml(
    data: Any,
    key_rank: Callable[[str], int] | None = None,
    flow_width: int = 0,
) -> str:
    """Write plain data as YAML that :func:`load_yaml` reads back.

    Mapping keys are ordered by ``key_rank`` (lower first); keys of equal rank
    keep their order in ``data``, so free-form names such as glossary terms
    stay where their author put them. Block style throughout, except that with
    ``flow_width`` small containers of plain values that fit in about that
    many characters go on one line (``{field: industry, eq: retail}``).
    """
    ordered = _reorder(data, key_rank) if key_rank else data
    dumper = type("_Dumper", (_BlockDumper,), {"flow_width": flow_width})
    return yaml.dump(
        ordered,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
    )


def _reorder(data: Any, key_rank: Callable[[str], int]) -> Any:
    if isinstance(data, dict):
        keys = sorted(data, key=lambda key: key_rank(str(key)))
        return {key: _reorder(data[key], key_rank) for key in keys}
    if isinstance(data, list):
        return [_reorder(item, key_rank) for item in data]
    return data
