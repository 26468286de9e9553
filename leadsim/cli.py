"""The command line: ``python -m leadsim COMMAND ...``.

Each command has one ``_add_<name>_parser`` function that declares its
arguments and one ``_run_<name>(args) -> int`` handler; :func:`main` parses,
dispatches, and is the single place that turns a :class:`LeadsimError` into
``FILE:LINE:COL: message`` lines on stderr and exit code 1. A user never sees
a traceback for bad input.

Exit codes: 0 success, 1 invalid input, 2 usage error (from argparse).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence

from leadsim import __version__
from leadsim.errors import LeadsimError, Problem

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process arguments); exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )

    try:
        return args.handler(args)
    except LeadsimError as error:
        print_problems(error.problems)
        return EXIT_INVALID
    except OSError as error:
        where = error.filename or "<input>"
        print(
            f"{where}: cannot use this file: {error.strerror or error}", file=sys.stderr
        )
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        # A bug rather than bad input; the user still gets one line, and the
        # traceback with --verbose for the report.
        if args.verbose:
            raise
        print(
            f"internal error: {type(error).__name__}: {error}; this is a leadsim "
            "bug, not your input: rerun with --verbose and report the output",
            file=sys.stderr,
        )
        return EXIT_INVALID


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m leadsim",
        description="Agree MQL and SQL criteria, replay them on history, publish them.",
    )
    parser.add_argument("--version", action="version", version=f"leadsim {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log what happens, for debugging"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_validate_parser(subparsers)
    _add_score_parser(subparsers)
    _add_schema_parser(subparsers)
    _add_diff_parser(subparsers)
    _add_publish_parser(subparsers)
    _add_profile_parser(subparsers)
    _add_simulate_parser(subparsers)
    return parser


def print_problems(problems: Iterable[Problem]) -> None:
    """Write problems to stderr, one ``FILE:LINE:COL: message`` line each."""
    for problem in problems:
        print(problem.render(), file=sys.stderr)


# --- validate ------------------------------------------------------------------


def _add_validate_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "validate",
        help="check criteria files",
        description="Check criteria files against the schema and the semantic "
        "rules; optionally check their fields against a lead dataset.",
    )
    command.add_argument("files", nargs="+", metavar="FILE", help="criteria YAML files")
    command.add_argument(
        "--leads", metavar="DATA", help="also check fields against this lead table"
    )
    command.add_argument(
        "--profile", metavar="FILE", help="the dataset profile (default: beside DATA)"
    )
    command.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from leadsim.criteria import check_against_leads, load_criteria, referenced_fields

    if args.profile and not args.leads:
        raise LeadsimError.single("--profile needs --leads DATA; add the lead table")
    leads = _load_leads(args.leads, args.profile) if args.leads else None

    status = EXIT_OK
    for file in args.files:
        try:
            criteria = load_criteria(file)
        except LeadsimError as error:
            print_problems(error.problems)
            status = EXIT_INVALID
            continue

        problems = list(criteria.warnings)
        if leads is not None:
            problems += check_against_leads(criteria, leads)
            problems += leads.check_fields(referenced_fields(criteria))
        print_problems(problems)
        if any(problem.severity == "error" for problem in problems):
            status = EXIT_INVALID
            continue
        counts = (
            f"{_count(len(criteria.rules()), 'rule')}, "
            f"{_count(len(criteria.routes()), 'route')}"
        )
        print(f"ok: {file} ({criteria.id} {criteria.version}, {counts})")
    return status


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _load_leads(data: str, profile: str | None):  # noqa: ANN202 - Leads, imported lazily
    from leadsim.dataset import load_leads

    return load_leads(data, profile)


# --- score -----------------------------------------------------------------------


def _add_score_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "score",
        help="score every lead of a table under a criteria file",
        description="Score, stage and route every lead; write one CSV row per lead: "
        "lead_id, fit_score, engagement_score, total_score, stage, mql_via, "
        "sql_via, queue, follow_up_days, matched_rules.",
    )
    command.add_argument("--criteria", required=True, metavar="FILE")
    command.add_argument("--leads", required=True, metavar="DATA")
    command.add_argument(
        "--profile", metavar="FILE", help="the dataset profile (default: beside DATA)"
    )
    command.add_argument(
        "--out", metavar="FILE", help="write the CSV here (default: standard output)"
    )
    command.set_defaults(handler=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    from leadsim.criteria import check_against_leads, load_criteria
    from leadsim.errors import CriteriaError, raise_if_errors
    from leadsim.evaluate import STAGES, evaluate
    from leadsim.importer import neutralise_formulas

    criteria = load_criteria(args.criteria)
    leads = _load_leads(args.leads, args.profile)
    raise_if_errors(check_against_leads(criteria, leads), CriteriaError)

    table = neutralise_formulas(evaluate(criteria, leads).table())
    if args.out:
        table.to_csv(args.out, index=False)
        counts = table["stage"].value_counts()
        summary = ", ".join(f"{counts.get(s, 0):,} {s}" for s in STAGES)
        print(f"wrote {len(table):,} leads to {args.out}: {summary}")
    else:
        table.to_csv(sys.stdout, index=False)
    return EXIT_OK


# --- schema ----------------------------------------------------------------------


def _add_schema_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of criteria files",
        description="Print the JSON Schema (draft 2020-12) of criteria files.",
    )
    command.set_defaults(handler=_run_schema)


def _run_schema(args: argparse.Namespace) -> int:
    from leadsim.criteria import criteria_schema

    print(json.dumps(criteria_schema(), indent=2))
    return EXIT_OK


# --- diff ------------------------------------------------------------------------


def _add_diff_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "diff",
        help="say what changed between two criteria files",
        description="List what changed from OLD to NEW in words (rules, points, "
        "conditions, thresholds, requirements, routing, glossary), and the "
        "version bump the changes call for.",
    )
    command.add_argument("old", metavar="OLD", help="the earlier criteria file")
    command.add_argument("new", metavar="NEW", help="the later criteria file")
    command.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="plain text (default) or markdown for a pull request",
    )
    command.set_defaults(handler=_run_diff)


def _run_diff(args: argparse.Namespace) -> int:
    from leadsim.criteria import load_criteria
    from leadsim.diff import diff_criteria, render_diff, suggest_bump

    old, new = load_criteria(args.old), load_criteria(args.new)
    changes = diff_criteria(old, new)
    print(render_diff(changes, markdown=args.format == "markdown"))
    if changes:
        print(f"\nSuggested bump: {suggest_bump(changes)}")
    return EXIT_OK


# --- publish ---------------------------------------------------------------------


def _add_publish_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "publish",
        help="publish a draft as the next approved version",
        description="Validate DRAFT, show what changed against the current "
        "version (and the simulated impact with --leads), and write it as a new, "
        "immutable version approved by marketing and sales. To roll back, give "
        "an old version's file as DRAFT.",
    )
    command.add_argument("draft", metavar="DRAFT", help="the draft criteria file")
    command.add_argument(
        "--approve",
        action="append",
        default=[],
        metavar="ROLE=NAME",
        help="an approval: marketing=NAME and sales=NAME, two different people",
    )
    command.add_argument(
        "--bump",
        choices=("major", "minor", "patch"),
        help="the version bump (default: the one the changes call for)",
    )
    command.add_argument(
        "--set-version",
        metavar="VERSION",
        help="publish as this version instead of bumping (must be above the current)",
    )
    command.add_argument(
        "--summary", help="a one-line summary (default: from the diff)"
    )
    command.add_argument(
        "--leads", metavar="DATA", help="simulate the impact on this data"
    )
    command.add_argument(
        "--profile", metavar="FILE", help="the dataset profile (default: beside DATA)"
    )
    command.add_argument(
        "--root", default="criteria", help="the criteria store (default: criteria)"
    )
    command.set_defaults(handler=_run_publish)


def _run_publish(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from leadsim.criteria import load_criteria
    from leadsim.diff import render_diff
    from leadsim.errors import PublishError
    from leadsim.publish import (
        check_approvals,
        parse_approvals,
        plan_publication,
        publish,
        render_headline,
    )
    from leadsim.store import CriteriaStore

    if args.profile and not args.leads:
        raise LeadsimError.single("--profile needs --leads DATA; add the lead table")
    try:
        approvals = parse_approvals(args.approve)
        check_approvals(approvals)
        draft = load_criteria(args.draft)
        store = CriteriaStore(args.root)
        plan = plan_publication(store, draft)
        leads = _load_leads(args.leads, args.profile) if args.leads else None
        published = publish(
            store,
            draft,
            approvals,
            bump=args.bump,
            leads=leads,
            summary=args.summary,
            plan=plan,
            version=args.set_version,
        )
    except PublishError as error:
        # Approval and version problems belong to no file line; name the draft.
        located = [replace(p, file=p.file or args.draft) for p in error.problems]
        raise PublishError(located) from None
    if published.previous_version:
        print(f"Changes against {published.criteria_id} {published.previous_version}:")
        print(render_diff(published.changes, markdown=False))
    else:
        print(f"First published version of {published.criteria_id}.")
    if published.headline:
        print("\nSimulated impact:")
        print(render_headline(published.headline))
    for warning in published.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    approvers = " and ".join(f"{a.name} ({a.role})" for a in published.approvals)
    print(f"\nPublished {published.criteria_id} {published.version}, approved by")
    print(f"{approvers}: {published.path}")
    return EXIT_OK


# --- profile ---------------------------------------------------------------------


def _add_profile_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "profile",
        help="propose a dataset profile for a lead export and review its quality",
        description="Read a raw lead export (CSV, Parquet or Excel), propose the "
        "dataset profile that says how to read it, and print the data-quality "
        "report: missing values, placeholders, spelling variants, outliers and "
        "fields that leak the outcome.",
    )
    command.add_argument("data", metavar="DATA", help="the lead table")
    command.add_argument(
        "--out",
        metavar="PROFILE",
        help="write the proposed profile here (e.g. DATA_STEM.profile.yaml "
        "beside the data); without it the profile is printed",
    )
    command.add_argument(
        "--profile",
        metavar="FILE",
        help="review the data under this existing profile instead of proposing one",
    )
    command.set_defaults(handler=_run_profile)


def _run_profile(args: argparse.Namespace) -> int:
    from leadsim.dataset import load_profile
    from leadsim.importer import read_table
    from leadsim.profiling import check_profile, profile_to_yaml, propose_profile
    from leadsim.quality import quality_report, render_report

    frame = read_table(args.data)
    if args.profile:
        profile = load_profile(args.profile)
    else:
        profile = propose_profile(frame)
    problems = check_profile(frame, profile)
    print_problems(problems)
    if any(problem.severity == "error" for problem in problems):
        return EXIT_INVALID

    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(profile_to_yaml(profile))
        print(f"Wrote the proposed profile to {args.out}; review it before use.")
    elif not args.profile:
        print(profile_to_yaml(profile))
    print(render_report(quality_report(frame, profile)))
    return EXIT_OK


# --- simulate --------------------------------------------------------------------


def _add_simulate_parser(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "simulate",
        help="replay a draft and a baseline on historical leads and compare them",
        description="Evaluate DRAFT and BASE on the same historical leads and "
        "report what the draft would change: stage counts, conversion with 95% "
        "intervals, segments, weekly load, flips with reasons, the threshold "
        "sweep and per-rule impact.",
    )
    command.add_argument("--criteria", required=True, metavar="DRAFT", help="the draft")
    command.add_argument(
        "--baseline",
        required=True,
        metavar="BASE",
        help="the criteria to compare against (normally the published version)",
    )
    command.add_argument(
        "--leads", required=True, metavar="DATA", help="the lead table"
    )
    command.add_argument(
        "--profile", metavar="FILE", help="the dataset profile (default: beside DATA)"
    )
    command.add_argument(
        "--capacity",
        type=float,
        metavar="N",
        help="the SDR team's capacity in MQLs a week, for the sales load",
    )
    command.add_argument(
        "--format",
        choices=("json", "markdown"),
        default="json",
        help="the whole result as JSON (default) or a pull-request summary",
    )
    command.add_argument(
        "--out", metavar="FILE", help="write the output here instead of stdout"
    )
    command.set_defaults(handler=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from leadsim.criteria import load_criteria
    from leadsim.report import render_markdown
    from leadsim.simulate import simulate

    if args.capacity is not None and args.capacity <= 0:
        raise LeadsimError.single(
            "--capacity must be a positive number of MQLs a week, not "
            f"{args.capacity:g}"
        )
    draft = load_criteria(args.criteria)
    baseline = load_criteria(args.baseline)
    leads = _load_leads(args.leads, args.profile)
    simulation = simulate(draft, baseline, leads, capacity=args.capacity)

    if args.format == "markdown":
        text = render_markdown(simulation)
    else:
        text = json.dumps(simulation.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"Wrote the simulation to {args.out}.")
    else:
        sys.stdout.write(text)
    return EXIT_OK
