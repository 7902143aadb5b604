import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from crm.models import CustomerSegment
from crm.pseudonyms import pseudonymize
from portal.imports.forms import LAYOUT_CHOICES

register = template.Library()

# A date as a job keeps it in JSON ("2026-12-05"), which pages write as "5 Dec 2026".
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@register.filter
def order_total(order) -> Decimal:
    """Sum of the order's lines (uses prefetched lines; no query of its own when they are)."""
    return sum((line.amount for line in order.lines.all()), Decimal(0))


@register.filter
def readable(value) -> str:
    """A job's parameter or result as a person reads it: ``created 8, updated 0`` for a mapping (its keys
    named as ``job_field_label`` names them), items joined by commas for a list, yes / no, a float to
    four figures (``r 0.8257``), the value itself otherwise (never Python's ``{'created': 8}`` or
    ``True``)."""
    if isinstance(value, dict):
        if not value:
            return "–"
        return ", ".join(
            f"{key}: {_job_value(key, item)}"
            if str(key).isdigit()
            else f"{job_field_label(key, within=True)} {_job_value(key, item)}"
            for key, item in _in_page_order(value)
        )
    if isinstance(value, list | tuple):
        return ", ".join(readable(item) for item in value) if value else "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # a fitted parameter, a share: four figures say it
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 100 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return f"{dt.date.fromisoformat(value):%-d %b %Y}"
    return "–" if value is None or value == "" else str(value)


@register.filter
def money(value, places: int = 2) -> str:
    """An amount in the shop's currency (``CURRENCY_SYMBOL``), with thousands separated and the sign
    before the symbol: ``£1,084.14``, ``−£2.55`` (a refund); a dash when there is none. Every page,
    the shop's and the portal's, writes money through it."""
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    sign = "−" if amount < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{abs(amount):,.{int(places)}f}"


@register.filter
def rfm_group_label(key: str) -> str:
    """An RFM group's name as the segments page writes it ("At risk"), from its key ("at_risk")."""
    return CustomerSegment.RfmGroup(key).label if key in CustomerSegment.RfmGroup.values else key


# How pages name the demand forecasts' models and baselines (``inventory.forecasting.engine.CANDIDATES``,
# ``inventory.forecasting.metrics.BASELINES``).
FORECAST_MODEL_LABELS = {
    "croston": "Croston",
    "adida": "ADIDA",
    "imapa": "IMAPA",
    "tsb": "TSB",
    "ses": "Exponential smoothing",
    "combined": "Combination",
    "chosen": "Chosen per class",
    "last_week": "Last week",
    "mean_4_weeks": "Mean of 4 weeks",
    "mean_13_weeks": "Mean of 13 weeks",
}


@register.filter
def pseudonym(customer) -> str:
    """A customer as the pseudonymized files name them (``p_…``), for a login that may not see who they
    are: a row of the page can be found in the file, and the database's row number is not shown."""
    return pseudonymize(customer.external_id)


@register.filter
def forecast_model_label(key: str) -> str:
    """A demand forecast's model or baseline as pages name it ("Exponential smoothing" for "ses")."""
    return FORECAST_MODEL_LABELS.get(key, key)


# How job pages name the keys of what a job was asked (``Job.params``) and what it reports
# (``Job.result``), and the keys of the mappings inside them, in the order a page lists them: what the
# job is about first, its time last. A key not named here reads as its words ("files_checked" ->
# "Files checked"), so a new one is never shown raw.
JOB_FIELD_LABELS = {
    # what the job is about
    "original_name": "File",
    "source": "File",
    "file_type": "File type",
    "file_format": "Column layout",
    "layout": "Column layout read",
    "skip_invalid": "Import the valid rows even if some rows are invalid",  # as the upload form asks
    "promotion_id": "Promotion",
    "rescore_of": "Rescoring of",
    "model_version_id": "Model version",
    "segment_run_id": "Segment run",
    "forecast_run_id": "Forecast run",
    "as_of": "As of",
    "horizon_days": "Horizon",
    # imports (crm.tasks.imports, crm.services.importing.ImportReport)
    "rows_read": "Rows read",
    "rows_imported": "Rows imported",
    "rows_rejected": "Rows rejected",
    "rows_skipped": "Rows skipped (blank)",
    "customers": "Customers",
    "categories": "Categories",
    "products": "Products",
    "orders": "Orders",
    "order_lines": "Order lines",
    "guest_orders": "Guest orders",
    "return_orders": "Return orders",
    "non_product_lines": "Non-product lines",
    "erased_customers": "Erased customers (orders kept anonymous)",
    "consent_changes": "Consent changes",
    # segments (crm.tasks.marketing, crm.marketing.clv)
    "group_counts": "Customers per group",
    "parameters": "Parameters",
    "clv": "Customer lifetime value",
    "unit_days": "Time unit",
    "bgnbd": "BG/NBD",
    "bgnbd_priors": "BG/NBD priors",
    "gamma_gamma": "Gamma-gamma",
    "spend_model": "Spend model",
    "population_mean_spend": "Mean spend per purchase day",
    "clv_margin_rate": "Margin rate",
    "seasonal_correction": "Seasonal correction",
    "factors": "Seasonal factor by horizon (days)",
    "backtest_cutoff": "Seasonal backtest from",
    "reason": "Seasonal correction",
    # demand forecasts (inventory.tasks)
    "model_counts": "Products per model",
    # promotion targets (crm.tasks.marketing)
    "target": "Target group",
    "control": "Control group (held out)",
    # training and scoring (recommender.tasks)
    "activate": "Serve it if it passes the quality gate",
    "force": "Serve it even if it fails the quality gate",
    "config": "Settings for this run",
    "served": "Served",
    "verdict": "Quality gate",
    "index": "Chunk",
    "low": "From customer id",
    "high": "Up to customer id",
    "rows": "Recommendations written",
    "chunks": "Chunks",
    "worker": "Worker",
    "workers": "Workers",
    # retention (crm.services.privacy.retention_apply and its hooks)
    "behaviour_events": "Old behaviour events deleted",
    "import_uploads": "Import uploads deleted",
    "recommender_version_files": "Model version files deleted",
    "recommender_orphan_folders": "Orphan model folders deleted",
    "seconds": "Time taken",
    # the keys of the mappings inside: rows written, fitted parameters, RFM groups, forecast models
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "deleted": "deleted",
    "r": "r",
    "alpha": "α",
    "a": "a",
    "b": "b",
    "p": "p",
    "q": "q",
    "v": "v",
    **{group.value: group.label for group in CustomerSegment.RfmGroup},
    **FORECAST_MODEL_LABELS,
}
_JOB_FIELD_ORDER = {key: position for position, key in enumerate(JOB_FIELD_LABELS)}
# How a value of these keys is written: ``{}`` is the value as ``readable`` writes it, ``{s}`` an "s"
# unless it is 1.
JOB_FIELD_FORMATS = {
    "seconds": "{} s",
    "horizon_days": "{} day{s}",
    "unit_days": "{} day{s}",
    "model_version_id": "v{}",
    "rescore_of": "v{}",
    "promotion_id": "#{}",
    "segment_run_id": "#{}",
    "forecast_run_id": "#{}",
}
# What a job keeps for its worker or its own bookkeeping, and means nothing to staff: where files lie
# on the server (``Job.WORKER_ONLY_PARAMS``, an import's rejected rows), process ids, clocks. An
# import's ``errors`` have a table of their own.
JOB_FIELDS_NOT_SHOWN = frozenset(
    {"errors", "path", "rejects_path", "worker_pid", "pid", "t0", "progress_start"}
)


def job_field_label(key, *, within: bool = False) -> str:
    """A key of a job's record in words: ``JOB_FIELD_LABELS``, else its words, capitalised unless it
    names a figure within a line (``created 8, updated 0``)."""
    key = str(key)
    if key in JOB_FIELD_LABELS:
        return JOB_FIELD_LABELS[key]
    words = key.replace("_", " ").strip()
    return words if within else words[:1].upper() + words[1:]


def _job_value(key, value) -> str:
    labels = JOB_VALUE_LABELS.get(str(key), {})
    if isinstance(value, str) and value in labels:
        return labels[value]
    text = readable(value)
    if str(key) in JOB_FIELD_FORMATS and text != "–":
        return JOB_FIELD_FORMATS[str(key)].format(text, s="" if text == "1" else "s")
    return text


def _in_page_order(record: dict) -> list[tuple]:
    """The entries of a job's record (or of a mapping in it) in the order of ``JOB_FIELD_LABELS``,
    those it does not name after them as they come: the database keeps no order of its own."""
    return sorted(
        record.items(), key=lambda entry: _JOB_FIELD_ORDER.get(str(entry[0]), len(_JOB_FIELD_ORDER))
    )


@register.filter
def job_facts(record: dict | None) -> list[tuple[str, str]]:
    """A job's params or result as ``(label, text)`` lines for a page: in the order of
    ``JOB_FIELD_LABELS`` (the database keeps no order), what staff have no use for left out, and a
    mapping that holds mappings (a segments run's fitted parameters) given a line per entry."""
    facts: list[tuple[str, str]] = []
    for key, value in _in_page_order(record or {}):
        if key in JOB_FIELDS_NOT_SHOWN:
            continue
        if isinstance(value, dict) and any(isinstance(item, dict) for item in value.values()):
            facts.extend(job_facts(value))
        else:
            facts.append((job_field_label(key), _job_value(key, value)))
    return facts


# What some values of a job's record mean, by key.
JOB_VALUE_LABELS = {
    "file_format": dict(LAYOUT_CHOICES),
    "layout": dict(LAYOUT_CHOICES),
    "file_type": {"csv": "CSV", "xlsx": "Excel (.xlsx)", "parquet": "Parquet"},
}


def _minus_sign(text: str) -> str:
    """``text`` with a leading hyphen-minus written as the minus sign ``money`` uses."""
    return "−" + text[1:] if text.startswith("-") else text


@register.filter
def units(value) -> str:
    """A number of units, a returned line's with the minus sign that ``money`` writes beside it (−1, not
    -1); a dash when there is none."""
    if value is None or value == "":
        return "–"
    return _minus_sign(f"{int(value):,}")


@register.filter
def percent(value, digits: int = 1) -> str:
    """A share as a percentage; a negative one with the minus sign that ``money`` writes (−4.0%)."""
    if value is None or value == "":
        return "–"
    return _minus_sign(f"{float(value) * 100:.{int(digits)}f}%")


@register.filter
def points(value, digits: int = 2) -> str:
    """A difference of two shares in percentage points: "+1.25 percentage points"."""
    if value is None or value == "":
        return "–"
    number = float(value) * 100
    sign = "+" if number > 0 else "−" if number < 0 else ""
    return f"{sign}{abs(number):.{int(digits)}f} percentage points"


@register.filter
def money_change(value, places: int = 2) -> str:
    """A change of an amount, signed either way: "+£3.11", "−£3.11"."""
    text = money(value, places)
    return "+" + text if value not in (None, "") and Decimal(str(value)) > 0 else text


@register.filter
def metric(value, digits: int = 4) -> str:
    if isinstance(value, int | float):
        return f"{value:.{int(digits)}f}"
    return "–" if value is None else str(value)


@register.simple_tag
def change_badge(change) -> str:
    """A coloured "+12.3%" / "−4.0%" against the previous period, or a dash when there is none."""
    if change is None:
        return mark_safe('<span class="change none" title="No previous period">–</span>')
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    sign = "+" if change > 0 else "−" if change < 0 else ""
    return format_html('<span class="change {}">{}{}%</span>', direction, sign, f"{abs(change) * 100:.1f}")


@register.simple_tag
def status_badge(status: str, label: str = "") -> str:
    return format_html('<span class="badge status-{}">{}</span>', status, label or status)


# Contributions shown as bars per recommendation; the rest are summed into one line, so the figures
# shown still add up to the score.
EXPLANATION_BARS = 4


@register.inclusion_tag("includes/explanation_bars.html")
def explanation_bars(explanation: dict | None) -> dict:
    """A recommendation's largest contributions as bars (width: its size against the largest; green
    up, red down), the rest summed, and ``base + contributions = score``."""
    if not explanation:
        return {"explanation": None}
    contributions = explanation["contributions"]
    largest = max((abs(contribution["value"]) for contribution in contributions), default=0.0) or 1.0
    shown = [
        {**contribution, "width": round(100 * abs(contribution["value"]) / largest, 1)}
        for contribution in contributions[:EXPLANATION_BARS]
    ]
    rest = contributions[EXPLANATION_BARS:]
    return {
        "explanation": explanation,
        "shown": shown,
        "rest_count": len(rest),
        "rest_value": sum(contribution["value"] for contribution in rest),
        "co_purchase_shown": any(contribution["key"] == "co_purchase" for contribution in shown),
    }


@register.filter
def signed(value, digits: int = 3) -> str:
    """+0.123 / −0.045 (a real minus sign)."""
    if value is None:
        return "–"
    text = f"{abs(float(value)):.{int(digits)}f}"
    return f"−{text}" if float(value) < 0 and float(text) != 0 else f"+{text}"
