"""Reads of segments and promotion targets for the portal, the API and the exports."""

from typing import IO

from django.db.models import Count, Q, QuerySet

from crm.csv_safety import csv_safe_writer
from crm.models import Customer, CustomerSegment, Promotion, PromotionTarget, SegmentRun
from crm.models.customers import CONSENT_FIELDS
from crm.pseudonyms import pseudonymize

# Churn risk above which a high-value customer counts as at risk.
AT_RISK_CHURN_THRESHOLD = 0.5
AT_RISK_GROUPS = (
    CustomerSegment.RfmGroup.AT_RISK,
    CustomerSegment.RfmGroup.CANT_LOSE,
    CustomerSegment.RfmGroup.ABOUT_TO_SLEEP,
)
SEGMENT_EXPORT_COLUMNS = (
    "customer_id",
    "rfm_group",
    "r",
    "f",
    "m",
    "expected_purchases_90d",
    "p_alive",
    "predicted_clv_12m",
    "high_value",
    "churn_risk",
)
TARGET_EXPORT_COLUMNS = ("customer_id", "email", "group", "rank", "score", "expected_value")
# A pseudonymized file names customers by their keyed hash only: no e-mail.
TARGET_PSEUDONYMIZED_COLUMNS = ("customer_id", "group", "rank", "score", "expected_value")


def segment_run_latest() -> SegmentRun | None:
    return SegmentRun.objects.newest_first().first()


def segment_group_counts(*, run: SegmentRun) -> dict[str, int]:
    """Customers per RFM group, every group present (zero when empty), in the map's order."""
    counts = dict(
        run.segments.order_by()
        .values("rfm_group")
        .annotate(count=Count("pk"))
        .values_list("rfm_group", "count")
    )
    return {group: counts.get(group, 0) for group in CustomerSegment.RfmGroup.values}


def segment_run_latest_two() -> tuple[SegmentRun | None, SegmentRun | None]:
    """The latest run and the one before it (for the movement between groups)."""
    runs = list(SegmentRun.objects.newest_first()[:2])
    return (runs[0] if runs else None, runs[1] if len(runs) == 2 else None)


def segment_movement(*, from_run: SegmentRun, to_run: SegmentRun) -> list[tuple[str, str, int]]:
    """How many customers moved from each group of ``from_run`` to each group of ``to_run`` (customers
    in both runs), largest flows first."""
    rows = (
        CustomerSegment.objects.filter(run=to_run, customer__segments__run=from_run)
        .order_by()
        .values_list("customer__segments__rfm_group", "rfm_group")
        .annotate(count=Count("pk"))
    )
    movement = [(str(source), str(target), int(count)) for source, target, count in rows]
    return sorted(movement, key=lambda row: (-row[2], row[0], row[1]))


def _run_or_latest(run: SegmentRun | None) -> SegmentRun | None:
    return run if run is not None else segment_run_latest()


def customer_segment_list(*, run: SegmentRun | None = None) -> QuerySet[CustomerSegment]:
    run = _run_or_latest(run)
    if run is None:
        return CustomerSegment.objects.none()
    return CustomerSegment.objects.filter(run=run).select_related("customer", "run")


def customer_list_high_value(*, run: SegmentRun | None = None) -> QuerySet[CustomerSegment]:
    """Segments of the high-value customers (top decile of predicted 12-month CLV), most valuable first."""
    return (
        customer_segment_list(run=run).filter(high_value=True).order_by("-predicted_clv_12m", "customer_id")
    )


def customer_list_at_risk(*, run: SegmentRun | None = None) -> QuerySet[CustomerSegment]:
    """High-value customers likely to have lapsed (churn risk above 0.5), and everyone in the RFM groups
    that need winning back (at risk, can't lose them, about to sleep); most valuable first."""
    return (
        customer_segment_list(run=run)
        .filter(Q(high_value=True, churn_risk__gt=AT_RISK_CHURN_THRESHOLD) | Q(rfm_group__in=AT_RISK_GROUPS))
        .order_by("-predicted_clv_12m", "customer_id")
    )


def customer_segment_latest(*, customer: Customer) -> CustomerSegment | None:
    return (
        CustomerSegment.objects.filter(customer=customer)
        .select_related("run")
        .order_by("-run__as_of", "-run__created_at", "-run_id")
        .first()
    )


def segment_export_csv(
    *,
    run: SegmentRun,
    out: IO[str],
    segments: QuerySet[CustomerSegment] | None = None,
    pseudonymized: bool = False,
) -> int:
    """Write the run's segments (or ``segments`` of it, in their order) as CSV with the retailer's
    customer ids (or, ``pseudonymized``, their keyed hashes); returns the row count. The one layout of
    every segments file."""
    writer = csv_safe_writer(out)
    writer.writerow(SEGMENT_EXPORT_COLUMNS)
    if segments is None:
        segments = CustomerSegment.objects.filter(run=run).order_by("customer__external_id")
    rows = segments.filter(run=run).values_list(
        "customer__external_id",
        "rfm_group",
        "r_score",
        "f_score",
        "m_score",
        "expected_purchases_90d",
        "p_alive",
        "predicted_clv_12m",
        "high_value",
        "churn_risk",
    )
    written = 0
    for external_id, group, r, f, m, purchases, p_alive, clv, high_value, churn in rows.iterator(
        chunk_size=5000
    ):
        writer.writerow(
            [
                pseudonymize(external_id) if pseudonymized else external_id,
                group,
                r,
                f,
                m,
                f"{purchases:.4f}",
                f"{p_alive:.4f}",
                f"{clv:.2f}",
                int(high_value),
                f"{churn:.4f}",
            ]
        )
        written += 1
    return written


def promotion_list() -> QuerySet[Promotion]:
    return Promotion.objects.select_related("category").order_by("-created_at")


def promotion_get(*, promotion_id: int) -> Promotion | None:
    return (
        Promotion.objects.select_related("category")
        .prefetch_related("products")
        .filter(pk=promotion_id)
        .first()
    )


def promotion_target_counts(*, promotion: Promotion) -> dict[str, int]:
    """Customers in the promotion's target and control groups."""
    counts = dict(
        promotion.targets.order_by().values("group").annotate(n=Count("pk")).values_list("group", "n")
    )
    return {group: counts.get(group, 0) for group in PromotionTarget.Group.values}


def promotion_send_list_count(*, promotion: Promotion) -> int:
    """Customers of the target group who consent now to the promotion's channel: the send list's rows
    (``promotion_targets_csv`` with group ``target``), fewer than the group once some withdrew."""
    return (
        promotion_target_list_exportable(promotion=promotion)
        .filter(group=PromotionTarget.Group.TARGET)
        .count()
    )


def promotion_target_list(*, promotion: Promotion, group: str | None = None) -> QuerySet[PromotionTarget]:
    targets = PromotionTarget.objects.filter(promotion=promotion).select_related("customer").order_by("rank")
    return targets.filter(group=group) if group else targets


def promotion_target_list_exportable(*, promotion: Promotion) -> QuerySet[PromotionTarget]:
    """The targets that may leave the shop now: those whose customer consents, at this moment, to the
    promotion's channel. Someone who withdrew after the targets were computed is left out."""
    consent_field = CONSENT_FIELDS[promotion.consent_channel]
    return PromotionTarget.objects.filter(promotion=promotion, **{f"customer__{consent_field}": True})


def promotion_targets_csv(
    *, promotion: Promotion, out: IO[str], pseudonymized: bool = False, group: str | None = None
) -> int:
    """Write the promotion's consenting targets (both groups, by rank) as CSV; returns the row count.

    ``group`` (``target`` or ``control``) writes that group only: ``target`` is the send list, which
    must not reach the control group. ``pseudonymized`` names customers by their keyed hash and leaves
    the e-mail out.
    """
    if group is not None and group not in PromotionTarget.Group.values:
        raise ValueError(f"Unknown group {group!r}; choose one of {', '.join(PromotionTarget.Group.values)}.")
    targets = promotion_target_list_exportable(promotion=promotion)
    if group is not None:
        targets = targets.filter(group=group)
    writer = csv_safe_writer(out)
    writer.writerow(TARGET_PSEUDONYMIZED_COLUMNS if pseudonymized else TARGET_EXPORT_COLUMNS)
    rows = targets.order_by("rank").values_list(
        "customer__external_id", "customer__email", "group", "rank", "score", "expected_value"
    )
    written = 0
    for external_id, email, group, rank, score, value in rows.iterator(chunk_size=5000):
        if pseudonymized:
            writer.writerow([pseudonymize(external_id), group, rank, f"{score:.6f}", f"{value:.4f}"])
        else:
            writer.writerow([external_id, email, group, rank, f"{score:.6f}", f"{value:.4f}"])
        written += 1
    return written
