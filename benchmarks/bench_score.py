"""Benchmark: load, prepare and score a million leads; compare with DuckDB.

Run from the repository root::

    python benchmarks/bench_score.py [--leads 1000000] [--reference-leads 20000]

Prints figures; asserts nothing. Loading and preparing (CSV parsing, text
normalising, dates and lists) happens once per dataset and is timed on its own;
scoring is what a workshop repeats after every edit and is timed cold (no rule
cache) and after a one-rule edit (cache warm). The same rules then run as SQL in
DuckDB over the same prepared values, and the per-row reference evaluator runs on
a smaller sample, so that the ratios can be printed.
"""

from __future__ import annotations

import argparse
import copy
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leadsim.conditions import ConditionCache, resolve_lists  # noqa: E402
from leadsim.criteria import load_criteria, parse_criteria  # noqa: E402
from leadsim.dataset import EPOCH, Leads, load_leads  # noqa: E402
from leadsim.evaluate import STAGES, evaluate  # noqa: E402
from leadsim.reference import reference_evaluate  # noqa: E402

PUBLISHED = ROOT / "criteria" / "erp-lead-stages" / "1.0.0.yaml"
PROFILE = ROOT / "sample_leads" / "profile.yaml"
GENERATE = (
    "import sys; from leadsim.sample import generate; "
    "generate(int(sys.argv[1]), seed=11)[0].to_csv(sys.argv[2], index=False)"
)


def forty_rule_criteria() -> Any:
    """The published criteria, grown to 40 rules with realistic extra ones."""
    document = copy.deepcopy(load_criteria(PUBLISHED).data)
    extra = [
        ("fit", {"field": "employees", "between": [100, 2000]}, 5),
        ("fit", {"field": "current_system", "contains": "legacy"}, 5),
        ("fit", {"field": "job_title", "contains_any": ["cfo", "controller"]}, 5),
        ("fit", {"field": "region", "not_in": ["other"]}, 3),
        ("fit", {"field": "modules_of_interest", "contains_all": ["finance"]}, 4),
        ("fit", {"not": {"field": "email_domain", "contains": "gmail"}}, 2),
        ("engagement", {"field": "email_clicks", "gte": 3}, 4),
        ("engagement", {"field": "event_signups", "gt": 0}, 6),
        ("engagement", {"field": "last_activity_at", "within_days": 30}, 5),
        ("engagement", {"field": "created_at", "older_than_days": 365}, -5),
        ("engagement", {"field": "source", "in": ["webinar", "referral"]}, 3),
        (
            "engagement",
            {
                "any": [
                    {"field": "pricing_page_visits", "gte": 2},
                    {
                        "all": [
                            {"field": "page_visits", "gte": 10},
                            {"field": "form_submissions", "gte": 1},
                        ]
                    },
                ]
            },
            6,
        ),
        ("engagement", {"field": "campaign", "present": True}, 2),
        (
            "engagement",
            {
                "field": "content_downloads",
                "contains_any": ["implementation-guide", "erp-evaluation-checklist"],
            },
            4,
        ),
    ]
    for position, (group, condition, points) in enumerate(extra):
        rules = document["mql"][group]["rules"]
        rules.append(
            {
                "id": f"bench-{position}",
                "label": f"Bench {position}",
                "points": points,
                "when": condition,
            }
        )
    criteria = parse_criteria(yaml.safe_dump(document, sort_keys=False), "<bench>")
    assert len(criteria.rules()) >= 40, len(criteria.rules())
    return criteria


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action: Any, repeat: int = 1) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    print(f"  {label:<44} {best:8.3f} s")
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--reference-leads", type=int, default=20_000)
    args = parser.parse_args()

    criteria = forty_rule_criteria()
    print(
        f"leadsim scoring benchmark: {args.leads:,} leads, "
        f"{len(criteria.rules())} rules"
    )

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "leads.csv"
        started = time.perf_counter()
        # Generating a million leads with their events takes more memory than
        # scoring them; a child process keeps it out of the peak measured here.
        subprocess.run(
            [sys.executable, "-c", GENERATE, str(args.leads), str(data)],
            check=True,
            cwd=ROOT,
        )
        size = data.stat().st_size / 1e6
        print(
            f"  generated {size:,.0f} MB of CSV in "
            f"{time.perf_counter() - started:.1f} s (not timed below)"
        )

        base_memory = peak_mb()
        leads, load_seconds = timed(
            "load + prepare (once per dataset)", lambda: load_leads(data, PROFILE)
        )

    cold, score_seconds = timed(
        "score, cold (every rule computed)", lambda: evaluate(criteria, leads), repeat=3
    )
    cache = ConditionCache()
    evaluate(criteria, leads, cache=cache)
    edited = copy.deepcopy(criteria.data)
    edited["mql"]["engagement"]["rules"][0]["points"] += 5
    edited["mql"]["fit"]["rules"][0]["when"] = {"field": "industry", "eq": "retail"}
    edited_criteria = parse_criteria(yaml.safe_dump(edited, sort_keys=False), "<bench>")
    _, edit_seconds = timed(
        "score after a one-rule edit (cache warm)",
        lambda: evaluate(edited_criteria, leads, cache=cache),
        repeat=3,
    )
    ours_memory = peak_mb()
    _, table_seconds = timed("score output table (the CLI's CSV rows)", cold.table)
    table_memory = peak_mb()

    duck_seconds = duckdb_comparison(criteria, leads, cold)

    small = subset(leads, args.reference_leads)
    fast = evaluate(criteria, small)
    reference_rows, reference_seconds = timed(
        f"reference evaluator, {len(small):,} leads",
        lambda: reference_evaluate(criteria, small),
    )
    agree = sum(row["stage"] == stage for row, stage in zip(reference_rows, fast.stage))
    per_lead_reference = reference_seconds / len(small)
    per_lead_ours = score_seconds / len(leads)

    rows = [
        ("load + prepare", f"{load_seconds:.2f} s", "target <= 5 s"),
        ("score, cold", f"{score_seconds:.3f} s", "target <= 0.3 s"),
        ("score after a one-rule edit", f"{edit_seconds:.3f} s", ""),
        ("score output table", f"{table_seconds:.2f} s", "the CLI's CSV rows"),
        (
            "DuckDB, same rules",
            f"{duck_seconds:.3f} s",
            f"ours {duck_seconds / score_seconds:.1f}x faster",
        ),
        (
            "vs reference, per lead",
            f"{per_lead_reference / per_lead_ours:,.0f}x faster",
            "target >= 100x",
        ),
        (
            "peak memory, load + score",
            f"{ours_memory:,.0f} MB",
            f"target <= 1,500 MB; {base_memory:,.0f} MB before loading",
        ),
        ("peak memory with output table", f"{table_memory:,.0f} MB", ""),
    ]
    print()
    print(f"  stage counts: {cold.stage_counts()}")
    print(f"  reference agrees on {agree:,} of {len(small):,} stages")
    for label, figure, note in rows:
        print(f"  {label:<32} {figure:>14}   {note}")


def subset(leads: Leads, count: int) -> Leads:
    """The first ``count`` leads, prepared again from their raw cells."""
    from leadsim.dataset import prepare_leads

    return prepare_leads(
        leads.frame.head(count).reset_index(drop=True), leads.profile, source="<subset>"
    )


# --- DuckDB: the same rules as SQL over the same prepared values ----------------


def duckdb_comparison(criteria: Any, leads: Leads, ours: Any) -> float:
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET threads TO 2")
    table = prepared_table(leads)
    connection.register("leads", table)
    connection.execute("CREATE TABLE prepared AS SELECT * FROM leads")
    connection.unregister("leads")
    query = criteria_sql(criteria, leads)

    def run() -> pd.DataFrame:
        return connection.execute(query).df()

    result, seconds = timed("DuckDB, same rules as SQL", run, repeat=3)
    stages = result["stage"].to_numpy()
    queues = result["queue"].to_numpy()
    same_stage = int((stages == ours.stage).sum())
    same_queue = int((queues == ours.queue).sum())
    print(
        f"  DuckDB agrees on {same_stage:,} stages and {same_queue:,} queues "
        f"of {len(leads):,}"
    )
    return seconds


def prepared_table(leads: Leads) -> pd.DataFrame:
    """Prepared columns as plain values: normalised text, lists, day numbers."""
    columns: dict[str, Any] = {"row_number": np.arange(len(leads))}
    for name, column in leads.columns.items():
        if column.codes is None:
            columns[name] = column.values
            continue
        if column.kind == "list":
            decoded = np.array(
                [sorted(items) for items in column.categories] + [None], dtype=object
            )
        else:
            decoded = np.array(column.categories + [None], dtype=object)
        columns[name] = decoded[column.codes]
    return pd.DataFrame(columns)


def criteria_sql(criteria: Any, leads: Leads) -> str:
    data = criteria.data
    lists = data.get("lists") or {}
    kinds = {name: column.kind for name, column in leads.columns.items()}
    as_of = (leads.as_of - EPOCH).days

    def leaf(condition: dict) -> str:
        if "all" in condition:
            return "(" + " AND ".join(leaf(c) for c in condition["all"]) + ")"
        if "any" in condition:
            return "(" + " OR ".join(leaf(c) for c in condition["any"]) + ")"
        if "not" in condition:
            return f"(NOT {leaf(condition['not'])})"
        if "stage" in condition:
            return f"(stage = '{condition['stage']}')"
        if "score" in condition:
            operator = next(k for k in condition if k != "score")
            return compare(
                f"{condition['score']}_score", "number", operator, condition[operator]
            )
        name = condition["field"]
        operator = next(k for k in condition if k != "field")
        test = compare(quote(name), kinds[name], operator, condition[operator])
        return f"COALESCE({test}, FALSE)"

    def compare(column: str, kind: str, operator: str, value: Any) -> str:
        if operator == "present":
            return f"({column} IS {'NOT ' if value else ''}NULL)"
        if operator == "within_days":
            return f"({as_of} - {column} BETWEEN 0 AND {value})"
        if operator == "older_than_days":
            return f"({as_of} - {column} > {value})"
        if kind in {"text", "list"}:
            return text_compare(column, kind, operator, value)
        literal = number_literal(kind)
        if operator == "between":
            return f"({column} BETWEEN {literal(value[0])} AND {literal(value[1])})"
        if operator in {"in", "not_in"}:
            items = ", ".join(literal(v) for v in value)
            negate = "NOT " if operator == "not_in" else ""
            return f"({column} {negate}IN ({items}))"
        symbol = {
            "eq": "=",
            "ne": "<>",
            "gt": ">",
            "gte": ">=",
            "lt": "<",
            "lte": "<=",
        }[operator]
        return f"({column} {symbol} {literal(value)})"

    def text_compare(column: str, kind: str, operator: str, value: Any) -> str:
        values = value if isinstance(value, list) else [value]
        items = "[" + ", ".join(text_literal(v) for v in values) + "]"
        first = text_literal(values[0])
        if kind == "list":
            return {
                "eq": f"list_contains({column}, {first})",
                "contains": f"list_contains({column}, {first})",
                "ne": f"NOT list_contains({column}, {first})",
                "in": f"list_has_any({column}, {items})",
                "contains_any": f"list_has_any({column}, {items})",
                "not_in": f"NOT list_has_any({column}, {items})",
                "contains_all": f"list_has_all({column}, {items})",
            }[operator]
        return {
            "eq": f"{column} = {first}",
            "ne": f"{column} <> {first}",
            "in": f"{column} IN ({items[1:-1]})",
            "not_in": f"{column} NOT IN ({items[1:-1]})",
            "contains": f"contains({column}, {first})",
            "contains_any": "("
            + " OR ".join(f"contains({column}, {text_literal(v)})" for v in values)
            + ")",
            "contains_all": "("
            + " AND ".join(f"contains({column}, {text_literal(v)})" for v in values)
            + ")",
        }[operator]

    rules = criteria.rules()
    matches = ",\n  ".join(
        f"{leaf(resolve_lists(rule.when, lists))} AS {quote('m_' + rule.id)}"
        for rule in rules
    )
    mql = data["mql"]

    def group(section: str) -> str:
        spec = mql.get(section) or {}
        parts = [
            f"CASE WHEN {quote('m_' + r.id)} THEN {float(r.points)} ELSE 0 END"
            for r in rules
            if r.section == section
        ]
        score = "(" + (" + ".join(parts) or "0") + ")"
        decay = spec.get("decay")
        if decay:
            age = f"({as_of} - {quote(decay['date_field'])})"
            half_life = float(decay["half_life_days"])
            factor = f"pow(0.5, {age} / {half_life})"
            score = f"({score} * CASE WHEN {age} >= 0 THEN {factor} ELSE 1 END)"
        score = f"greatest({score}, 0)"
        if spec.get("cap") is not None:
            score = f"least({score}, {float(spec['cap'])})"
        return score

    def any_of(section: str) -> str:
        names = [quote("m_" + r.id) for r in rules if r.section == section]
        return "(" + (" OR ".join(names) or "FALSE") + ")"

    threshold = (
        " AND ".join(
            f"{key}_score >= {float(v)}" for key, v in mql["threshold"].items()
        )
        or "TRUE"
    )
    sql_spec = data.get("sql") or {}
    required = (
        " AND ".join(quote("m_" + r.id) for r in rules if r.section == "require")
        or "TRUE"
    )
    optional = [quote("m_" + r.id) for r in rules if r.section == "require_any"]
    minimum = (sql_spec.get("require_any") or {}).get("min", 0)
    optional_sql = (
        "(" + " + ".join(f"CAST({o} AS INTEGER)" for o in optional) + f") >= {minimum}"
        if optional and minimum
        else "TRUE"
    )
    account = sql_spec.get("account")

    stage_sql = "lead_stage"
    account_cte = "SELECT *, lead_stage AS stage FROM staged"
    if account:
        key = quote(account["key"])
        department = quote(account.get("department_field", "department"))
        group_key = f"COALESCE({key}, '#' || row_number)"
        ready = (
            f"(max(CASE WHEN lead_stage = 'sql' THEN 1 ELSE 0 END) OVER w = 1"
            " AND sum(CASE WHEN lead_stage IN ('mql', 'sql') THEN 1 ELSE 0 END)"
            f" OVER w >= {account['min_contacts']}"
            " AND count(DISTINCT CASE WHEN lead_stage IN ('mql', 'sql')"
            f" THEN {department} END) OVER w >= {account.get('min_departments', 1)})"
        )
        stage_sql = (
            f"CASE WHEN lead_stage = 'mql' AND ready THEN 'sql' "
            "WHEN lead_stage = 'sql' AND NOT ready AND "
            f"{str(bool(account.get('required'))).upper()} THEN 'mql' "
            f"ELSE lead_stage END"
        )
        account_cte = (
            f"SELECT *, {stage_sql} AS stage FROM "
            f"(SELECT *, {ready} AS ready FROM staged "
            f"WINDOW w AS (PARTITION BY {group_key}))"
        )

    routes = data.get("routing") or []
    route_cases = " ".join(
        f"WHEN {leaf(resolve_lists(r['when'], lists))} THEN '{r['queue']}'"
        for r in routes
    )
    fallback = data["fallback"]["queue"]
    return f"""
WITH matched AS (SELECT *,
  {matches}
FROM prepared),
scored AS (SELECT *, {group("fit")} AS fit_score,
  {group("engagement")} AS engagement_score FROM matched),
totals AS (SELECT *, fit_score + engagement_score AS total_score FROM scored),
staged AS (SELECT *, CASE
  WHEN {any_of("exclude")} THEN 'disqualified'
  WHEN ({threshold} OR {any_of("fast_track")}) AND {required}
    AND {optional_sql} {"" if sql_spec else "AND FALSE"} THEN 'sql'
  WHEN ({threshold} OR {any_of("fast_track")}) THEN 'mql'
  ELSE 'lead' END AS lead_stage FROM totals),
final AS ({account_cte})
SELECT row_number, stage, CASE {route_cases} ELSE '{fallback}' END AS queue
FROM final ORDER BY row_number
"""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_literal(value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "'" + str(value).strip().lower().replace("'", "''") + "'"


def number_literal(kind: str) -> Any:
    def literal(value: Any) -> str:
        if kind == "date":
            from leadsim.dataset import day_number

            return repr(day_number(value))
        if isinstance(value, bool):
            return "1.0" if value else "0.0"
        return repr(float(value))

    return literal


if __name__ == "__main__":
    assert STAGES
    main()
