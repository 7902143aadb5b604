from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from crm.models import CustomerSegment
from crm.pseudonyms import pseudonymize

register = template.Library()


@register.filter
def order_total(order) -> Decimal:
    """Sum of the order's lines (uses prefetched lines; no query of its own when they are)."""
    return sum((line.amount for line in order.lines.all()), Decimal(0))


@register.filter
def readable(value) -> str:
    """A job's parameter or result as a person reads it: ``created 8, updated 0`` for a mapping, items
    joined by commas for a list, yes / no, a float to four figures (``r 0.8257``), the value itself
    otherwise (never Python's ``{'created': 8}`` or ``True``)."""
    if isinstance(value, dict):
        return ", ".join(f"{str(key).replace('_', ' ')} {readable(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(readable(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # a fitted parameter, a share: four figures say it
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 100 else f"{value:.4g}"
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


@register.filter
def percent(value, digits: int = 1) -> str:
    """A share as a percentage; a negative one with the minus sign that ``money`` writes (−4.0%)."""
    if value is None or value == "":
        return "–"
    text = f"{float(value) * 100:.{int(digits)}f}%"
    return "−" + text[1:] if text.startswith("-") else text


@register.filter
def points(value, digits: int = 2) -> str:
    """A difference of two shares in percentage points: "+1.25 points", "−5.47 points"."""
    if value is None or value == "":
        return "–"
    number = float(value) * 100
    sign = "+" if number > 0 else "−" if number < 0 else ""
    return f"{sign}{abs(number):.{int(digits)}f} points"


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
