"""Criteria on disk: immutable published versions and shared, revisioned drafts.

Layout under the store's root (normally ``criteria/``)::

    <id>/<version>.yaml         published versions, never rewritten
    <id>/drafts/<name>.yaml     drafts that several browsers may edit
    <id>/CHANGELOG.md           one row per version: date, approvers, summary

Every id, version and draft name is checked before it becomes part of a path,
so a name such as ``../x`` or ``/etc/passwd`` never reaches the file system.

Two safety rules hold for every write:

* A draft save names the revision it was based on (the sha256 of the draft's
  bytes). If the file changed since, the save is refused with the current text
  so the user can compare and choose; nothing is silently overwritten. The
  check and the replace happen under an exclusive ``flock`` on the criteria
  directory, so two processes can never both pass the check.
* Files are replaced atomically: the new bytes go to a temporary file in the
  same directory, are flushed and fsynced, then renamed over the old file, and
  the directory is fsynced. A crash at any moment leaves the old file or the
  new one, never a mix. A published version is created by hard-linking a fully
  written temporary file to its final name, which fails if the name exists:
  of two processes publishing the same version exactly one wins, and no reader
  ever sees a half-written version.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from leadsim.errors import Problem, PublishError

if TYPE_CHECKING:
    from leadsim.criteria import Criteria

logger = logging.getLogger(__name__)

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
VERSION_PATTERN = re.compile(
    r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$"
)
DRAFTS_DIR = "drafts"
CHANGELOG = "CHANGELOG.md"
# A criteria file is a few kilobytes; this refuses accidents, not real drafts.
MAX_DRAFT_BYTES = 2_000_000


@total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version ``MAJOR.MINOR.PATCH`` of a published criteria file."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """Read ``1.2.0``; raise :class:`PublishError` for anything else."""
        match = VERSION_PATTERN.match(text) if isinstance(text, str) else None
        if not match:
            raise PublishError.single(
                f"{text!r} is not a version; write it as MAJOR.MINOR.PATCH, "
                "for example 1.2.0"
            )
        return cls(*(int(part) for part in match.groups()))

    def bumped(self, bump: Bump) -> Version:
        """The next version for a major, minor or patch change."""
        if bump == "major":
            return Version(self.major + 1, 0, 0)
        if bump == "minor":
            return Version(self.major, self.minor + 1, 0)
        if bump == "patch":
            return Version(self.major, self.minor, self.patch + 1)
        raise PublishError.single(
            f"unknown bump {bump!r}; choose one of major, minor or patch"
        )

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass
class StaleDraftError(PublishError):
    """A draft save was based on a revision that is no longer the current one.

    ``current_text`` and ``current_revision`` describe the draft as it is on
    disk now (both ``None`` when the draft was deleted meanwhile), so that a
    page can show it beside the user's text and let the user choose: save
    again based on ``current_revision`` to keep their text, or reload.
    """

    current_text: str | None = None
    current_revision: str | None = None


@dataclass(frozen=True)
class Draft:
    """A draft's text as stored, with the revision a later save must name."""

    id: str
    name: str
    text: str
    revision: str
    path: Path


def check_slug(value: object, what: str) -> str:
    """Return ``value`` if it is a safe slug, else raise :class:`PublishError`.

    A slug is 1 to 64 lowercase letters, digits and inner dashes, so it can
    never be a path (no ``/``, ``..`` or leading dot).
    """
    if isinstance(value, str) and SLUG_PATTERN.match(value):
        return value
    raise PublishError.single(
        f"{value!r} is not a valid {what}; use lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit (for example "
        "erp-lead-stages)"
    )


def revision_of(content: bytes) -> str:
    """The revision of a draft: the sha256 of its bytes, in hex."""
    return hashlib.sha256(content).hexdigest()


class CriteriaStore:
    """Published versions and drafts of criteria files under one root folder.

    Safe for several processes at once (see the module notes). Methods that
    take an id, version or draft name validate it first and raise
    :class:`PublishError` for anything that is not a plain slug or version.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- paths --------------------------------------------------------------

    def criteria_dir(self, criteria_id: str) -> Path:
        """The folder of one criteria id (it may not exist yet)."""
        return self.root / check_slug(criteria_id, "criteria id")

    def version_path(self, criteria_id: str, version: str | Version) -> Path:
        """Where a published version lives."""
        parsed = version if isinstance(version, Version) else Version.parse(version)
        return self.criteria_dir(criteria_id) / f"{parsed}.yaml"

    def draft_path(self, criteria_id: str, name: str) -> Path:
        """Where a draft lives."""
        folder = self.criteria_dir(criteria_id) / DRAFTS_DIR
        return folder / f"{check_slug(name, 'draft name')}.yaml"

    def changelog_path(self, criteria_id: str) -> Path:
        """The human-readable index of published versions."""
        return self.criteria_dir(criteria_id) / CHANGELOG

    # -- reading ------------------------------------------------------------

    def ids(self) -> list[str]:
        """Criteria ids that have a folder in the store, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and SLUG_PATTERN.match(entry.name)
        )

    def versions(self, criteria_id: str) -> list[Version]:
        """Published versions of ``criteria_id``, lowest first."""
        folder = self.criteria_dir(criteria_id)
        if not folder.is_dir():
            return []
        found = []
        for entry in folder.iterdir():
            stem, suffix = entry.name[: -len(".yaml")], entry.name[-len(".yaml") :]
            if suffix == ".yaml" and VERSION_PATTERN.match(stem) and entry.is_file():
                found.append(Version.parse(stem))
        return sorted(found)

    def current(self, criteria_id: str) -> Version | None:
        """The highest published version, or ``None`` before the first one."""
        published = self.versions(criteria_id)
        return published[-1] if published else None

    def version_text(self, criteria_id: str, version: str | Version) -> str:
        """The text of a published version, exactly as written."""
        path = self.version_path(criteria_id, version)
        try:
            return _text(path.read_bytes(), path)
        except FileNotFoundError:
            raise PublishError.single(
                f"{criteria_id} has no published version {version}; published "
                f"versions are: {self._listing(criteria_id)}",
                file=str(path),
            ) from None

    def load_version(self, criteria_id: str, version: str | Version) -> Criteria:
        """Load and validate a published version (raises ``CriteriaError``)."""
        from leadsim.criteria import parse_criteria

        path = self.version_path(criteria_id, version)
        return parse_criteria(self.version_text(criteria_id, version), str(path))

    def drafts(self, criteria_id: str) -> list[str]:
        """Names of the drafts of ``criteria_id``, sorted."""
        folder = self.criteria_dir(criteria_id) / DRAFTS_DIR
        if not folder.is_dir():
            return []
        return sorted(
            entry.name[: -len(".yaml")]
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
            and SLUG_PATTERN.match(entry.name[: -len(".yaml")])
            and entry.is_file()
        )

    def read_draft(self, criteria_id: str, name: str) -> Draft:
        """A draft's text and revision, without validating it.

        Drafts may be half-edited; use :meth:`load_draft` to validate.
        """
        path = self.draft_path(criteria_id, name)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise PublishError.single(
                f"{criteria_id} has no draft named {name!r}; drafts are: "
                f"{', '.join(self.drafts(criteria_id)) or 'none'}",
                file=str(path),
            ) from None
        return Draft(
            criteria_id, name, _text(content, path), revision_of(content), path
        )

    def load_draft(self, criteria_id: str, name: str) -> tuple[Criteria, str]:
        """Load and validate a draft; return it with its revision.

        Raises ``CriteriaError`` (with lines and columns) if it does not
        validate.
        """
        from leadsim.criteria import parse_criteria

        draft = self.read_draft(criteria_id, name)
        return parse_criteria(draft.text, str(draft.path)), draft.revision

    # -- writing ------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, criteria_id: str) -> Iterator[Path]:
        """Hold the exclusive lock of one criteria id; yield its folder.

        The lock is an ``flock`` on the folder itself, so no lock file is left
        behind. Do not nest two ``lock`` calls for the same id in one thread.
        """
        folder = self.criteria_dir(criteria_id)
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield folder
        finally:
            os.close(handle)  # closing releases the lock

    def save_draft(
        self, criteria_id: str, name: str, text: str, base_revision: str | None
    ) -> str:
        """Save a draft's text if nobody saved since ``base_revision``.

        ``base_revision`` is the revision the user's text was based on, or
        ``None`` to create a new draft. Returns the new revision. Raises
        :class:`StaleDraftError`, carrying the current text, when the draft
        changed since (or already exists, for a new draft). The draft is not
        validated: a workshop may save a half-edited draft.
        """
        content = text.encode("utf-8")
        if len(content) > MAX_DRAFT_BYTES:
            raise PublishError.single(
                f"the draft is {len(content):,} bytes; a criteria file is at "
                f"most {MAX_DRAFT_BYTES:,} bytes, so remove what was pasted in "
                "by mistake"
            )
        path = self.draft_path(criteria_id, name)
        with self.lock(criteria_id):
            path.parent.mkdir(exist_ok=True)
            current = _read_if_exists(path)
            _check_base(path, criteria_id, current, base_revision)
            if current == content:
                return revision_of(content)
            _discard_temporaries(path.parent)
            replace_atomically(path, content)
        revision = revision_of(content)
        logger.info(
            "saved draft %s/%s at revision %s", criteria_id, name, revision[:12]
        )
        return revision

    def delete_draft(self, criteria_id: str, name: str, base_revision: str) -> None:
        """Delete a draft if it is still at ``base_revision``."""
        path = self.draft_path(criteria_id, name)
        with self.lock(criteria_id):
            current = _read_if_exists(path)
            _check_base(path, criteria_id, current, base_revision)
            path.unlink()
            _fsync_dir(path.parent)
        logger.info("deleted draft %s/%s", criteria_id, name)

    def create_version(
        self, criteria_id: str, version: str | Version, text: str
    ) -> Path:
        """Write a new published version; refuse if it exists.

        The file appears under its final name only once fully written and
        fsynced; of concurrent writers of the same version exactly one wins
        and the others get a :class:`PublishError`.
        """
        path = self.version_path(criteria_id, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _write_temporary(path, text.encode("utf-8"))
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise PublishError.single(
                f"{criteria_id} {version} is already published and published "
                "versions are never overwritten; publish with a higher bump, or "
                "reload to see the version that was just published",
                file=str(path),
            ) from None
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        return path

    def write_changelog(self, criteria_id: str, text: str) -> Path:
        """Replace the changelog atomically."""
        path = self.changelog_path(criteria_id)
        replace_atomically(path, text.encode("utf-8"))
        return path

    def _listing(self, criteria_id: str) -> str:
        return ", ".join(str(v) for v in self.versions(criteria_id)) or "none"


def _check_base(
    path: Path, criteria_id: str, current: bytes | None, base_revision: str | None
) -> None:
    """Refuse a write whose base is not what is on disk now."""
    name = path.stem
    if current is None and base_revision is None:
        return
    if current is None:
        raise StaleDraftError(
            [
                Problem(
                    f"draft {criteria_id}/{name} was deleted since you opened it; "
                    "save your text as a new draft",
                    file=str(path),
                )
            ]
        )
    revision = revision_of(current)
    if base_revision == revision:
        return
    if base_revision is None:
        message = (
            f"a draft named {name!r} already exists for {criteria_id}; choose "
            "another name, or open that draft and edit it"
        )
    else:
        message = (
            f"draft {criteria_id}/{name} was saved by someone else since you "
            "opened it; compare their version with yours, then keep one of "
            "them and save again"
        )
    raise StaleDraftError(
        [Problem(message, file=str(path))],
        current_text=current.decode("utf-8", errors="replace"),
        current_revision=revision,
    )


def _text(content: bytes, path: Path) -> str:
    """Decode a stored file, refusing bytes that are not UTF-8 text."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PublishError.single(
            f"this file is not UTF-8 text (byte {error.start}); restore it from "
            "git or save the draft again",
            file=str(path),
        ) from None


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def replace_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` so a crash leaves old or new, whole."""
    temporary = _write_temporary(path, content)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _write_temporary(path: Path, content: bytes) -> Path:
    """Write ``content`` to a fresh hidden file beside ``path``, fsynced."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _discard_temporaries(folder: Path) -> None:
    """Remove temporaries left by a crashed save.

    Called under the lock, where no other draft save can be writing one.
    """
    for entry in folder.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            logger.debug("removed the leftover temporary file %s", entry)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as error:  # some file systems refuse fsync on folders
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(handle)
