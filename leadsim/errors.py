"""Problems as data: where something is wrong and what to change.

Every error that leadsim reports to a user is a :class:`Problem`: a location
(file, line, column, key path) and a message that ends with the fix. Code that
finds problems collects all of them, then raises one :class:`LeadsimError`
subclass carrying the list, so that a user sees every problem at once. The
command line renders them as ``FILE:LINE:COL: message``; pages render the same
message next to the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where.

    ``line`` and ``column`` are 1-based; 0 means unknown. ``path`` is the key
    path inside a document (``("mql", "fit", "rules", 0, "points")``) or, for
    tabular data, ``(column_name,)`` or ``(column_name, row_number)``.
    """

    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    path: tuple[str | int, ...] = ()
    severity: Severity = "error"

    def location(self) -> str:
        """Render ``FILE:LINE:COL`` with the parts that are known."""
        parts = [self.file or "<input>"]
        if self.line:
            parts.append(str(self.line))
            parts.append(str(self.column or 1))
        return ":".join(parts)

    def render(self) -> str:
        """Render the problem as one compiler-style line."""
        prefix = "warning: " if self.severity == "warning" else ""
        where = f" (at {format_path(self.path)})" if self.path else ""
        return f"{self.location()}: {prefix}{self.message}{where}"


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path the way a reader finds it in YAML: ``mql.fit.rules[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class LeadsimError(Exception):
    """Base of every error leadsim raises for bad input.

    Carries one or more problems; ``str()`` renders them one per line.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    @classmethod
    def single(cls, message: str, **where: object) -> LeadsimError:
        """Build the error from one message and its location keywords."""
        return cls([Problem(message, **where)])  # type: ignore[arg-type]

    def render(self) -> str:
        """All problems, one per line."""
        return "\n".join(problem.render() for problem in self.problems)

    def __str__(self) -> str:
        return self.render()

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]


class CriteriaError(LeadsimError):
    """A criteria file cannot be read or does not validate."""


class DataError(LeadsimError):
    """A lead table or dataset profile cannot be read or used."""


class PublishError(LeadsimError):
    """A draft cannot be saved or published as asked."""


def raise_if_errors(
    problems: Iterable[Problem], error_type: type[LeadsimError]
) -> None:
    """Raise ``error_type`` with all problems if any of them is an error."""
    collected = list(problems)
    if any(problem.severity == "error" for problem in collected):
        raise error_type(collected)
