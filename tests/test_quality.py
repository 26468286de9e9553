"""The data-quality report: each check on a table built to trigger it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from leadsim.dataset import Profile
from leadsim.quality import quality_report, render_report


def profile(**changes: object) -> Profile:
    base = Profile(
        id_column="lead_id",
        missing_values=["", "Select"],
        outcomes={"opportunity": "converted"},
        segments=["source"],
        as_of=dt.date(2026, 6, 30),
        types={"converted": "boolean"},
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def leads(rows: int, **columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"lead_id": [f"L{n}" for n in range(rows)]})
    for name, values in columns.items():
        frame[name] = values
    return frame


def test_missing_share_overall_and_per_segment() -> None:
    frame = leads(
        8,
        source=["web"] * 4 + ["event"] * 4,
        industry=["retail", "", "Select", "retail", "", "", "", "it"],
        converted=["0"] * 8,
    )

    report = quality_report(frame, profile())

    overall = report.missing.set_index("field")["missing_share"]
    assert overall["industry"] == pytest.approx(5 / 8)
    assert overall["source"] == 0.0
    table = report.missing_by_segment
    industry = table[(table["segment"] == "source") & (table["field"] == "industry")]
    shares = dict(zip(industry["value"], industry["missing_share"]))
    assert shares == {"web": 0.5, "event": 0.75}
    assert report.fields_flagged("missing") == {"industry"}


def test_placeholders_read_as_missing_and_those_that_are_not() -> None:
    frame = leads(
        4,
        source=["web"] * 4,
        industry=["Select", "retail", "Select", "--None--"],
        converted=["0", "1", "0", "1"],
    )

    findings = quality_report(frame, profile()).of("placeholder")

    assert [(f.severity, f.values, f.count) for f in findings] == [
        ("info", ("Select",), 2),
        ("warning", ("--None--",), 1),
    ]
    assert "add it to the profile's missing_values" in findings[1].message


def test_variants_in_case_and_inner_spacing() -> None:
    frame = leads(
        6,
        source=["Google", "google", "Google", "Paid  Search", "paid search", "web"],
        converted=["0"] * 6,
    )

    findings = quality_report(frame, profile(segments=[])).of("variants")

    assert [(f.severity, f.values, f.count) for f in findings] == [
        ("info", ("Google", "google"), 3),
        ("warning", ("Paid  Search", "paid search"), 2),
    ]


def test_outliers_negatives_and_future_dates() -> None:
    visits = ["1", "2", "2", "3", "3", "3", "4", "5"] * 5 + ["250", "-1"]
    created = ["2026-06-01"] * 40 + ["2026-07-04", "2026-06-30"]
    frame = leads(42, visits=visits, created_at=created, converted=["0"] * 42)

    report = quality_report(
        frame, profile(segments=[], types={"created_at": "date", "visits": "number"})
    )

    (outlier,) = report.of("outlier")
    assert outlier.values == ("250",)
    (negative,) = report.of("negative")
    assert negative.values == ("-1",)
    (future,) = report.of("future_date")
    assert future.count == 1
    assert "2026-07-04" in future.message


def test_a_disposition_field_is_flagged_as_a_leak() -> None:
    # 40 "qualified" leads all converted, 40 "junk" leads none did: a field
    # sales fills in afterwards. "web"/"event" converts at 50% either way.
    converted = ["1"] * 40 + ["0"] * 40
    frame = leads(
        80,
        status=["qualified"] * 40 + ["junk"] * 40,
        source=["web", "event"] * 40,
        converted=converted,
    )

    report = quality_report(frame, profile())

    assert report.fields_flagged("leak") == {"status"}
    (leak,) = report.of("leak")
    assert leak.values == ("qualified", "junk")
    assert leak.count == 80
    assert "'qualified' 100% of 40" in leak.message


def test_one_near_certain_value_is_a_softer_finding() -> None:
    converted = ["1"] * 40 + ["1", "0"] * 20
    frame = leads(
        80,
        channel=["referral"] * 40 + ["web"] * 40,
        source=["a", "a", "b", "b"] * 20,
        converted=converted,
    )

    report = quality_report(frame, profile())

    assert report.fields_flagged("leak") == set()
    (strong,) = report.of("strong_value")
    assert (strong.field, strong.values, strong.severity) == (
        "channel",
        ("referral",),
        "info",
    )


def test_constant_and_no_outcome() -> None:
    frame = leads(3, flag=["No", "no", "NO"], source=["a", "b", "a"])

    report = quality_report(frame, profile(outcomes={}, types={}))

    assert report.fields_flagged("constant") == {"flag"}
    (no_outcome,) = report.of("no_outcome")
    assert "no outcome column" in no_outcome.message


def test_render_report_lists_gaps_and_findings() -> None:
    frame = leads(
        4,
        source=["web"] * 4,
        industry=["Select", "retail", "", "retail"],
        converted=["0", "1", "0", "1"],
    )

    text = render_report(quality_report(frame, profile()))

    assert "Data quality of 4 leads (as of 2026-06-30):" in text
    assert "  industry   50% ##########" in text
    assert "'Select' in industry is a form default" in text


def test_unknown_may_be_a_real_answer() -> None:
    frame = leads(3, budget=["none", "approved", "Unknown"], converted=["0"] * 3)

    (finding,) = quality_report(frame, profile(segments=[])).of("placeholder")

    assert finding.severity == "info"
    assert set(finding.values) == {"none", "Unknown"}
    assert "if it means no answer" in finding.message


def test_a_field_recorded_at_conversion_leaks() -> None:
    # 40 converted leads have an opportunity date, 40 others have none.
    frame = leads(
        80,
        opportunity_at=["2026-05-01"] * 40 + [""] * 40,
        source=["a", "b"] * 40,
        converted=["1"] * 40 + ["0"] * 40,
    )

    report = quality_report(frame, profile(types={"opportunity_at": "date"}))

    (leak,) = report.of("leak")
    assert leak.field == "opportunity_at"
    assert leak.count == 40
    assert "filled in for 40 leads, 100% of which reached opportunity" in leak.message
    assert "opportunity_at" not in report.fields_flagged("missing")


def test_sales_evidence_is_named_as_such() -> None:
    # Budget is known for the 10 worked leads only.
    frame = leads(
        40,
        budget=["approved"] * 5 + ["none"] * 5 + [""] * 30,
        worked=["yes"] * 10 + ["no"] * 30,
        source=["a", "b"] * 20,
        converted=["1", "0"] * 20,
    )

    report = quality_report(
        frame,
        profile(
            outcomes={"opportunity": "converted", "worked": "worked"},
            types={"converted": "boolean", "worked": "boolean"},
        ),
    )

    (missing,) = report.of("missing")
    assert missing.field == "budget"
    assert missing.message.startswith(
        "budget is filled in only for leads sales worked (missing for 75% of all"
    )
