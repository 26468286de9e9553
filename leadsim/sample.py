"""The seeded generator of the bundled sample history (``sample_leads/``).

The history is synthetic but shaped like a real ERP lead export: accounts with
several contacts in different departments, activity events that the per-lead
counters sum up, discovery answers only where sales worked the lead, and
outcomes driven by a hidden propensity. That propensity depends on account
fit, on engagement and on the discovery answers, so criteria that look at the
right things show better precision and coverage than criteria that do not.

The export is messy on purpose, as CRM exports are: case and spacing variants,
blanks and placeholders in optional fields, and a few impossible values
(negative employee counts, activity after the as-of date, a timeline of 999
months). Ids and creation dates stay clean.

Every draw comes from one ``numpy`` Generator, so a seed gives the same bytes:

    python -m leadsim.sample --out sample_leads --leads 20000 --seed 7

:func:`generate` is vectorized over leads and events, so benchmarks can ask
for a million leads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

AS_OF = dt.date(2026, 6, 30)
FIRST_DAY = dt.date(2025, 1, 1)
SPAN_DAYS = (AS_OF - FIRST_DAY).days

LEAD_FIELDS = (
    "lead_id",
    "account_id",
    "company",
    "email_domain",
    "job_title",
    "role",
    "department",
    "created_at",
    "source",
    "campaign",
    "industry",
    "employees",
    "company_size_band",
    "region",
    "current_system",
    "modules_of_interest",
    "content_downloads",
    "page_visits",
    "pricing_page_visits",
    "webinar_attended",
    "form_submissions",
    "event_signups",
    "email_clicks",
    "demo_requested",
    "last_activity_at",
    "worked_by_sales",
    "decision_role",
    "timeline_months",
    "budget_status",
    "required_modules",
    "discovery_call_agreed",
    "reached_opportunity",
    "opportunity_at",
    "won",
    "won_amount",
    "closed_at",
)
EVENT_FIELDS = ("lead_id", "occurred_at", "event_type", "asset")

# Fields a form or an enrichment tool may leave empty: each is blank (or a
# placeholder) for 5-15% of leads, as in a real export.
OPTIONAL_FIELDS = (
    "job_title",
    "role",
    "department",
    "source",
    "campaign",
    "industry",
    "employees",
    "company_size_band",
    "region",
    "current_system",
    "modules_of_interest",
)
# Filled only where sales worked the lead.
DISCOVERY_FIELDS = (
    "decision_role",
    "timeline_months",
    "budget_status",
    "required_modules",
    "discovery_call_agreed",
)
PLACEHOLDERS = ("N/A", "-", "Select")
MISSING_VALUES = ("", "Select", "N/A", "-")
SCENARIO_IDS = ("SCN-1", "SCN-2", "SCN-3")

# Event types and the lead counter each one adds to.
EVENT_TYPES = (
    "page_visit",
    "pricing_page_visit",
    "webinar_attended",
    "form_submission",
    "event_signup",
    "email_click",
    "content_download",
    "demo_request",
)
COUNTERS = {
    "page_visit": "page_visits",
    "pricing_page_visit": "pricing_page_visits",
    "webinar_attended": "webinar_attended",
    "form_submission": "form_submissions",
    "event_signup": "event_signups",
    "email_click": "email_clicks",
}
ASSETS = (
    "erp-evaluation-checklist",
    "implementation-guide",
    "production-planning-guide",
    "budgeting-worksheet",
    "finance-transformation-ebook",
    "general-newsletter",
    "inventory-optimization-guide",
    "erp-roi-calculator",
    "cloud-migration-whitepaper",
    "manufacturing-case-study",
)
MODULES = (
    "finance",
    "production planning",
    "inventory",
    "procurement",
    "crm",
    "hr",
    "warehouse",
    "project accounting",
    "quality",
    "reporting",
)

# (value, weight, in the ideal customer profile)
INDUSTRIES = (
    ("manufacturing", 22, True),
    ("distribution", 12, True),
    ("wholesale", 8, True),
    ("food & beverage", 7, True),
    ("construction", 7, False),
    ("retail", 9, False),
    ("professional services", 10, False),
    ("healthcare", 5, False),
    ("software", 6, False),
    ("logistics", 5, False),
    ("nonprofit", 3, False),
    ("education", 2, False),
    ("other", 4, False),
)
INDUSTRY_WORDS = {
    "manufacturing": ("Precision", "Fabrication", "Components", "Machining"),
    "distribution": ("Supply", "Distributors", "Trading", "Parts"),
    "wholesale": ("Wholesale", "Merchants", "Trading", "Goods"),
    "food & beverage": ("Foods", "Bakeries", "Beverages", "Dairy"),
    "construction": ("Builders", "Construction", "Contracting", "Structures"),
    "retail": ("Outfitters", "Stores", "Home", "Retail"),
    "professional services": ("Consulting", "Advisors", "Partners", "Associates"),
    "healthcare": ("Health", "Clinics", "Medical", "Care"),
    "software": ("Software", "Digital", "Labs", "Apps"),
    "logistics": ("Freight", "Logistics", "Transport", "Shipping"),
    "nonprofit": ("Foundation", "Trust", "Alliance", "Society"),
    "education": ("Academy", "Learning", "Institute", "Schools"),
    "other": ("Enterprises", "Holdings", "Group", "Ventures"),
}
NAME_WORDS = (
    "Apex", "Birch", "Cedar", "Summit", "Harbor", "Granite", "Ironwood", "Silverline",
    "Bluewater", "Maple", "Northgate", "Riverside", "Prairie", "Atlas", "Beacon",
    "Crown", "Delta", "Eagle", "Falcon", "Golden", "Highland", "Keystone", "Lakeshore",
    "Meridian", "Oakridge", "Pioneer", "Redwood", "Sterling", "Titan", "Valley",
    "Westbrook", "Anchor", "Bridgeport", "Cobalt", "Evergreen", "Frontier", "Horizon",
    "Liberty", "Pacific", "Union",
)  # fmt: skip
# (value, weight, in the ideal customer profile, company suffix, domain ending)
REGIONS = (
    ("north america", 40, True, "Inc.", ".com"),
    ("uk & ireland", 12, True, "Ltd", ".co.uk"),
    ("dach", 10, True, "GmbH", ".de"),
    ("benelux", 6, True, "B.V.", ".nl"),
    ("nordics", 5, True, "AB", ".se"),
    ("southern europe", 7, False, "S.r.l.", ".it"),
    ("apac", 10, False, "Pty Ltd", ".com.au"),
    ("latam", 6, False, "S.A.", ".com.br"),
    ("middle east & africa", 4, False, "LLC", ".ae"),
)
# (value, weight below 100 employees, weight from 100, outgrown by the company)
SYSTEMS = (
    ("spreadsheets", 30, 6, True),
    ("quickbooks", 30, 6, True),
    ("xero", 10, 2, True),
    ("sage", 12, 14, True),
    ("legacy on-prem erp", 4, 28, True),
    ("homegrown", 5, 8, True),
    ("netsuite", 5, 10, False),
    ("sap business one", 1, 10, False),
    ("microsoft dynamics", 2, 12, False),
    ("odoo", 4, 3, False),
)
SIZE_BANDS = ((1, "1-49"), (50, "50-199"), (200, "200-999"), (1000, "1000-4999"))
LARGEST_BAND = "5000+"
# (job title, role, department, weight, seniority: 0 executive, 1 leader, 2 other)
JOB_TITLES = (
    ("Chief Executive Officer", "executive", "executive", 3, 0),
    ("President", "executive", "executive", 2, 0),
    ("Owner", "executive", "executive", 3, 0),
    ("General Manager", "executive", "executive", 3, 0),
    ("Chief Financial Officer", "finance leader", "finance", 4, 0),
    ("Finance Director", "finance leader", "finance", 4, 1),
    ("Controller", "finance leader", "finance", 6, 1),
    ("Accounting Manager", "manager", "finance", 5, 2),
    ("Accountant", "individual contributor", "finance", 5, 2),
    ("Chief Operating Officer", "operations leader", "operations", 3, 0),
    ("VP Operations", "operations leader", "operations", 4, 1),
    ("Operations Manager", "operations leader", "operations", 7, 1),
    ("Plant Manager", "production leader", "operations", 5, 1),
    ("Production Planner", "individual contributor", "operations", 4, 2),
    ("Supply Chain Director", "supply chain leader", "operations", 3, 1),
    ("Warehouse Manager", "manager", "operations", 3, 2),
    ("Purchasing Manager", "manager", "operations", 3, 2),
    ("Chief Information Officer", "it leader", "it", 2, 0),
    ("IT Director", "it leader", "it", 5, 1),
    ("IT Manager", "it leader", "it", 5, 1),
    ("Systems Analyst", "individual contributor", "it", 4, 2),
    ("ERP Administrator", "individual contributor", "it", 2, 2),
    ("Sales Manager", "manager", "other", 3, 2),
    ("Marketing Coordinator", "individual contributor", "other", 3, 2),
    ("HR Manager", "manager", "other", 2, 2),
    ("Business Consultant", "consultant", "other", 2, 2),
    ("Office Manager", "individual contributor", "other", 3, 2),
)
BUYING_ROLES = (
    "executive",
    "finance leader",
    "operations leader",
    "it leader",
    "production leader",
    "supply chain leader",
)
# (source, weight, the event that created the lead)
SOURCES = (
    ("organic search", 20, "form_submission"),
    ("paid search", 15, "content_download"),
    ("webinar", 14, "webinar_attended"),
    ("content syndication", 12, "content_download"),
    ("trade show", 9, "event_signup"),
    ("email campaign", 8, "email_click"),
    ("referral", 6, "form_submission"),
    ("partner", 5, "form_submission"),
    ("direct", 5, "form_submission"),
    ("abm campaign", 0, "email_click"),
)
CAMPAIGNS = {
    "organic search": ("Website - Organic",),
    "paid search": ("Paid Search - ERP Software", "Paid Search - Manufacturing ERP"),
    "webinar": (
        "{year} Q{quarter} Manufacturing Webinar",
        "{year} Q{quarter} CFO Webinar",
    ),
    "content syndication": ("Syndication - ERP Buyers Guide",),
    "trade show": ("Manufacturing Expo {year}", "Distribution Summit {year}"),
    "email campaign": ("Newsletter {year}-{month:02d}",),
    "referral": ("Customer Referral Program",),
    "partner": ("Partner Co-Marketing {year}",),
    "direct": ("Website - Direct",),
    "abm campaign": ("ABM Tier 1 - {year} H{half}",),
}
COMPETITORS = (
    ("Rival ERP Systems", "rivalerp.com"),
    ("Nimbus Cloud ERP", "nimbuserp.io"),
    ("Ledgerline Software", "ledgerline.com"),
)
UNIVERSITIES = (
    ("State Technical University", "statetech.edu"),
    ("Lakeside Business School", "lakeside-business.edu"),
    ("Northern Polytechnic", "northernpoly.ac.uk"),
)
PERSONAL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
)


def generate(n_leads: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a lead history: ``(leads, events)``.

    ``leads`` has one row per lead, the columns of :data:`LEAD_FIELDS`, every
    cell as the text a CSV export would hold. ``events`` has one row per
    activity event (:data:`EVENT_FIELDS`, categorical columns), sorted by lead
    and date; the lead counters, ``demo_requested``, ``content_downloads`` and
    ``last_activity_at`` are exactly what these events sum up. The last three
    leads are the brief's scenario leads (:data:`SCENARIO_IDS`).
    """
    if n_leads < len(SCENARIO_IDS) + 1:
        raise ValueError(f"n_leads must be at least {len(SCENARIO_IDS) + 1}")

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_random = n_leads - len(SCENARIO_IDS)
    accounts = _accounts(rng, max(1, round(n_random * 0.15)))
    contacts = _contacts(rng, accounts, n_random)
    events = _events(rng, contacts, n_random)
    summary = _summarise(n_random, events)
    sales = _outcomes(rng, contacts, summary)
    columns = _lead_columns(rng, contacts, summary, sales)

    scenario_rows, scenario_events = _scenarios()
    lead_frame = pd.DataFrame(
        {
            name: np.concatenate([columns.pop(name), scenario_rows[name].to_numpy()])
            for name in LEAD_FIELDS
        },
        dtype=object,
        copy=False,
    )
    scenario_events["lead"] = scenario_events["lead"] + n_random
    all_events = {
        key: np.concatenate([events[key], scenario_events[key]]) for key in events
    }
    event_frame = _event_frame(lead_frame["lead_id"].to_numpy(), all_events)
    logger.info(
        "Generated %s leads and %s events in %.1f s.",
        len(lead_frame),
        len(event_frame),
        time.perf_counter() - started,
    )
    return lead_frame, event_frame


def write_sample(out: str | Path, n_leads: int = 20_000, seed: int = 7) -> None:
    """Generate the history and write ``leads.csv`` and ``events.csv.gz``.

    The gzip header carries no file name or time, so the same seed writes the
    same bytes. The profile and README in ``sample_leads/`` are hand-written
    and not touched.
    """
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    lead_frame, event_frame = generate(n_leads, seed)

    (out_dir / "leads.csv").write_bytes(csv_bytes(lead_frame))
    with open(out_dir / "events.csv.gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            packed.write(csv_bytes(event_frame))
    logger.info("Wrote %s leads to %s.", len(lead_frame), out_dir)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as the CSV bytes that the sample files hold."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --- accounts -------------------------------------------------------------


@dataclass
class _Accounts:
    """Companies: one array entry per account; codes index the tables above."""

    account_id: np.ndarray
    company: np.ndarray
    email_domain: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    employees: np.ndarray
    system: np.ndarray
    kind: np.ndarray  # 0 company, 1 competitor, 2 university
    fit: np.ndarray  # hidden: 0 (no fit) to 1 (ideal customer)
    in_market: np.ndarray  # hidden: an ERP selection is under way
    abm_target: np.ndarray


@dataclass
class _Contacts:
    """Leads before sales touched them: one array entry per lead."""

    lead_id: np.ndarray
    account: np.ndarray  # index into accounts
    title: np.ndarray  # code into JOB_TITLES
    student: np.ndarray
    seniority: np.ndarray
    day: np.ndarray  # creation day, counted from FIRST_DAY
    source: np.ndarray  # code into SOURCES
    email_domain: np.ndarray
    personal: np.ndarray  # signed up with a personal email address
    modules: np.ndarray  # bit mask over MODULES
    accounts: _Accounts


@dataclass
class _Sales:
    """What sales learned and what became of each lead."""

    worked: np.ndarray
    decision: np.ndarray  # decision_maker, champion, influencer, unknown
    timeline: np.ndarray  # months, NaN when not given
    budget: np.ndarray  # approved, planned, none, unknown
    call: np.ndarray
    required: np.ndarray  # bit mask over MODULES, integrations, data migration
    reached: np.ndarray
    opportunity_day: np.ndarray
    won: np.ndarray
    closed: np.ndarray
    close_day: np.ndarray
    amount: np.ndarray


def _accounts(rng: np.random.Generator, n: int) -> _Accounts:
    """Companies with firmographics, a hidden fit and a hidden buying project."""
    industry = _pick(rng, [row[1] for row in INDUSTRIES], n)
    region = _pick(rng, [row[1] for row in REGIONS], n)
    employees = np.clip(np.round(rng.lognormal(np.log(120), 1.3, n)), 2, 60_000)
    system = np.where(
        employees < 100,
        _pick(rng, [row[1] for row in SYSTEMS], n),
        _pick(rng, [row[2] for row in SYSTEMS], n),
    )

    kind = _pick(rng, [0.992, 0.003, 0.005], n)  # company, competitor, university
    fit = (
        0.4 * _flags(INDUSTRIES, 2)[industry]
        + 0.2 * ((employees >= 20) & (employees <= 2_000))
        + 0.15 * _flags(REGIONS, 2)[region]
        + 0.25 * _flags(SYSTEMS, 3)[system]
    )
    fit = np.where(kind == 0, fit, 0.0)
    in_market = rng.random(n) < _sigmoid(-3.9 + 3.6 * fit)
    abm_target = (fit >= 0.75) & (employees >= 50) & (rng.random(n) < 0.35)

    company, domain = _company_names(rng, industry, region)
    special = rng.integers(0, len(COMPETITORS), n)
    for code, table in ((1, COMPETITORS), (2, UNIVERSITIES)):
        names = np.array([row[0] for row in table], dtype=object)
        domains = np.array([row[1] for row in table], dtype=object)
        company = np.where(kind == code, names[special % len(table)], company)
        domain = np.where(kind == code, domains[special % len(table)], domain)
    industry = np.where(kind == 1, _index_of(INDUSTRIES, "software"), industry)
    industry = np.where(kind == 2, _index_of(INDUSTRIES, "education"), industry)

    width = max(5, len(str(n)))
    return _Accounts(
        account_id=_ids("A-", n, width),
        company=company,
        email_domain=domain,
        industry=industry,
        region=region,
        employees=employees,
        system=system,
        kind=kind,
        fit=fit,
        in_market=in_market,
        abm_target=abm_target,
    )


def _company_names(
    rng: np.random.Generator, industry: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plausible company names and email domains, domains unique."""
    n = len(industry)
    first = np.array(NAME_WORDS, dtype=object)[rng.integers(0, len(NAME_WORDS), n)]
    words = np.array(
        [INDUSTRY_WORDS[row[0]] for row in INDUSTRIES], dtype=object
    )  # industries x 4
    second = words[industry, rng.integers(0, 4, n)]
    suffix = np.array([row[3] for row in REGIONS], dtype=object)[region]
    ending = np.array([row[4] for row in REGIONS], dtype=object)[region]

    company = first + " " + second + " " + suffix
    stem = pd.Series(first + second).str.lower().to_numpy(dtype=object)
    repeated = pd.Series(stem).duplicated().to_numpy()
    number = np.arange(n).astype(str).astype(object)
    stem = np.where(repeated, stem + number, stem)
    return company, stem + ending


# --- leads ----------------------------------------------------------------


def _contacts(rng: np.random.Generator, accounts: _Accounts, n: int) -> _Contacts:
    """Contacts of the accounts: who they are, when and how they arrived."""
    weight = rng.lognormal(0.0, 0.5, len(accounts.kind))
    weight *= 1.0 + 0.5 * accounts.in_market
    account = rng.choice(len(weight), size=n, p=weight / weight.sum())

    title = _pick(rng, [row[3] for row in JOB_TITLES], n)
    kind = accounts.kind[account]
    student = (kind == 2) & (rng.random(n) < 0.8)
    seniority = np.array([row[4] for row in JOB_TITLES])[title]
    seniority = np.where(student, 2, seniority)

    day = _pick(rng, _creation_weights(), n)
    order = np.argsort(day, kind="stable")
    account, title, student, seniority, day = (
        array[order] for array in (account, title, student, seniority, day)
    )
    kind = accounts.kind[account]
    modules = _modules_of_interest(rng, accounts.industry[account], title)

    source = _pick(rng, [row[1] for row in SOURCES], n)
    abm = accounts.abm_target[account] & (rng.random(n) < 0.45)
    source = np.where(abm, _index_of(SOURCES, "abm campaign"), source)

    domain = accounts.email_domain[account]
    personal = (kind == 0) & (rng.random(n) < 0.05)
    personal_domain = np.array(PERSONAL_DOMAINS, dtype=object)[
        rng.integers(0, len(PERSONAL_DOMAINS), n)
    ]
    domain = np.where(personal, personal_domain, domain)

    width = max(6, len(str(n)))
    return _Contacts(
        lead_id=_ids("L-", n, width),
        account=account,
        title=title,
        student=student,
        seniority=seniority,
        day=day,
        source=source,
        email_domain=domain,
        personal=personal,
        modules=modules,
        accounts=accounts,
    )


def _modules_of_interest(
    rng: np.random.Generator, industry: np.ndarray, title: np.ndarray
) -> np.ndarray:
    """Modules a lead said it cares about, as a bit mask over MODULES."""
    name = _values(INDUSTRIES, 0)[industry]
    finance = _values(JOB_TITLES, 2)[title] == "finance"
    making = np.isin(name, ["manufacturing", "food & beverage"])
    moving = np.isin(name, ["distribution", "wholesale", "retail", "logistics"])
    projects = np.isin(name, ["professional services", "construction"])
    odds = np.stack(
        [
            0.45 + 0.35 * finance,
            0.08 + 0.55 * making,
            0.3 + 0.25 * moving,
            np.full(len(name), 0.2),
            np.full(len(name), 0.15),
            np.full(len(name), 0.1),
            0.08 + 0.3 * moving,
            0.05 + 0.35 * projects,
            0.04 + 0.2 * making,
            np.full(len(name), 0.25),
        ],
        axis=1,
    )
    chosen = rng.random(odds.shape) < odds
    chosen[np.arange(len(name)), odds.argmax(axis=1)] |= ~chosen.any(axis=1)
    return (chosen.astype(np.int64) << np.arange(len(MODULES))).sum(axis=1)


def _creation_weights() -> np.ndarray:
    """How likely a lead is created on each day: growth, weekends, shows."""
    days = np.arange(SPAN_DAYS + 1)
    weekday = (days + FIRST_DAY.weekday()) % 7
    weight = 1.0 + 0.4 * days / SPAN_DAYS
    weight *= np.where(weekday >= 5, 0.3, 1.0)
    month = (days // 30.4) % 12
    weight *= np.where((month == 2) | (month == 9), 1.3, 1.0)  # spring, autumn shows
    weight *= np.where(month == 7, 0.75, 1.0)  # August
    return weight


# --- events ---------------------------------------------------------------


def _events(
    rng: np.random.Generator, contacts: _Contacts, n: int
) -> dict[str, np.ndarray]:
    """Activity events per lead: the creating event, then Poisson activity."""
    accounts = contacts.accounts
    account = contacts.account
    in_market = accounts.in_market[account]
    fit = accounts.fit[account]
    # Browsing (pages, newsletters, clicks) barely depends on a buying project;
    # buying signals (pricing, evaluation content, webinars, demos) do.
    outsider = accounts.kind[account] != 0
    browsing = rng.lognormal(-0.3, 1.0, n) * (0.6 + 0.8 * fit)
    buying = rng.lognormal(-0.6, 0.9, n) * (0.3 + 2.7 * in_market) * (0.5 + fit)
    buying = np.where(outsider, buying * 0.3, buying)

    rates = {
        "page_visit": 2.5 * browsing + 1.0 * buying,
        "pricing_page_visit": 0.25 * buying,
        "webinar_attended": 0.08 * browsing + 0.1 * buying,
        "form_submission": 0.15 * browsing + 0.1 * buying,
        "event_signup": 0.08 * browsing,
        "email_click": 0.8 * browsing,
        "content_download": 0.25 * browsing + 0.25 * buying,
    }
    counts = np.stack(
        [
            rng.poisson(rates[name]) if name in rates else np.zeros(n, int)
            for name in EVENT_TYPES
        ]
    )
    demo = rng.random(n) < np.minimum(0.5, 0.02 * buying)
    counts[EVENT_TYPES.index("demo_request")] = demo

    creating = np.array([EVENT_TYPES.index(row[2]) for row in SOURCES])[contacts.source]
    search = (contacts.source == _index_of(SOURCES, "organic search")) & (
        rng.random(n) < 0.5
    )
    creating = np.where(search, EVENT_TYPES.index("content_download"), creating)

    # Small integer types: a million leads make ten million events.
    leads = np.arange(n, dtype=np.int32)
    lead_index = np.concatenate([leads, np.repeat(leads, counts.sum(axis=0))])
    event_type = np.concatenate([creating, _types_per_event(counts)]).astype(np.int8)

    created = contacts.day[lead_index]
    room = SPAN_DAYS - created
    scale = (rng.lognormal(3.2, 0.8, n) * (1.0 + in_market))[lead_index]
    offset = np.floor(rng.exponential(1.0, len(lead_index)) * scale)
    revisit = rng.random(len(lead_index)) < 0.1
    offset = np.where(
        revisit, np.floor(rng.random(len(lead_index)) * (room + 1)), offset
    )
    offset = np.minimum(offset, room)
    offset[:n] = 0  # the creating event happens on the creation day
    day = created + offset

    late = rng.random(len(day)) < 0.0002  # impossible: activity after the as-of date
    day = np.where(late, SPAN_DAYS + rng.integers(1, 30, len(day)), day)

    asset = np.full(len(day), -1, dtype=np.int8)
    downloads = np.flatnonzero(event_type == EVENT_TYPES.index("content_download"))
    asset[downloads] = _assets(rng, contacts, lead_index[downloads])
    return {
        "lead": lead_index,
        "type": event_type,
        "day": day.astype(np.int32),
        "asset": asset,
    }


def _types_per_event(counts: np.ndarray) -> np.ndarray:
    """Event type codes, lead by lead, from a types x leads count matrix."""
    flat = counts.T.ravel()  # lead-major: all types of lead 0, then lead 1 ...
    types = np.tile(np.arange(counts.shape[0]), counts.shape[1])
    return np.repeat(types, flat)


def _assets(
    rng: np.random.Generator, contacts: _Contacts, lead_index: np.ndarray
) -> np.ndarray:
    """The asset of each download, chosen by the lead's interests."""
    accounts = contacts.accounts
    account = contacts.account[lead_index]
    in_market = accounts.in_market[account].astype(float)
    industry = np.array([row[0] for row in INDUSTRIES], dtype=object)[
        accounts.industry[account]
    ]
    department = np.array([row[2] for row in JOB_TITLES], dtype=object)[
        contacts.title[lead_index]
    ]
    making = np.isin(industry, ["manufacturing", "food & beverage"])
    moving = np.isin(industry, ["distribution", "wholesale", "retail", "logistics"])
    finance = department == "finance"
    weights = np.stack(
        [
            0.8 + 4.0 * in_market,
            0.6 + 3.0 * in_market,
            0.3 + 3.0 * making,
            0.4 + 2.0 * finance,
            0.6 + 2.5 * finance,
            np.full(len(account), 2.5),
            0.4 + 1.5 * moving,
            0.3 + 2.0 * in_market,
            0.5 + 1.0 * (department == "it"),
            0.3 + 1.0 * making,
        ],
        axis=1,
    )
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(account)) * cumulative[:, -1]
    return (cumulative < draw[:, None]).sum(axis=1)


def _summarise(n: int, events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-lead counters, demo flag, download set and last activity day."""
    lead, event_type = events["lead"], events["type"]
    summary = {}
    for name, counter in COUNTERS.items():
        chosen = event_type == EVENT_TYPES.index(name)
        summary[counter] = np.bincount(lead[chosen], minlength=n)
    demos = event_type == EVENT_TYPES.index("demo_request")
    summary["demo_requested"] = np.bincount(lead[demos], minlength=n) > 0

    mask = np.zeros(n, dtype=np.int64)
    downloads = events["asset"] >= 0
    bits = np.left_shift(1, events["asset"][downloads].astype(np.int64))
    np.bitwise_or.at(mask, lead[downloads], bits)
    summary["downloads"] = mask

    last = np.full(n, -1)
    np.maximum.at(last, lead, events["day"])
    summary["last_day"] = last
    return summary


# --- sales work and outcomes ----------------------------------------------


def _outcomes(
    rng: np.random.Generator,
    contacts: _Contacts,
    summary: dict[str, np.ndarray],
) -> _Sales:
    """Who sales worked, their discovery answers, and what became of them.

    The hidden propensity: an account with a buying project (``in_market``)
    converts far more often, and fit, engagement and the discovery answers
    each add to it. The answers are noisy signals of the same project.
    """
    n = len(contacts.day)
    accounts = contacts.accounts
    account = contacts.account
    in_market = accounts.in_market[account]
    fit = accounts.fit[account]
    roles = np.array([row[1] for row in JOB_TITLES], dtype=object)[contacts.title]
    buying_role = np.isin(roles, BUYING_ROLES) & ~contacts.student
    key_bits = sum(1 << ASSETS.index(a) for a in ASSETS[:4])
    key_downloads = _popcount(summary["downloads"] & key_bits)
    signals = (
        key_downloads
        + summary["webinar_attended"]
        + summary["pricing_page_visits"]
        + summary["form_submissions"]
        + 0.2 * summary["page_visits"]
    )
    engagement = 1.0 - np.exp(-signals / 3.0)
    demo = summary["demo_requested"]
    excluded = (accounts.kind[account] != 0) | contacts.personal | contacts.student

    worked_chance = _sigmoid(
        -5.0 + 2.4 * fit + 0.7 * buying_role + 2.4 * engagement + 2.0 * demo
    )
    worked_chance = np.where(excluded, worked_chance * 0.3, worked_chance)
    worked = rng.random(n) < worked_chance

    seniority = contacts.seniority
    role_odds = np.array(
        [[0.55, 0.2, 0.15, 0.1], [0.25, 0.35, 0.3, 0.1], [0.04, 0.14, 0.5, 0.32]]
    )
    decision = _pick_rows(rng, role_odds[seniority])
    near = np.array([1, 2, 3, 4, 5, 6, 9])[_pick(rng, [5, 10, 20, 15, 8, 15, 5], n)]
    far = np.array([6, 9, 12, 18, 24])[_pick(rng, [10, 20, 30, 20, 20], n)]
    timeline = np.where(in_market, near, far).astype(float)
    timeline[~in_market & (rng.random(n) < 0.35)] = np.nan
    timeline[rng.random(n) < 0.01] = 999  # impossible, but it happens
    budget_odds = np.array([[0.03, 0.15, 0.5, 0.32], [0.35, 0.45, 0.05, 0.15]])
    budget = _pick_rows(rng, budget_odds[in_market.astype(int)])
    call = rng.random(n) < np.where(in_market, 0.75, 0.2)
    required = _required_modules(rng, contacts.modules, in_market)

    opportunity_chance = _sigmoid(
        -4.2
        + 2.6 * in_market
        + 1.0 * fit
        + 0.6 * engagement
        + 0.8 * (decision <= 1)
        + 0.9 * call
        + 0.5 * (budget <= 1)
        + 0.6 * (timeline <= 6)
    )
    idle_chance = 0.01 + 0.1 * in_market * fit  # inbound later, never worked
    chance = np.where(worked, opportunity_chance, idle_chance)
    chance = np.where(excluded & ~contacts.personal, 0.0, chance)
    chance = np.where(contacts.personal, chance * 0.5, chance)
    opportunity_day = contacts.day + 7 + np.floor(rng.exponential(40.0, n))
    reached = (rng.random(n) < chance) & (opportunity_day <= SPAN_DAYS)

    win_chance = _sigmoid(
        -2.5
        + 1.0 * fit
        + 0.7 * (budget == 0)
        + 0.5 * (decision == 0)
        + 0.7 * in_market
        - 0.4 * (accounts.system[account] == _index_of(SYSTEMS, "netsuite"))
    )
    close_day = opportunity_day + 21 + np.floor(rng.exponential(75.0, n))
    closed = reached & (close_day <= SPAN_DAYS)
    won = closed & (rng.random(n) < win_chance)
    size = np.maximum(accounts.employees[account], 5) / 200.0
    amount = 8_000 + 25_000 * rng.lognormal(0.0, 0.5, n) * size**0.4
    amount = np.round(np.minimum(amount, 900_000), -2)

    return _Sales(
        worked=worked,
        decision=decision,
        timeline=timeline,
        budget=budget,
        call=call,
        required=required,
        reached=reached,
        opportunity_day=opportunity_day,
        won=won,
        closed=closed,
        close_day=close_day,
        amount=amount,
    )


def _required_modules(
    rng: np.random.Generator, interest: np.ndarray, in_market: np.ndarray
) -> np.ndarray:
    """Modules sales confirmed in discovery, as a bit mask over MODULES + 2."""
    n = len(in_market)
    keep = np.zeros(n, dtype=np.int64)
    for bit in range(len(MODULES)):
        keep |= (rng.random(n) < 0.7).astype(np.int64) << bit
    mask = interest & keep
    mask |= (rng.random(n) < 0.25).astype(np.int64) << len(MODULES)  # integrations
    mask |= (rng.random(n) < 0.2).astype(np.int64) << (len(MODULES) + 1)
    unscoped = ~in_market & (rng.random(n) < 0.6)
    return np.where(unscoped, 0, mask)


# --- the export -----------------------------------------------------------


def _lead_columns(
    rng: np.random.Generator,
    contacts: _Contacts,
    summary: dict[str, np.ndarray],
    sales: _Sales,
) -> dict[str, np.ndarray]:
    """Every lead field as export text, with the mess of a real CRM."""
    n = len(contacts.day)
    accounts = contacts.accounts
    account = contacts.account
    dates = _date_table()
    industry = accounts.industry[account]
    employees = accounts.employees[account]
    title = contacts.title

    columns: dict[str, np.ndarray] = {}
    columns["lead_id"] = contacts.lead_id
    columns["account_id"] = accounts.account_id[account]
    columns["company"] = accounts.company[account]
    columns["email_domain"] = contacts.email_domain
    columns["job_title"] = _values(JOB_TITLES, 0)[title]
    columns["role"] = _values(JOB_TITLES, 1)[title]
    columns["department"] = _values(JOB_TITLES, 2)[title]
    student = contacts.student
    columns["job_title"] = np.where(student, "Student", columns["job_title"])
    columns["role"] = np.where(student, "student", columns["role"])
    columns["department"] = np.where(student, "other", columns["department"])
    columns["created_at"] = dates[contacts.day]
    columns["source"] = _values(SOURCES, 0)[contacts.source]
    columns["campaign"] = _campaigns(rng, contacts.source, contacts.day)
    columns["industry"] = _values(INDUSTRIES, 0)[industry]

    impossible = rng.random(n) < 0.002
    columns["employees"] = _number_text(np.where(impossible, -employees, employees))
    columns["company_size_band"] = _size_band(employees)
    columns["region"] = _values(REGIONS, 0)[accounts.region[account]]
    columns["current_system"] = _values(SYSTEMS, 0)[accounts.system[account]]
    columns["modules_of_interest"] = _join_bits(contacts.modules, MODULES)
    columns["content_downloads"] = _join_bits(summary["downloads"], ASSETS)
    for counter in COUNTERS.values():
        columns[counter] = _number_text(summary[counter])
    columns["demo_requested"] = _booleans(rng, summary["demo_requested"], 0.03)
    last = summary["last_day"]
    columns["last_activity_at"] = np.where(last >= 0, dates[np.maximum(last, 0)], "")

    worked = sales.worked
    columns["worked_by_sales"] = _booleans(rng, worked, 0.0)
    roles = np.array(
        ["decision_maker", "champion", "influencer", "unknown"], dtype=object
    )
    columns["decision_role"] = roles[sales.decision]
    timeline = sales.timeline
    columns["timeline_months"] = np.where(
        np.isnan(timeline), "", _number_text(np.nan_to_num(timeline))
    )
    budgets = np.array(["approved", "planned", "none", "unknown"], dtype=object)
    columns["budget_status"] = budgets[sales.budget]
    columns["required_modules"] = _join_bits(
        sales.required, (*MODULES, "integrations", "data migration")
    )
    columns["discovery_call_agreed"] = _booleans(rng, sales.call, 0.04)
    for name in DISCOVERY_FIELDS:
        columns[name] = np.where(worked, columns[name], "")

    reached, won, closed = sales.reached, sales.won, sales.closed
    columns["reached_opportunity"] = _booleans(rng, reached, 0.0)
    opportunity_day = np.minimum(sales.opportunity_day, SPAN_DAYS).astype(int)
    columns["opportunity_at"] = np.where(reached, dates[opportunity_day], "")
    columns["won"] = _booleans(rng, won, 0.0)
    columns["won_amount"] = np.where(won, _number_text(sales.amount), "")
    close_day = np.minimum(sales.close_day, SPAN_DAYS).astype(int)
    columns["closed_at"] = np.where(closed, dates[close_day], "")

    for name in (
        "industry",
        "region",
        "current_system",
        "source",
        "role",
        "department",
    ):
        columns[name] = _vary_case(rng, columns[name], 0.06)
    for name in ("decision_role", "budget_status"):
        columns[name] = _vary_case(rng, columns[name], 0.03)
    for name in OPTIONAL_FIELDS:
        columns[name] = _blank_out(rng, columns[name])
    return columns


def _event_frame(lead_ids: np.ndarray, events: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per event, ordered by lead, date, type and asset.

    Columns are categorical: a million leads make ten million events.
    """
    key = events["lead"].astype(np.int64) << 11 | events["day"]
    key = (key << 4 | events["type"]) << 4 | (events["asset"] + 1).astype(np.int64)
    order = np.argsort(key, kind="stable")  # runs of one lead: timsort is quick
    codes = {
        "lead_id": (events["lead"][order], lead_ids),
        "occurred_at": (events["day"][order], _date_table()),
        "event_type": (events["type"][order], EVENT_TYPES),
        "asset": (events["asset"][order] + 1, ("", *ASSETS)),
    }
    return pd.DataFrame(
        {
            name: pd.Categorical.from_codes(code, categories=pd.Index(labels))
            for name, (code, labels) in codes.items()
        }
    )


# --- the three scenario leads of the brief --------------------------------

SCENARIO_LEADS = {
    "SCN-1": {
        "account_id": "A-SCN1",
        "company": "Brightwater Precision Parts Inc.",
        "email_domain": "brightwaterprecision.com",
        "job_title": "Plant Manager",
        "role": "production leader",
        "department": "operations",
        "created_at": "2026-03-11",
        "source": "webinar",
        "campaign": "2026 Q1 Manufacturing Webinar",
        "industry": " Manufacturing",
        "employees": "240",
        "company_size_band": "200-999",
        "region": "north america",
        "current_system": "legacy on-prem erp",
        "modules_of_interest": "production planning;inventory",
        "worked_by_sales": "true",
        "decision_role": "champion",
        "timeline_months": "3",
        "budget_status": "planned",
        "required_modules": "production planning;inventory",
        "discovery_call_agreed": "true",
        "reached_opportunity": "true",
        "opportunity_at": "2026-06-18",
    },
    "SCN-2": {
        "account_id": "A-SCN2",
        "company": "Harborview Wholesale Supply Ltd",
        "email_domain": "harborviewsupply.co.uk",
        "job_title": "Finance Director",
        "role": "finance leader",
        "department": "finance",
        "created_at": "2025-11-04",
        "source": "organic search",
        "campaign": "Website - Organic",
        "industry": "Wholesale",
        "employees": "180",
        "company_size_band": "50-199",
        "region": "uk & ireland",
        "current_system": "sage",
        "modules_of_interest": "finance;reporting",
        "worked_by_sales": "true",
        "decision_role": "decision_maker",
        "timeline_months": "4",
        "budget_status": "planned",
        "required_modules": "finance;integrations",
        "discovery_call_agreed": "true",
        "reached_opportunity": "true",
        "opportunity_at": "2026-06-09",
    },
    "SCN-3": {
        "account_id": "A-SCN3",
        "company": "Kestrel Fabrication GmbH",
        "email_domain": "kestrelfab.de",
        "job_title": "Operations Manager",
        "role": "operations leader",
        "department": "operations",
        "created_at": "2026-05-20",
        "source": "trade show",
        "campaign": "Manufacturing Expo 2026",
        "industry": "manufacturing",
        "employees": "85",
        "company_size_band": "50-199",
        "region": "dach",
        "current_system": "spreadsheets",
        "modules_of_interest": "",
        "worked_by_sales": "false",
    },
}
# (lead id, date, event type, asset)
SCENARIO_EVENTS = (
    ("SCN-1", "2026-03-11", "webinar_attended", ""),
    ("SCN-1", "2026-03-12", "content_download", "production-planning-guide"),
    ("SCN-1", "2026-03-12", "page_visit", ""),
    ("SCN-1", "2026-04-02", "page_visit", ""),
    ("SCN-1", "2026-04-02", "email_click", ""),
    ("SCN-1", "2026-05-27", "page_visit", ""),
    ("SCN-1", "2026-06-05", "pricing_page_visit", ""),
    ("SCN-2", "2025-11-04", "form_submission", ""),
    ("SCN-2", "2025-11-04", "page_visit", ""),
    ("SCN-2", "2025-11-05", "page_visit", ""),
    ("SCN-2", "2025-11-05", "page_visit", ""),
    ("SCN-2", "2025-11-12", "page_visit", ""),
    ("SCN-2", "2025-11-12", "content_download", "budgeting-worksheet"),
    ("SCN-2", "2026-02-03", "email_click", ""),
    ("SCN-2", "2026-04-21", "email_click", ""),
    ("SCN-2", "2026-04-21", "page_visit", ""),
    ("SCN-2", "2026-05-14", "page_visit", ""),
    ("SCN-2", "2026-05-14", "pricing_page_visit", ""),
    ("SCN-3", "2026-05-20", "event_signup", ""),
    ("SCN-3", "2026-05-20", "form_submission", ""),
    ("SCN-3", "2026-05-20", "content_download", "general-newsletter"),
)


def _scenarios() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The brief's three story leads in their final state, with their events."""
    ids = list(SCENARIO_LEADS)
    start = pd.Timestamp(FIRST_DAY)
    lead = np.array([ids.index(row[0]) for row in SCENARIO_EVENTS])
    day = np.array([(pd.Timestamp(row[1]) - start).days for row in SCENARIO_EVENTS])
    event_type = np.array([EVENT_TYPES.index(row[2]) for row in SCENARIO_EVENTS])
    asset = np.array(
        [ASSETS.index(row[3]) if row[3] else -1 for row in SCENARIO_EVENTS]
    )
    events = {"lead": lead, "type": event_type, "day": day, "asset": asset}
    summary = _summarise(len(ids), events)

    rows = []
    for index, lead_id in enumerate(ids):
        row = dict.fromkeys(LEAD_FIELDS, "")
        row.update(SCENARIO_LEADS[lead_id], lead_id=lead_id)
        for counter in COUNTERS.values():
            row[counter] = str(summary[counter][index])
        row["demo_requested"] = "true" if summary["demo_requested"][index] else "false"
        row["content_downloads"] = _join_bits(
            summary["downloads"][index : index + 1], ASSETS
        )[0]
        row["last_activity_at"] = str(_date_table()[summary["last_day"][index]])
        row["reached_opportunity"] = row["reached_opportunity"] or "false"
        row["won"] = "false"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(LEAD_FIELDS))
    return frame, events


# --- small helpers --------------------------------------------------------


def _pick(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """Draw ``n`` codes with the given relative weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick_rows(rng: np.random.Generator, odds: np.ndarray) -> np.ndarray:
    """One code per row of an odds matrix (rows sum to 1)."""
    draw = rng.random(len(odds))
    return (
        (np.cumsum(odds, axis=1) < draw[:, None]).sum(axis=1).clip(0, odds.shape[1] - 1)
    )


def _values(table: Sequence[tuple], column: int) -> np.ndarray:
    return np.array([row[column] for row in table], dtype=object)


def _flags(table: Sequence[tuple], column: int) -> np.ndarray:
    return np.array([bool(row[column]) for row in table], dtype=float)


def _index_of(table: Sequence[tuple], value: str) -> int:
    return [row[0] for row in table].index(value)


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _popcount(mask: np.ndarray) -> np.ndarray:
    return np.bitwise_count(mask.astype(np.uint64)).astype(int)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    digits = np.strings.zfill(np.arange(1, n + 1).astype(str), width)
    return np.strings.add(prefix, digits).astype(object)


def _date_table() -> np.ndarray:
    """ISO date text per day offset from FIRST_DAY, a year past the as-of date."""
    days = pd.date_range(FIRST_DAY, periods=SPAN_DAYS + 366, freq="D")
    return days.strftime("%Y-%m-%d").to_numpy(dtype=object)


def _size_band(employees: np.ndarray) -> np.ndarray:
    bands = np.array([band for _, band in SIZE_BANDS] + [LARGEST_BAND], dtype=object)
    edges = np.array([low for low, _ in SIZE_BANDS[1:]] + [5_000])
    return bands[np.searchsorted(edges, employees, side="right")]


def _join_bits(masks: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Bit masks as ``;``-joined names, computed once per distinct mask."""
    distinct, inverse = np.unique(masks, return_inverse=True)
    text = [
        ";".join(name for bit, name in enumerate(names) if mask >> bit & 1)
        for mask in distinct.tolist()
    ]
    return np.array(text, dtype=object)[inverse]


def _number_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text, one shared string object per distinct value."""
    distinct, inverse = np.unique(values.astype(np.int64), return_inverse=True)
    return np.array([str(value) for value in distinct.tolist()], dtype=object)[inverse]


def _booleans(rng: np.random.Generator, flags: np.ndarray, yes_no: float) -> np.ndarray:
    """true/false text, with a share written yes/no as some forms do."""
    text = np.where(flags, "true", "false").astype(object)
    other = rng.random(len(flags)) < yes_no
    return np.where(other, np.where(flags, "Yes", "no"), text)


def _vary_case(
    rng: np.random.Generator, values: np.ndarray, share: float
) -> np.ndarray:
    """Rewrite a share of values as Title, UPPER or padded variants."""
    codes, distinct = pd.factorize(values)
    variants = np.array(
        [
            [text, text.title(), text.upper(), f" {text} ", f"{text}  "]
            for text in distinct.tolist()
        ],
        dtype=object,
    ).reshape(len(distinct), 5)
    chosen = rng.random(len(values)) < share
    variant = np.where(chosen, rng.integers(1, 5, len(values)), 0)
    return np.where(values == "", values, variants[codes, variant])


def _blank_out(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Blank about 8% of values and write a placeholder in about 1.2%."""
    draw = rng.random(len(values))
    placeholder = np.array(PLACEHOLDERS, dtype=object)[
        rng.integers(0, len(PLACEHOLDERS), len(values))
    ]
    values = np.where(draw < 0.08, "", values)
    return np.where((draw >= 0.08) & (draw < 0.092), placeholder, values)


def _campaigns(
    rng: np.random.Generator, source: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """A campaign name per lead, from its source and creation date."""
    dates = pd.Timestamp(FIRST_DAY) + pd.to_timedelta(day, unit="D")
    year, month = dates.year.to_numpy(), dates.month.to_numpy()
    pick = rng.integers(0, 2, len(source))
    keys = pd.DataFrame({"source": source, "pick": pick, "year": year, "month": month})
    distinct = keys.drop_duplicates()
    names = []
    for row in distinct.itertuples(index=False):
        templates = CAMPAIGNS[SOURCES[row.source][0]]
        template = templates[row.pick % len(templates)]
        names.append(
            template.format(
                year=row.year,
                month=row.month,
                quarter=(row.month - 1) // 3 + 1,
                half=1 if row.month <= 6 else 2,
            )
        )
    distinct = distinct.assign(campaign=names)
    merged = keys.merge(distinct, on=["source", "pick", "year", "month"], how="left")
    return merged["campaign"].to_numpy(dtype=object)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the sample history to a directory."""
    parser = argparse.ArgumentParser(
        prog="python -m leadsim.sample",
        description="Generate the bundled sample lead history.",
    )
    parser.add_argument("--out", default="sample_leads", help="output directory")
    parser.add_argument("--leads", type=int, default=20_000, help="number of leads")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_sample(args.out, args.leads, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
