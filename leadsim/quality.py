"""Can this lead history be trusted? The data-quality report.

A simulation is only as good as the history it replays. The report looks for
what bends its numbers: fields that are mostly missing (overall or in one
segment), placeholders such as ``Select`` that stand for "no answer", one value
spelled several ways, numbers far outside their usual range, dates after the
as-of date, and fields that leak the outcome because sales fills them in after
talking to the lead. Every finding carries one plain sentence on what it means
for the simulation.

All checks work on prepared columns (:mod:`leadsim.dataset`) and on value
counts, never lead by lead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from leadsim.dataset import EPOCH, Column, Leads, Profile, prepare_leads
from leadsim.errors import Problem
from leadsim.profiling import placeholder_mask

logger = logging.getLogger(__name__)

Check = Literal[
    "missing",
    "segment_gap",
    "placeholder",
    "variants",
    "invalid",
    "constant",
    "outlier",
    "negative",
    "future_date",
    "leak",
    "strong_value",
    "no_outcome",
]

MOSTLY_MISSING = 0.5
SEGMENT_GAP = 0.3
IQR_FENCE = 3.0
LEAK_HIGH = 0.9
LEAK_LOW = 0.05
STRONG_VALUE = 0.97
MIN_LEADS = 30
_AMBIGUOUS = frozenset({"unknown", "none"})
# Field names that count or measure something, which cannot be negative.
_COUNT_LIKE = re.compile(
    r"visit|employee|amount|count|number|time|click|submission|view|month|"
    r"page|signup|attend|download|revenue|size"
)


@dataclass(frozen=True)
class Finding:
    """One thing in the data that bends a simulation, in plain words.

    ``check`` names the test that found it, ``field`` the field it is about,
    ``values`` the raw values involved (placeholders, spellings, leaking
    values) and ``count`` how many leads it touches.
    """

    check: Check
    field: str
    message: str
    severity: Literal["warning", "info"] = "warning"
    values: tuple[str, ...] = ()
    count: int = 0


@dataclass
class QualityReport:
    """What a data-quality review found in one lead table.

    ``missing`` has one row per field (``field``, ``kind``, ``missing``,
    ``missing_share``); ``missing_by_segment`` one row per segment value and
    field (``segment``, ``value``, ``leads``, ``field``, ``missing_share``).
    ``dated`` is false when the profile names neither an as-of date nor a
    created column; ``as_of`` is then only today's date.
    """

    leads: int
    as_of: dt.date
    missing: pd.DataFrame
    missing_by_segment: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    dated: bool = True

    def of(self, check: Check) -> list[Finding]:
        """The findings of one check."""
        return [finding for finding in self.findings if finding.check == check]

    def fields_flagged(self, check: Check) -> set[str]:
        """The fields one check flagged."""
        return {finding.field for finding in self.of(check)}

    def problems(self, source: str = "") -> list[Problem]:
        """The findings as warnings, for the command line and the pages."""
        return [
            Problem(
                finding.message, file=source, path=(finding.field,), severity="warning"
            )
            for finding in self.findings
        ]


def quality_report(frame: pd.DataFrame, profile: Profile) -> QualityReport:
    """Review a raw lead table under its profile.

    ``frame`` is what :func:`leadsim.importer.read_table` returns. Raises
    :class:`leadsim.errors.DataError` when the profile cannot be applied
    (for example a missing id column).
    """
    return assess(prepare_leads(frame, profile))


def assess(leads: Leads) -> QualityReport:
    """Review prepared leads; see :func:`quality_report`."""
    columns = {
        name: column
        for name, column in leads.columns.items()
        if name in leads.frame.columns
    }
    missing = _missing_table(columns, len(leads))
    by_segment = _missing_by_segment(leads, columns)

    findings: list[Finding] = []
    findings += _mostly_missing(leads, missing)
    findings += _segment_gaps(by_segment, missing, len(leads))
    findings += _placeholders(leads)
    findings += _variants(leads, columns)
    findings += _invalid(columns)
    findings += _constant(columns, len(leads))
    findings += _outliers(columns, leads.profile)
    findings += _future_dates(columns, leads.as_of_day, leads.as_of)
    findings += _leaks(leads, columns)
    # A leaking field's gaps are explained by the leak; one finding is enough.
    leaking = {f.field for f in findings if f.check == "leak"}
    findings = [
        f for f in findings if not (f.check == "missing" and f.field in leaking)
    ]

    logger.info(
        "Reviewed %s leads: %s finding(s) on %s field(s)",
        len(leads),
        len(findings),
        len({finding.field for finding in findings}),
    )
    return QualityReport(
        leads=len(leads),
        as_of=leads.as_of,
        missing=missing,
        missing_by_segment=by_segment,
        findings=findings,
        dated=bool(leads.profile.as_of or leads.profile.created_column),
    )


# --- missing values -----------------------------------------------------------


def _missing_table(columns: dict[str, Column], leads: int) -> pd.DataFrame:
    counts = [int(column.missing.sum()) for column in columns.values()]
    return pd.DataFrame(
        {
            "field": list(columns),
            "kind": [column.kind for column in columns.values()],
            "missing": counts,
            "missing_share": np.array(counts, dtype=float) / max(leads, 1),
        }
    )


def _missing_by_segment(leads: Leads, columns: dict[str, Column]) -> pd.DataFrame:
    """Missing share of every field within every value of every segment."""
    parts = []
    for segment in leads.profile.segments:
        codes, labels = _segment_codes(columns.get(segment))
        if codes is None:
            continue
        sizes = np.bincount(codes, minlength=len(labels))
        for name, column in columns.items():
            if name == segment:
                continue
            gaps = np.bincount(codes, weights=column.missing, minlength=len(labels))
            parts.append(
                pd.DataFrame(
                    {
                        "segment": segment,
                        "value": labels,
                        "leads": sizes,
                        "field": name,
                        "missing_share": gaps / np.maximum(sizes, 1),
                    }
                )
            )
    parts = [part[part["leads"] > 0] for part in parts]
    if not parts:
        return pd.DataFrame(
            columns=["segment", "value", "leads", "field", "missing_share"]
        )
    return pd.concat(parts, ignore_index=True)


def _segment_codes(column: Column | None) -> tuple[np.ndarray | None, list[str]]:
    """Codes 0..n for a segment's values, with "(missing)" as the last one."""
    if column is None:
        return None, []
    if column.codes is not None and column.kind == "text":
        labels = [str(value) for value in column.categories] + ["(missing)"]
        codes = np.where(column.codes < 0, len(labels) - 1, column.codes)
        return codes.astype(np.int64), labels
    if column.kind == "boolean" and column.values is not None:
        codes = np.where(np.isnan(column.values), 2, column.values).astype(np.int64)
        return codes, ["false", "true", "(missing)"]
    return None, []


def _mostly_missing(leads: Leads, missing: pd.DataFrame) -> list[Finding]:
    """Fields without a value for at least half of the leads.

    When the profile names the leads sales worked, a field filled in only for
    them is said to be sales evidence: it is empty for every lead the draft
    newly sends to sales.
    """
    # Outcome columns are empty for leads that did not convert, by design.
    outcomes = set(leads.profile.outcomes.values())
    rows = missing[
        (missing["missing_share"] >= MOSTLY_MISSING) & ~missing["field"].isin(outcomes)
    ]
    worked = leads.outcome("worked")
    findings = []
    for row in rows.itertuples():
        filled = ~leads.columns[row.field].missing
        message = (
            f"{row.field} is missing for {row.missing_share:.0%} of leads: a rule "
            "on it can only match the rest, so its true effect is understated"
        )
        if worked is not None and filled.any() and worked[filled].mean() >= 0.95:
            message = (
                f"{row.field} is filled in only for leads sales worked "
                f"(missing for {row.missing_share:.0%} of all leads): it is sales "
                "evidence, so a rule on it can never match a lead sales has not "
                "talked to"
            )
        findings.append(Finding("missing", row.field, message, count=int(row.missing)))
    return findings


def _segment_gaps(
    by_segment: pd.DataFrame, missing: pd.DataFrame, leads: int
) -> list[Finding]:
    """Fields missing far more often in one segment value than overall."""
    if by_segment.empty:
        return []
    overall = missing.set_index("field")["missing_share"]
    least = max(MIN_LEADS, int(0.01 * leads))
    table = by_segment[
        (by_segment["leads"] >= least) & (by_segment["value"] != "(missing)")
    ]
    if table.empty:
        return []
    table = table.assign(overall=table["field"].map(overall).astype(float))
    gaps = table[table["missing_share"] - table["overall"] >= SEGMENT_GAP]
    # One finding per field, the worst segment value, so the list stays short.
    worst = gaps.sort_values("missing_share", ascending=False).drop_duplicates("field")
    return [
        Finding(
            "segment_gap",
            row.field,
            f"{row.field} is missing for {row.missing_share:.0%} of leads with "
            f"{row.segment} '{row.value}' against {row.overall:.0%} overall: rules "
            f"on {row.field} undercount that segment",
            severity="info",
            values=(str(row.value),),
            count=int(row.leads),
        )
        for row in worst.itertuples()
    ]


def _placeholders(leads: Leads) -> list[Finding]:
    """Placeholder values, read as missing or, worse, as real values."""
    missing = {value.strip().lower() for value in leads.profile.missing_values}
    findings = []
    for name in leads.frame.columns:
        if name == leads.profile.id_column:
            continue
        counts = leads.frame[name].astype(str).str.strip().value_counts()
        spotted = counts[placeholder_mask(counts.index.to_series()).to_numpy()]
        if spotted.empty:
            continue
        # Most common first; ties in a stable, alphabetical order.
        spotted = spotted.sort_index().sort_values(ascending=False, kind="stable")
        known = spotted.index.str.lower().isin(list(missing))
        if known.any():
            values = tuple(spotted.index[known])
            findings.append(
                Finding(
                    "placeholder",
                    str(name),
                    f"{_quoted(values)} in {name} {_is(values)} a form default "
                    f"meaning 'no answer' ({int(spotted[known].sum()):,} leads), "
                    "read as missing: no rule matches those leads",
                    severity="info",
                    values=values,
                    count=int(spotted[known].sum()),
                )
            )
        if (~known).any():
            values = tuple(spotted.index[~known])
            # "unknown" or "none" can be a real answer (budget: none); say so.
            unsure = all(value.lower() in _AMBIGUOUS for value in values)
            advice = (
                "if it means no answer, add it to the profile's missing_values"
                if unsure
                else "add it to the profile's missing_values"
            )
            findings.append(
                Finding(
                    "placeholder",
                    str(name),
                    f"{_quoted(values)} in {name} {_looks(values)} like 'no "
                    "answer' but counts as a real value "
                    f"({int(spotted[~known].sum()):,} leads); {advice}",
                    severity="info" if unsure else "warning",
                    values=values,
                    count=int(spotted[~known].sum()),
                )
            )
    return findings


def _variants(leads: Leads, columns: dict[str, Column]) -> list[Finding]:
    """Values written with different case or spacing, one finding per field.

    Variants that differ only in case or surrounding spaces are read as one
    value (an info); variants that differ in inner spacing are not (a
    warning, since a rule naming one spelling misses the others).
    """
    findings = []
    for name, column in columns.items():
        if column.kind != "text":
            continue
        counts = leads.frame[name].astype(str).value_counts()
        counts = counts[counts.index.str.strip() != ""]
        spellings = counts.index.to_series()
        keys = spellings.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()
        shared = keys.duplicated(keep=False).to_numpy()
        if not shared.any():
            continue

        group_keys = keys[shared]
        # Read as one value when case and outer spaces are the only difference.
        read_as = spellings[shared].str.strip().str.lower()
        apart = read_as.groupby(group_keys.to_numpy()).nunique() > 1
        for split, effect, severity in (
            (
                False,
                "leadsim reads them as one value, but the CRM holds them apart",
                "info",
            ),
            (
                True,
                "they count as different values, so a rule naming one "
                "misses the others",
                "warning",
            ),
        ):
            chosen = apart.index[apart.to_numpy() == split]
            if len(chosen) == 0:
                continue
            in_groups = shared & keys.isin(chosen).to_numpy()
            values = tuple(counts.index[in_groups])
            examples = _variant_examples(counts[in_groups], keys[in_groups])
            findings.append(
                Finding(
                    "variants",
                    name,
                    f"{len(chosen)} value(s) of {name} are spelled several ways "
                    f"({examples}): {effect}",
                    severity=severity,  # type: ignore[arg-type]
                    values=values,
                    count=int(counts[in_groups].sum()),
                )
            )
    return findings


def _variant_examples(counts: pd.Series, keys: pd.Series, limit: int = 2) -> str:
    """The spellings of the largest variant groups, with their lead counts."""
    totals = counts.groupby(keys.to_numpy()).sum().sort_values(ascending=False)
    parts = []
    for key in totals.index[:limit]:
        group = counts[(keys == key).to_numpy()]
        shown = " / ".join(f"'{v}' {n:,}" for v, n in group.head(3).items())
        parts.append(shown + (" / ..." if len(group) > 3 else ""))
    more = f"; and {len(totals) - limit} more" if len(totals) > limit else ""
    return "; ".join(parts) + more


def _invalid(columns: dict[str, Column]) -> list[Finding]:
    return [
        Finding(
            "invalid",
            name,
            f"{sum(column.invalid.values()):,} cell(s) of {name} are not "
            f"{column.kind} values (e.g. {_quoted(tuple(column.invalid)[:3])}) and "
            "are read as missing; fix them or add them to missing_values",
            values=tuple(column.invalid)[:10],
            count=sum(column.invalid.values()),
        )
        for name, column in columns.items()
        if column.invalid
    ]


def _constant(columns: dict[str, Column], leads: int) -> list[Finding]:
    findings = []
    for name, column in columns.items():
        if column.codes is not None:
            distinct = len(np.unique(column.codes[column.codes >= 0]))
        else:
            assert column.values is not None
            distinct = len(np.unique(column.values[~np.isnan(column.values)]))
        if distinct == 1:
            findings.append(
                Finding(
                    "constant",
                    name,
                    f"{name} holds the same value for every lead that has one: a "
                    "rule on it matches all of them or none, so it cannot tell "
                    "leads apart",
                    severity="info",
                    count=int((~column.missing).sum()),
                )
            )
    return findings


# --- numbers and dates -------------------------------------------------------


def _outliers(columns: dict[str, Column], profile: Profile) -> list[Finding]:
    """Numbers far outside the interquartile range, and impossible negatives."""
    findings = []
    for name, column in columns.items():
        if column.kind != "number" or column.values is None:
            continue
        values = column.values[~np.isnan(column.values)]
        if len(values) < MIN_LEADS:
            continue

        low, high = np.percentile(values, [25, 75])
        spread = high - low
        if spread > 0:
            outside = (values > high + IQR_FENCE * spread) | (
                values < low - IQR_FENCE * spread
            )
            if outside.any():
                extreme = values[outside]
                findings.append(
                    Finding(
                        "outlier",
                        name,
                        f"{int(outside.sum()):,} value(s) of {name} lie far outside "
                        f"its usual range {low:g} to {high:g} (from "
                        f"{extreme.min():g} to {extreme.max():g}): thresholds are "
                        "unaffected, but check them before trusting sums and "
                        "averages",
                        severity="info",
                        values=tuple(f"{v:g}" for v in np.unique(extreme)[:10]),
                        count=int(outside.sum()),
                    )
                )

        negative = values < 0
        never_negative = bool(_COUNT_LIKE.search(name))
        if negative.any() and (never_negative or negative.mean() <= 0.01):
            findings.append(
                Finding(
                    "negative",
                    name,
                    f"{int(negative.sum()):,} value(s) of {name} are negative while "
                    "almost all are not: likely entry errors, and any rule with a "
                    "lower bound on it treats them as zero or below",
                    values=tuple(f"{v:g}" for v in np.unique(values[negative])[:10]),
                    count=int(negative.sum()),
                )
            )
    return findings


def _future_dates(
    columns: dict[str, Column], as_of_day: int, as_of: dt.date
) -> list[Finding]:
    findings = []
    for name, column in columns.items():
        if column.kind != "date" or column.values is None:
            continue
        later = column.values > as_of_day
        if later.any():
            latest = EPOCH + dt.timedelta(days=int(np.nanmax(column.values)))
            findings.append(
                Finding(
                    "future_date",
                    name,
                    f"{int(later.sum()):,} date(s) of {name} fall after the as-of "
                    f"date {as_of} (up to {latest}): within_days never matches "
                    "them and decay leaves them at full weight; check as_of",
                    count=int(later.sum()),
                )
            )
    return findings


# --- leakage -----------------------------------------------------------------


def _leaks(leads: Leads, columns: dict[str, Column]) -> list[Finding]:
    """Fields whose values all but decide the outcome.

    A field that sales fills in after contact (a disposition, a quality
    rating) has values where nearly every lead converted and others where
    nearly none did. A single near-certain value is reported too, more
    softly: it may be a real signal known before contact, or a leak.
    """
    role, outcome = _outcome(leads)
    if outcome is None:
        return [
            Finding(
                "no_outcome",
                "",
                "no outcome column is set in the profile (opportunity or won): "
                "precision, coverage and leakage cannot be measured",
            )
        ]

    outcome_fields = set(leads.profile.outcomes.values())
    least = max(MIN_LEADS, int(0.005 * len(leads)))
    findings = []
    for name, column in columns.items():
        if name in outcome_fields:
            continue
        codes, labels = _segment_codes(column)
        if codes is None:
            findings += _filled_after(name, column, role, outcome, least)
            continue
        sizes = np.bincount(codes, minlength=len(labels))
        hits = np.bincount(codes, weights=outcome, minlength=len(labels))
        rates = hits / np.maximum(sizes, 1)
        readable = (sizes >= least) & (np.arange(len(labels)) < len(labels) - 1)

        high = readable & (rates >= LEAK_HIGH)
        low = readable & (rates <= LEAK_LOW)
        if high.any() and low.any():
            findings.append(_leak(name, role, labels, sizes, rates, high, low))
        elif (readable & (rates >= STRONG_VALUE)).any():
            strong = readable & (rates >= STRONG_VALUE)
            findings.append(_strong(name, role, labels, sizes, rates, strong))
        else:
            findings += _filled_after(name, column, role, outcome, least)
    return findings


def _filled_after(
    name: str, column: Column, role: str, outcome: np.ndarray, least: int
) -> list[Finding]:
    """A field filled in (almost) only for leads that reached the outcome.

    Dates and amounts recorded at conversion (opportunity date, deal amount)
    look like perfect predictors on history and are empty for new leads.
    """
    present = ~column.missing
    filled, empty = int(present.sum()), int((~present).sum())
    if filled < least or empty < least:
        return []
    filled_rate = float(outcome[present].mean())
    empty_rate = float(outcome[~present].mean())
    if filled_rate < LEAK_HIGH or empty_rate > LEAK_LOW:
        return []
    return [
        Finding(
            "leak",
            name,
            f"{name} is filled in for {filled:,} leads, {filled_rate:.0%} of "
            f"which reached {role}, and empty for {empty:,}, of which "
            f"{empty_rate:.0%} did: it is recorded once the outcome is known, "
            "so any rule on it (even present: true) leaks the outcome",
            values=("(filled)",),
            count=filled,
        )
    ]


def _outcome(leads: Leads) -> tuple[str, np.ndarray | None]:
    for role in ("opportunity", "won"):
        values = leads.outcome(role)
        if values is not None:
            return role, values.astype(float)
    return "", None


def _leak(
    name: str,
    role: str,
    labels: list[str],
    sizes: np.ndarray,
    rates: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
) -> Finding:
    examples = [
        f"'{labels[i]}' {rates[i]:.0%} of {sizes[i]:,}"
        for i in [*np.flatnonzero(high)[:2], *np.flatnonzero(low)[:2]]
    ]
    return Finding(
        "leak",
        name,
        f"{name} all but decides the {role} outcome ({'; '.join(examples)} "
        f"reached {role}): it is probably filled in by sales after contact, so "
        "a rule on it looks far better on history than it will on new leads",
        values=tuple(labels[i] for i in np.flatnonzero(high | low)),
        count=int(sizes[high | low].sum()),
    )


def _strong(
    name: str,
    role: str,
    labels: list[str],
    sizes: np.ndarray,
    rates: np.ndarray,
    strong: np.ndarray,
) -> Finding:
    index = np.flatnonzero(strong)
    examples = [f"'{labels[i]}' {rates[i]:.0%} of {sizes[i]:,}" for i in index[:3]]
    return Finding(
        "strong_value",
        name,
        f"nearly every lead with {name} {'; '.join(examples)} reached {role}: "
        "if that value is known before sales talks to the lead it is a strong "
        "signal, otherwise it leaks the outcome",
        severity="info",
        values=tuple(labels[i] for i in index),
        count=int(sizes[strong].sum()),
    )


def _is(values: tuple[str, ...]) -> str:
    return "is" if len(values) == 1 else "are each"


def _looks(values: tuple[str, ...]) -> str:
    return "looks" if len(values) == 1 else "look"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def render_report(report: QualityReport, top: int = 15) -> str:
    """The report as plain text for the command line.

    Lists the fields with the most missing values (up to ``top``), then every
    finding, warnings first, one line each.
    """
    when = f"as of {report.as_of}" if report.dated else "no dates in the profile"
    lines = [f"Data quality of {report.leads:,} leads ({when}):", ""]
    gaps = report.missing[report.missing["missing"] > 0].sort_values(
        "missing_share", ascending=False
    )
    if gaps.empty:
        lines.append("No field has missing values.")
    else:
        lines.append("Missing values by field:")
        width = min(max(len(name) for name in gaps["field"].head(top)), 48)
        for row in gaps.head(top).itertuples():
            bar = "#" * round(row.missing_share * 20)
            name = row.field[:width]
            lines.append(f"  {name:<{width}} {row.missing_share:>5.0%} {bar}")
        if len(gaps) > top:
            lines.append(f"  ... and {len(gaps) - top} more field(s) with gaps")

    ordered = sorted(report.findings, key=lambda f: f.severity != "warning")
    lines += ["", f"Findings ({len(ordered)}):" if ordered else "No findings."]
    lines += [f"  {finding.severity}: {finding.message}" for finding in ordered]
    return "\n".join(lines)
