"""A simulation as a markdown summary, for a pull request that changes criteria.

A reviewer reads, in order: the headline counts and rates with their 95%
intervals (a change whose intervals overlap is said to be not significant),
the sales load, the segments that move most, the top flips with their
reasons, the rules that changed, a slice of the threshold sweep, and the
caveats. Everything comes from one :class:`~leadsim.simulate.Simulation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from leadsim.simulate import Funnel, Simulation, plural
from leadsim.stats import Delta, Rate

TOP_FLIPS = 10
TOP_SEGMENTS = 8
SWEEP_STEP = 5
SWEEP_SPAN = 20

HEADLINE_RATES = (
    ("mql_to_sql", "MQL→SQL rate"),
    ("mql_opportunity", "MQLs that reached an opportunity"),
    ("mql_won", "MQLs that won"),
    ("sql_opportunity", "SQLs that reached an opportunity"),
    ("sql_won", "SQLs that won"),
    ("opportunity_coverage", "Opportunities caught at MQL"),
    ("won_coverage", "Wins caught at MQL"),
)


def render_markdown(simulation: Simulation) -> str:
    """The pull-request summary of a simulation, as markdown text."""
    sections = [
        _title(simulation),
        _headline(simulation),
        _load(simulation),
        _segments(simulation),
        _flips(simulation),
        _rules(simulation),
        _sweep(simulation),
        _caveats(simulation),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def percent(value: float | None) -> str:
    """A share as ``46.4%``; ``n/a`` when there is none."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


def rate_text(rate: Rate) -> str:
    """A rate with its interval and count: ``46.4% (44.6–48.2%, n=2,926)``."""
    if rate.value is None:
        return "n/a (no leads)"
    text = (
        f"{percent(rate.value)} ({rate.low * 100:.1f}–{rate.high * 100:.1f}%, "
        f"n={rate.n:,})"
    )
    return text + " ⚠ small sample" if rate.small else text


def delta_text(delta: Delta) -> str:
    """A rate change in points, saying whether it can be read as a change."""
    if delta.difference is None:
        return "n/a"
    points = f"{delta.difference * 100:+.1f} pts"
    if not delta.significant:
        return f"{points}, not significant"
    return f"**{points}**, significant"


def count_change(before: int, after: int) -> str:
    """A count change as ``+174 (+5.9%)``."""
    change = after - before
    if not before:
        return f"{change:+,}"
    return f"{change:+,} ({change / before * 100:+.1f}%)"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _title(simulation: Simulation) -> str:
    dataset = simulation.dataset
    draft = simulation.draft_criteria["name"]
    baseline = simulation.baseline_criteria["name"]
    created = ""
    if dataset.get("first_created"):
        created = f", created {dataset['first_created']} to {dataset['last_created']}"
    return (
        f"## Simulation: {draft} against {baseline}\n\n"
        f"Replayed on {dataset['leads']:,} historical leads from "
        f"`{dataset['source'] or 'the lead table'}`{created}, as of "
        f"{dataset['as_of']}."
    )


def _headline(simulation: Simulation) -> str:
    baseline, draft = simulation.baseline, simulation.draft
    deltas = simulation.deltas
    rows: list[list[object]] = [
        ["MQLs (stage mql or sql)", f"{baseline.mql:,}", f"{draft.mql:,}",
         count_change(baseline.mql, draft.mql)],
        ["SQLs", f"{baseline.sql:,}", f"{draft.sql:,}",
         count_change(baseline.sql, draft.sql)],
        ["Disqualified", f"{baseline.stages['disqualified']:,}",
         f"{draft.stages['disqualified']:,}",
         count_change(baseline.stages["disqualified"], draft.stages["disqualified"])],
    ]  # fmt: skip
    rows += [
        [label, rate_text(baseline.rates[name]), rate_text(draft.rates[name]),
         delta_text(deltas[name])]
        for name, label in HEADLINE_RATES
    ]  # fmt: skip
    rows.append(_amount_row(baseline, draft))
    note = ""
    if draft.unobserved_mql:
        note = (
            "\n\nThe draft's rates leave out "
            f"{plural(draft.unobserved_mql, 'new MQL')} and "
            f"{plural(draft.unobserved_sql, 'new SQL')} that sales never worked; "
            "they have no observed outcome and count in volume only."
        )
    return (
        "### Headline\n\n"
        + _table(["", "baseline", "draft", "change"], rows)
        + "\n\nRates show the 95% Wilson interval; a change whose intervals "
        "overlap is not significant and is no evidence either way." + note
    )


def _amount_row(baseline: Funnel, draft: Funnel) -> list[object]:
    before, after = baseline.amount_coverage, draft.amount_coverage
    change = "n/a"
    if before is not None and after is not None:
        change = f"{(after - before) * 100:+.1f} pts (no interval: a share of money)"
    return ["Won amount caught at MQL", percent(before), percent(after), change]


def _load(simulation: Simulation) -> str:
    load = simulation.load
    if not load.weeks:
        return ""
    rows = [
        ["MQLs a week, mean", f"{load.baseline_mean:,.1f}", f"{load.draft_mean:,.1f}"],
        ["MQLs a week, peak", f"{load.baseline_peak:,}", f"{load.draft_peak:,}"],
    ]
    if load.capacity is not None:
        rows.append(
            [
                f"Weeks over the SDR capacity of {load.capacity:g}",
                f"{load.baseline_weeks_over} of {load.weeks}",
                f"{load.draft_weeks_over} of {load.weeks}",
            ]
        )
    return "### Sales load\n\n" + _table(["", "baseline", "draft"], rows)


def _segments(simulation: Simulation) -> str:
    shifts = simulation.segment_shifts(TOP_SEGMENTS)
    if not shifts:
        return "### Segments\n\nNo segment changes its MQL volume."
    rows = []
    for column, value in shifts:
        before = value.baseline.rates["mql_opportunity"]
        after = value.draft.rates["mql_opportunity"]
        reading = "too few to read" if value.small else ""
        rows.append(
            [
                f"{column} = {value.value}",
                f"{value.baseline.leads:,}",
                f"{value.baseline.mql:,} → {value.draft.mql:,}",
                f"{percent(before.value)} → {percent(after.value)}",
                delta_text(value.deltas["mql_opportunity"]),
                reading,
            ]
        )
    return "### Biggest segment shifts\n\n" + _table(
        ["segment", "leads", "MQLs", "MQLs that reached an opportunity", "change", ""],
        rows,
    )


def _flips(simulation: Simulation) -> str:
    flips = simulation.flips
    if not flips.count:
        return "### Flips\n\nNo lead changes stage or queue."
    moves = ", ".join(
        f"{move['from']} → {move['to']}: {move['count']:,}"
        for move in flips.transitions
    )
    intro = (
        f"{flips.count:,} leads change stage or queue ({flips.stage_changes:,} "
        f"change stage, {flips.queue_only:,} only their queue)."
    )
    if moves:
        intro += f" Stage moves: {moves}."
    shown = flips.listed[:TOP_FLIPS]
    rows = [
        [
            flip.lead_id,
            f"{flip.baseline_stage} → {flip.draft_stage}",
            f"{flip.baseline_queue} → {flip.draft_queue}",
            flip.reason,
        ]
        for flip in shown
    ]
    title = f"### Flips (top {len(shown)})" if len(shown) < flips.count else "### Flips"
    return f"{title}\n\n{intro}\n\n" + _table(["lead", "stage", "queue", "why"], rows)


def _rules(simulation: Simulation) -> str:
    changed = [impact for impact in simulation.rules if impact.status != "unchanged"]
    heavy = sorted(
        (impact for impact in simulation.rules if impact.status == "unchanged"),
        key=lambda impact: -(impact.mqls_lost_without + impact.mqls_gained_without),
    )[:3]
    listed = changed + [impact for impact in heavy if impact.mqls_lost_without]
    if not listed:
        return ""
    rows = []
    for impact in listed:
        lift = "n/a" if impact.lift is None else f"{impact.lift:.2f}×"
        if impact.lift is not None and not impact.lift_significant:
            lift += ", not significant"
        without = f"−{impact.mqls_lost_without:,}"
        if impact.mqls_gained_without:
            without = f"+{impact.mqls_gained_without:,}"
        if impact.section in ("require", "require_any"):
            without = "— (SQL rule)"
        if impact.status == "removed":
            without = "— (removed)"
        rows.append(
            [
                f"`{impact.id}`",
                impact.section,
                impact.status,
                f"{impact.matched:,}",
                f"{percent(impact.opportunity_matched.value)} vs "
                f"{percent(impact.opportunity_rest.value)}",
                lift,
                without,
            ]
        )
    return "### Rules that changed, and the heaviest ones\n\n" + _table(
        [
            "rule",
            "section",
            "status",
            "leads matched",
            "opportunity rate, matched vs rest (worked leads)",
            "lift",
            "MQLs without it",
        ],
        rows,
    )


def _sweep(simulation: Simulation) -> str:
    sweep = simulation.sweep
    if not sweep.thresholds:
        return ""
    current = int(sweep.current) if sweep.current is not None else None
    centre = current if current is not None else sweep.thresholds[-1] // 2
    low = max(0, centre - SWEEP_SPAN)
    high = min(sweep.thresholds[-1], centre + SWEEP_SPAN)
    picks = sorted({*range(low, high + 1, SWEEP_STEP), centre} & {*sweep.thresholds})
    rows = [
        [
            f"**{t}** (draft)" if t == current else str(t),
            f"{sweep.mql[t]:,}",
            percent(sweep.precision[t]),
            percent(sweep.coverage[t]),
            percent(sweep.amount_coverage[t]),
        ]
        for t in picks
    ]
    kept = ", ".join(
        f"{name} ≥ {value:g}" for name, value in sweep.kept["minimums"].items()
    )
    note = "Only the total minimum moves; exclusions and fast track stay"
    note += f", as do {kept}." if kept else "."
    return (
        "### Threshold sweep (draft)\n\n"
        + note
        + "\n\n"
        + _table(
            [
                "total ≥",
                "MQLs",
                "reached an opportunity",
                "opportunities caught",
                "won amount caught",
            ],
            rows,
        )
    )


def _caveats(simulation: Simulation) -> str:
    if not simulation.caveats:
        return ""
    return "### Caveats\n\n" + "\n".join(f"- {text}" for text in simulation.caveats)
