"""Publish a draft as an approved, immutable version of its criteria.

Publishing is the only way a draft becomes a version. In order:

1. the draft is validated (a draft that does not validate is never published);
2. one approval for marketing and one for sales, by two different people;
3. the semantic diff against the current version, and the bump it calls for
   (see :mod:`leadsim.diff`); the caller may choose another bump;
4. optionally, the simulated impact on a lead history, whose headline figures
   are recorded with the version so everyone knows what the approvers saw;
5. the version file, with a ``publication`` block, is created exclusively
   (never overwriting) and the changelog is rewritten from the version files.

Every check happens before the first write, so a failed publish leaves the
store as it was. To roll back, publish an old version's content as a new
version with its own approvals: :func:`rollback`, or on the command line
``python -m leadsim publish criteria/<id>/<old version>.yaml --approve ...``
(an old version's publication block is dropped and a new one written).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadsim.diff import LEVEL_ORDER, Change, diff_criteria, suggest_bump, summarize
from leadsim.errors import LeadsimError, Problem, PublishError
from leadsim.store import BUMPS, CriteriaStore, Version, check_slug

if TYPE_CHECKING:
    from leadsim.criteria import Criteria
    from leadsim.dataset import Leads

logger = logging.getLogger(__name__)

ROLES = ("marketing", "sales")
MAX_NAME_LENGTH = 80
MAX_SUMMARY_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Approval:
    """Who approved a version, and for which team."""

    role: str
    name: str


@dataclass
class PublicationPlan:
    """What publishing a draft would do, for review before anyone approves.

    ``previous`` is the current published version (``None`` before the first
    one) and ``baseline`` its criteria; ``changes`` the semantic diff from it.
    """

    criteria_id: str
    previous: Version | None
    baseline: Criteria | None
    changes: list[Change]
    suggested_bump: str | None
    draft_version: str = "1.0.0"

    def next_version(
        self, bump: str | None = None, version: str | None = None
    ) -> Version:
        """The version a publish gets: ``version`` if given, else the bump's.

        Without either, the suggested bump applies; the first version keeps
        the draft's own version. Raises :class:`PublishError` for a version
        that is not above the current one or a bump that is not major, minor
        or patch.
        """
        if version is not None:
            if bump is not None:
                raise PublishError.single("give either a bump or a version, not both")
            return self._checked_target(Version.parse(version))
        if self.previous is None:
            return Version.parse(self.draft_version)
        chosen = bump or self.suggested_bump or "patch"
        if chosen not in BUMPS:
            raise PublishError.single(
                f"unknown bump {chosen!r}; choose one of major, minor or patch"
            )
        return self.previous.bumped(chosen)  # type: ignore[arg-type]

    def _checked_target(self, target: Version) -> Version:
        if self.previous is not None and target == self.previous:
            raise PublishError.single(
                f"{self.criteria_id} {target} is already published and published "
                "versions are never overwritten; choose a higher version, or a "
                "bump (major, minor or patch)"
            )
        if self.previous is not None and target < self.previous:
            raise PublishError.single(
                f"{target} would go backwards: {self.criteria_id} is already at "
                f"{self.previous}; choose a version above it, or a bump (major, "
                "minor or patch); to restore old content, roll back to it"
            )
        return target


@dataclass
class PublishedVersion:
    """The outcome of a publish: where the version is and what it records."""

    criteria_id: str
    version: str
    path: Path
    previous_version: str | None
    approvals: list[Approval]
    published_at: str
    sha256: str
    summary: str
    changes: list[Change]
    headline: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    """One published version as listed in the history and the changelog."""

    version: str
    path: Path
    published_at: str
    approvals: tuple[Approval, ...]
    previous_version: str | None
    summary: str
    sha256: str
    intact: bool | None  # content hash verified; None without a record

    def approver(self, role: str) -> str:
        """The name that approved for ``role``, or an empty string."""
        return next((a.name for a in self.approvals if a.role == role), "")


# -- approvals -----------------------------------------------------------------


def parse_approvals(pairs: Iterable[str]) -> dict[str, str]:
    """Read command-line approvals such as ``marketing=Ana Ruiz``.

    Raises :class:`PublishError` for a pair without ``=`` or a role given
    twice; the roles and names themselves are checked by :func:`check_approvals`.
    """
    approvals: dict[str, str] = {}
    problems = []
    for pair in pairs:
        role, sign, name = pair.partition("=")
        role = role.strip().lower()
        if not sign:
            problems.append(Problem(f"--approve {pair!r} has no name; write ROLE=NAME"))
        elif role in approvals:
            problems.append(
                Problem(f"{role} is approved twice; give one --approve {role}=NAME")
            )
        else:
            approvals[role] = name
    if problems:
        raise PublishError(problems)
    return approvals


def check_approvals(approvals: Mapping[str, str]) -> list[Approval]:
    """Validate approvals: marketing and sales, by two different people.

    Names compare case-insensitively with spaces collapsed, so ``Ana Ruiz``
    and `` ana  ruiz`` are the same person. Raises :class:`PublishError`
    listing every problem.
    """
    problems: list[Problem] = []
    for role in approvals:
        if role not in ROLES:
            problems.append(
                Problem(
                    f"{role!r} is not a team that approves criteria; approve as "
                    "marketing and as sales"
                )
            )
    cleaned: dict[str, str] = {}
    for role in ROLES:
        name = " ".join(str(approvals.get(role) or "").split())
        if not name:
            problems.append(
                Problem(
                    f"no {role} approval; add the name of the person who "
                    f"approves for {role} (--approve {role}=NAME)"
                )
            )
        elif len(name) > MAX_NAME_LENGTH or _CONTROL.search(name):
            problems.append(
                Problem(
                    f"the {role} approver's name is not a plain name of at most "
                    f"{MAX_NAME_LENGTH} characters; write just the person's name"
                )
            )
        else:
            cleaned[role] = name
    if len(cleaned) == 2 and _same_person(cleaned["marketing"], cleaned["sales"]):
        problems.append(
            Problem(
                f"{cleaned['marketing']} cannot approve for both marketing and "
                "sales; each team approves with its own person"
            )
        )
    if problems:
        raise PublishError(problems)
    return [Approval(role, cleaned[role]) for role in ROLES]


def _same_person(first: str, second: str) -> bool:
    return first.casefold() == second.casefold()


# -- planning and impact -----------------------------------------------------------


def plan_publication(store: CriteriaStore, draft: Criteria) -> PublicationPlan:
    """Compare a draft with the current version of its criteria id.

    Raises :class:`PublishError` when the draft's id is not a valid slug, and
    the baseline's ``CriteriaError`` if the current version does not load.
    """
    criteria_id = check_slug(draft.id, "criteria id")
    previous = store.current(criteria_id)
    baseline = store.load_version(criteria_id, previous) if previous else None
    changes = diff_criteria(baseline, draft) if baseline else []
    return PublicationPlan(
        criteria_id,
        previous,
        baseline,
        changes,
        suggest_bump(changes),
        draft_version=draft.version,
    )


HEADLINE_RATES = ("mql_to_sql", "mql_opportunity", "opportunity_coverage")


def headline_figures(simulation: Any) -> dict[str, Any]:
    """The figures recorded with a version, from a simulation result.

    Leads; MQLs (stage mql or above), SQLs and disqualified leads; the
    MQL→SQL rate, the share of MQLs that reached an opportunity and the
    share of opportunities the MQL stage caught; and the MQLs the draft sends
    to sales without any sales history. Names are flat (``draft_mql``) so the
    record reads well in YAML.
    """
    figures: dict[str, Any] = {"leads": int(simulation.draft.leads)}
    for side in ("baseline", "draft"):
        funnel = getattr(simulation, side)
        figures[f"{side}_mql"] = int(funnel.mql)
        figures[f"{side}_sql"] = int(funnel.sql)
        figures[f"{side}_disqualified"] = int(funnel.stages.get("disqualified", 0))
        for name in HEADLINE_RATES:
            rate = funnel.rates.get(name)
            value = getattr(rate, "value", None)
            figures[f"{side}_{name}"] = None if value is None else round(value, 4)
    figures["draft_mql_without_sales_history"] = int(simulation.draft.unobserved_mql)
    return figures


HEADLINE_LABELS = {
    "mql": "MQLs",
    "sql": "SQLs",
    "disqualified": "Disqualified",
    "mql_to_sql": "MQL→SQL rate",
    "mql_opportunity": "MQLs that reached an opportunity",
    "opportunity_coverage": "Opportunities caught at MQL",
}


def render_headline(headline: Mapping[str, Any]) -> str:
    """The recorded figures as ``MQLs: 1,200 → 1,350`` lines."""
    lines = []
    if "leads" in headline:
        lines.append(f"Leads simulated: {headline['leads']:,}")
    for name, label in HEADLINE_LABELS.items():
        before = headline.get(f"baseline_{name}")
        after = headline.get(f"draft_{name}")
        if before is None and after is None:
            continue
        lines.append(f"{label}: {_figure(before)} → {_figure(after)}")
    unobserved = headline.get("draft_mql_without_sales_history")
    if unobserved:
        lines.append(
            f"MQLs under the draft that sales never worked: {unobserved:,} "
            "(no outcome is known for them)"
        )
    return "\n".join(lines)


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return "n/a"


def simulate_impact(
    draft: Criteria, baseline: Criteria | None, leads: Leads
) -> dict[str, Any] | None:
    """Headline figures of ``draft`` against ``baseline`` on ``leads``.

    Returns ``None`` (and logs why) when the simulator is not available, so
    publishing keeps working without it.
    """
    try:
        from leadsim.simulate import simulate
    except ImportError:
        logger.warning(
            "The simulator is not available, so no impact is recorded; "
            "publish again once leadsim.simulate is installed to record it."
        )
        return None
    simulation = simulate(draft, baseline or draft, leads)
    return headline_figures(simulation)


# -- publishing ----------------------------------------------------------------


def content_sha256(data: Mapping[str, Any]) -> str:
    """The sha256 of a criteria document's canonical text, without publication."""
    from leadsim.criteria import dump_criteria

    content = {key: value for key, value in data.items() if key != "publication"}
    return hashlib.sha256(dump_criteria(content).encode("utf-8")).hexdigest()


def publish(
    store: CriteriaStore,
    draft: Criteria,
    approvals: Mapping[str, str],
    bump: str | None = None,
    leads: Leads | None = None,
    now: dt.datetime | None = None,
    summary: str | None = None,
    plan: PublicationPlan | None = None,
    version: str | None = None,
    headline: Mapping[str, Any] | None = None,
) -> PublishedVersion:
    """Publish ``draft`` as the next version of its criteria id.

    ``bump`` defaults to the one the diff suggests; ``version`` names the new
    version instead (it must be above the current one). With ``leads``, the
    dataset and the simulated impact against the current version are
    recorded; pass ``headline`` (from :func:`headline_figures`) to record the
    figures the approvers saw instead of simulating again. Pass the
    ``plan`` the approvers reviewed: if another version was published since,
    the publish is refused so that nobody approves a diff they did not see.
    Raises :class:`PublishError` (or ``CriteriaError`` for an invalid draft)
    and then writes nothing.
    """
    checked = check_approvals(approvals)
    if bump is not None and bump not in BUMPS:
        raise PublishError.single(
            f"unknown bump {bump!r}; choose one of major, minor or patch"
        )
    draft = _revalidated(draft)
    plan = plan or plan_publication(store, draft)
    if plan.criteria_id != draft.id:
        raise PublishError.single(
            f"the review was of {plan.criteria_id} but the draft is {draft.id}; "
            "review the draft itself and approve again"
        )
    if plan.previous is not None and not plan.changes:
        raise PublishError.single(
            f"the draft is the same as {plan.criteria_id} {plan.previous}, so there "
            "is nothing to publish; change the draft first"
        )
    if plan.previous is None and bump is not None:
        logger.info("ignoring the %s bump: the first version is the draft's", bump)
    target = plan.next_version(bump, version)
    warnings = _bump_warnings(plan, bump)
    if headline is None and leads is not None:
        headline = simulate_impact(draft, plan.baseline, leads)

    with store.lock(plan.criteria_id):
        if store.current(plan.criteria_id) != plan.previous:
            raise PublishError.single(
                f"{plan.criteria_id} {store.current(plan.criteria_id)} was published "
                f"after this review started (it compared with {plan.previous}); "
                "review the new diff and approve again"
            )
        published_at = _timestamp(now)
        data, digest = _version_document(
            draft, target, plan, checked, published_at, headline, leads, summary
        )
        where = store.version_path(plan.criteria_id, target)
        text = _checked_text(data, digest, where)
        path = store.create_version(plan.criteria_id, target, text)
        _write_changelog(store, plan.criteria_id)

    logger.info(
        "published %s %s approved by %s (marketing) and %s (sales)",
        plan.criteria_id,
        target,
        checked[0].name,
        checked[1].name,
    )
    return PublishedVersion(
        criteria_id=plan.criteria_id,
        version=str(target),
        path=path,
        previous_version=str(plan.previous) if plan.previous else None,
        approvals=checked,
        published_at=published_at,
        sha256=digest,
        summary=data["publication"]["summary"],
        changes=plan.changes,
        headline=dict(headline) if headline else None,
        warnings=warnings,
    )


def rollback_draft(store: CriteriaStore, criteria_id: str, version: str) -> Criteria:
    """An old version's content as a draft, ready to be published again."""
    old = store.load_version(criteria_id, version)
    data = _without_publication(old.data)
    return _criteria_from(data, f"<{criteria_id} {version}>")


def rollback(
    store: CriteriaStore,
    criteria_id: str,
    version: str,
    approvals: Mapping[str, str],
    bump: str | None = None,
    leads: Leads | None = None,
    now: dt.datetime | None = None,
    headline: Mapping[str, Any] | None = None,
) -> PublishedVersion:
    """Publish the content of an old version as a new version.

    The old version stays as it is; the new one records its own approvals and
    says in its summary which version it restores.
    """
    draft = rollback_draft(store, criteria_id, version)
    plan = plan_publication(store, draft)
    summary = f"Roll back to {version}: {summarize(plan.changes)}"
    return publish(
        store,
        draft,
        approvals,
        bump,
        leads,
        now,
        summary,
        plan,
        headline=headline,
    )


def _revalidated(draft: Criteria) -> Criteria:
    """Validate the draft's current data again, whatever happened since parsing.

    Problems point at the draft's own lines while its text still holds its
    data; a draft whose data was edited in memory is checked as it will be
    written.
    """
    from leadsim.criteria import parse_criteria

    data = _without_publication(draft.data)
    fresh = parse_criteria(draft.text, draft.source)
    if _without_publication(fresh.data) == data:
        return fresh
    return _criteria_from(data, f"{draft.source} (as it would be published)")


def _criteria_from(data: dict, source: str, text: str | None = None) -> Criteria:
    from leadsim.criteria import dump_criteria, parse_criteria

    return parse_criteria(text or dump_criteria(data), source)


def _without_publication(data: Mapping[str, Any]) -> dict:
    return {
        key: copy.deepcopy(value) for key, value in data.items() if key != "publication"
    }


def _bump_warnings(plan: PublicationPlan, bump: str | None) -> list[str]:
    suggested = plan.suggested_bump
    if bump is None or suggested is None or plan.previous is None:
        return []
    if LEVEL_ORDER[bump] >= LEVEL_ORDER[suggested]:
        return []
    message = (
        f"the changes call for a {suggested} version but a {bump} bump was "
        "chosen; implementers may not expect what changed"
    )
    logger.info("publishing with a smaller bump: %s", message)
    return [message]


def _timestamp(now: dt.datetime | None) -> str:
    moment = now or dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _version_document(
    draft: Criteria,
    version: Version,
    plan: PublicationPlan,
    approvals: list[Approval],
    published_at: str,
    headline: Mapping[str, Any] | None,
    leads: Leads | None,
    summary: str | None,
) -> tuple[dict, str]:
    """The version's document with its publication block, and its content hash."""
    data = _without_publication(draft.data)
    data["version"] = str(version)
    digest = content_sha256(data)
    line = " ".join((summary or _default_summary(plan)).split())
    if len(line) > MAX_SUMMARY_LENGTH:
        line = line[: MAX_SUMMARY_LENGTH - 1].rstrip() + "…"
    publication: dict[str, Any] = {
        "approvals": [{"role": a.role, "name": a.name} for a in approvals],
        "published_at": published_at,
        "previous_version": str(plan.previous) if plan.previous else None,
        "sha256": digest,
        "summary": line,
    }
    if leads is not None:
        publication["dataset"] = {
            "source": _portable(str(leads.source)),
            "fingerprint": str(leads.fingerprint),
            "leads": int(len(leads.ids)),
        }
    if headline:
        publication["headline"] = dict(headline)
    data["publication"] = publication
    return data, digest


def _portable(source: str) -> str:
    """A dataset path as recorded: relative to the working folder when inside it.

    An absolute path would record one machine's layout in a shared file.
    """
    path = Path(source)
    if not path.is_absolute():
        return source
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return path.name


def _default_summary(plan: PublicationPlan) -> str:
    if plan.previous is None:
        return "First published version."
    return summarize(plan.changes)


def _checked_text(data: dict, digest: str, path: Path) -> str:
    """Dump the version and prove it reads back valid and with the same hash."""
    from leadsim.criteria import dump_criteria, parse_criteria

    text = dump_criteria(data)
    written = parse_criteria(text, str(path))
    if content_sha256(written.data) != digest:
        raise PublishError.single(
            "the version does not read back as written, so it was not published; "
            "please report this with the draft attached",
            file=str(path),
        )
    return text


# -- history -------------------------------------------------------------------


def history(store: CriteriaStore, criteria_id: str) -> list[HistoryEntry]:
    """Every published version with its publication record, newest first.

    A version without a record (such as one written by hand before publishing
    existed) is listed with empty approvals and ``intact`` of ``None``.
    """
    from leadsim.yamlio import load_yaml

    entries = []
    for version in reversed(store.versions(criteria_id)):
        path = store.version_path(criteria_id, version)
        try:
            data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
        except (LeadsimError, OSError, UnicodeDecodeError) as error:
            logger.warning(
                "Could not read %s (%s); fix or restore that file.", path, error
            )
            data = {}
        entries.append(_entry(str(version), path, data))
    return entries


def _entry(version: str, path: Path, data: Mapping[str, Any]) -> HistoryEntry:
    record = data.get("publication") if isinstance(data, Mapping) else None
    if not isinstance(record, Mapping):
        return HistoryEntry(version, path, "", (), None, "", "", None)
    approvals = tuple(
        Approval(str(item.get("role", "")), str(item.get("name", "")))
        for item in record.get("approvals") or []
        if isinstance(item, Mapping)
    )
    digest = str(record.get("sha256") or "")
    return HistoryEntry(
        version=version,
        path=path,
        published_at=str(record.get("published_at") or ""),
        approvals=approvals,
        previous_version=record.get("previous_version"),
        summary=str(record.get("summary") or ""),
        sha256=digest,
        intact=bool(digest) and content_sha256(data) == digest,
    )


def render_changelog(criteria_id: str, entries: list[HistoryEntry]) -> str:
    """The changelog: one table row per version, newest first."""
    lines = [
        f"# {criteria_id}: published versions",
        "",
        "Written by `leadsim publish` from the version files, newest first; each "
        "version file holds its full publication record.",
        "",
        "| version | published (UTC) | marketing | sales | previous | summary |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries:
        cells = [
            entry.version,
            entry.published_at.replace("T", " ").removesuffix("Z"),
            entry.approver("marketing"),
            entry.approver("sales"),
            entry.previous_version or "",
            entry.summary or "(no publication record)",
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def _write_changelog(store: CriteriaStore, criteria_id: str) -> None:
    try:
        store.write_changelog(
            criteria_id, render_changelog(criteria_id, history(store, criteria_id))
        )
    except OSError as error:
        # The version is published either way; the changelog is derived from
        # the version files and is rewritten in full by the next publish.
        logger.error(
            "Published, but the changelog could not be written (%s); publish "
            "again later or rerun to rewrite it.",
            error,
        )
