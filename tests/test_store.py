"""The criteria store: safe names, revisioned drafts, atomic and exclusive writes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

from leadsim.errors import PublishError
from leadsim.store import CriteriaStore, StaleDraftError, Version

CRITERIA_ID = "erp-lead-stages"
# Children fork from a clean, single-threaded server process: safe even when
# other tests left threads running (a plain fork copies their held locks).
FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["leadsim.publish", "pytest", "yaml"])


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, to prove nothing changed."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def store(tmp_path: Path) -> CriteriaStore:
    return CriteriaStore(tmp_path / "criteria")


# -- names ------------------------------------------------------------------------

BAD_NAMES = [
    "../x",
    "/etc/passwd",
    ".hidden",
    "a/b",
    "a\\b",
    "..",
    "",
    "-leading-dash",
    "trailing-",
    "Upper",
    "with space",
    "x" * 65,
    "name.yaml",
    "a\x00b",
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_path_like_criteria_ids_are_refused(store: CriteriaStore, name: str) -> None:
    with pytest.raises(PublishError, match="not a valid criteria id"):
        store.save_draft(name, "workshop", "text", None)
    with pytest.raises(PublishError, match="not a valid criteria id"):
        store.versions(name)

    assert not store.root.exists()


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_path_like_draft_names_are_refused(store: CriteriaStore, name: str) -> None:
    with pytest.raises(PublishError, match="not a valid draft name"):
        store.save_draft(CRITERIA_ID, name, "text", None)
    with pytest.raises(PublishError, match="not a valid draft name"):
        store.read_draft(CRITERIA_ID, name)

    assert not store.root.exists()


@pytest.mark.parametrize(
    "version", ["../1.0.0", "1.0", "01.0.0", "1.0.0/../x", "v1.0.0", "1.0.0-rc1", ""]
)
def test_malformed_versions_are_refused(store: CriteriaStore, version: str) -> None:
    with pytest.raises(PublishError, match="not a version"):
        store.create_version(CRITERIA_ID, version, "text")

    assert not store.root.exists()


def test_versions_order_by_number_and_ignore_other_files(
    store: CriteriaStore,
) -> None:
    for version in ("1.9.0", "1.10.0", "0.2.0"):
        store.create_version(CRITERIA_ID, version, f"version {version}\n")
    folder = store.criteria_dir(CRITERIA_ID)
    (folder / "notes.yaml").write_text("x")
    (folder / ".1.11.0.yaml.abc.tmp").write_text("leftover")
    store.save_draft(CRITERIA_ID, "workshop", "draft", None)

    assert [str(v) for v in store.versions(CRITERIA_ID)] == ["0.2.0", "1.9.0", "1.10.0"]
    assert str(store.current(CRITERIA_ID)) == "1.10.0"
    assert store.drafts(CRITERIA_ID) == ["workshop"]
    assert store.version_text(CRITERIA_ID, "1.9.0") == "version 1.9.0\n"


@pytest.mark.parametrize(
    ("start", "bump", "expected"),
    [
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("0.9.9", "minor", "0.10.0"),
    ],
)
def test_version_bumps(start: str, bump: str, expected: str) -> None:
    assert str(Version.parse(start).bumped(bump)) == expected  # type: ignore[arg-type]


# -- drafts -----------------------------------------------------------------------


def test_a_new_draft_has_the_sha256_of_its_bytes_as_revision(
    store: CriteriaStore,
) -> None:
    revision = store.save_draft(CRITERIA_ID, "workshop", "title: café\n", None)

    draft = store.read_draft(CRITERIA_ID, "workshop")
    assert revision == hashlib.sha256("title: café\n".encode()).hexdigest()
    assert (draft.text, draft.revision) == ("title: café\n", revision)
    assert draft.path == store.root / CRITERIA_ID / "drafts" / "workshop.yaml"


def test_creating_a_draft_whose_name_exists_is_refused(store: CriteriaStore) -> None:
    first = store.save_draft(CRITERIA_ID, "workshop", "first\n", None)

    with pytest.raises(StaleDraftError, match="already exists") as caught:
        store.save_draft(CRITERIA_ID, "workshop", "second\n", None)

    assert caught.value.current_text == "first\n"
    assert caught.value.current_revision == first
    assert store.read_draft(CRITERIA_ID, "workshop").text == "first\n"


def test_a_stale_save_is_refused_and_returns_the_current_text(
    store: CriteriaStore,
) -> None:
    opened = store.save_draft(CRITERIA_ID, "workshop", "points: 20\n", None)
    theirs = store.save_draft(CRITERIA_ID, "workshop", "points: 25\n", opened)

    with pytest.raises(StaleDraftError, match="saved by someone else") as caught:
        store.save_draft(CRITERIA_ID, "workshop", "points: 30\n", opened)

    assert caught.value.current_text == "points: 25\n"
    assert caught.value.current_revision == theirs
    assert store.read_draft(CRITERIA_ID, "workshop").text == "points: 25\n"
    # Keeping one's own text is a save based on the revision now on disk.
    mine = store.save_draft(CRITERIA_ID, "workshop", "points: 30\n", theirs)
    assert store.read_draft(CRITERIA_ID, "workshop").revision == mine


def test_saving_a_deleted_draft_is_refused(store: CriteriaStore) -> None:
    revision = store.save_draft(CRITERIA_ID, "workshop", "a\n", None)
    store.delete_draft(CRITERIA_ID, "workshop", revision)

    with pytest.raises(StaleDraftError, match="deleted") as caught:
        store.save_draft(CRITERIA_ID, "workshop", "b\n", revision)

    assert caught.value.current_text is None
    assert store.drafts(CRITERIA_ID) == []


def test_saves_leave_no_temporary_files(store: CriteriaStore) -> None:
    revision = store.save_draft(CRITERIA_ID, "workshop", "a\n", None)
    for text in ("b\n", "c\n", "c\n"):
        revision = store.save_draft(CRITERIA_ID, "workshop", text, revision)

    assert sorted(tree(store.root)) == ["erp-lead-stages/drafts/workshop.yaml"]


def _save_forever(root: str, texts: list[str], ready: object) -> None:
    store = CriteriaStore(root)
    revision = store.save_draft(CRITERIA_ID, "workshop", texts[0], None)
    ready.set()  # type: ignore[attr-defined]
    turn = 1
    while True:
        revision = store.save_draft(
            CRITERIA_ID, "workshop", texts[turn % len(texts)], revision
        )
        turn += 1


def test_a_save_killed_midway_leaves_a_whole_draft(store: CriteriaStore) -> None:
    # Large texts make a kill in the middle of a write likely.
    texts = [f"# version {n}\n" + (f"line {n}\n" * 150_000) for n in range(3)]
    rng = random.Random(5)
    for _ in range(12):
        ready = FORK.Event()
        saver = FORK.Process(target=_save_forever, args=(str(store.root), texts, ready))
        saver.start()
        assert ready.wait(30)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(saver.pid, signal.SIGKILL)
        saver.join()

        draft = store.read_draft(CRITERIA_ID, "workshop")
        assert draft.text in texts
        store.delete_draft(CRITERIA_ID, "workshop", draft.revision)

    # The next save cleans up whatever temporaries the kills left.
    store.save_draft(CRITERIA_ID, "workshop", "after\n", None)
    assert sorted(tree(store.root)) == ["erp-lead-stages/drafts/workshop.yaml"]


# -- published versions ----------------------------------------------------------


def test_a_version_is_never_overwritten(store: CriteriaStore) -> None:
    store.create_version(CRITERIA_ID, "1.0.0", "original\n")

    with pytest.raises(PublishError, match="already published"):
        store.create_version(CRITERIA_ID, "1.0.0", "replacement\n")

    assert tree(store.root) == {"erp-lead-stages/1.0.0.yaml": b"original\n"}


def _create(
    root: str, version: str, text: str, barrier: object, results: object
) -> None:
    store = CriteriaStore(root)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        store.create_version(CRITERIA_ID, version, text)
        results.put(("won", text[:12]))  # type: ignore[attr-defined]
    except PublishError:
        results.put(("lost", text[:12]))  # type: ignore[attr-defined]


def test_two_processes_creating_one_version_exactly_one_wins(
    store: CriteriaStore,
) -> None:
    for attempt in range(30):
        version = f"1.{attempt}.0"
        texts = [f"writer {n:04d}\n" + (f"rule {n}\n" * 50_000) for n in range(2)]
        barrier = FORK.Barrier(2)
        results = FORK.Queue()
        writers = [
            FORK.Process(
                target=_create,
                args=(str(store.root), version, text, barrier, results),
            )
            for text in texts
        ]
        for writer in writers:
            writer.start()
        outcomes = sorted(results.get(timeout=30) for _ in writers)
        for writer in writers:
            writer.join()

        assert [outcome for outcome, _ in outcomes] == ["lost", "won"]
        winner = next(head for outcome, head in outcomes if outcome == "won")
        written = store.version_text(CRITERIA_ID, version)
        assert written in texts
        assert written.startswith(winner)

    assert len(store.versions(CRITERIA_ID)) == 30
    assert all(".tmp" not in name for name in tree(store.root))


def test_a_draft_that_is_not_text_is_reported_not_crashed_on(
    store: CriteriaStore,
) -> None:
    store.save_draft(CRITERIA_ID, "workshop", "ok\n", None)
    store.draft_path(CRITERIA_ID, "workshop").write_bytes(b"id: \xff\xfe")

    with pytest.raises(PublishError, match="not UTF-8 text \\(byte 4\\)"):
        store.read_draft(CRITERIA_ID, "workshop")
