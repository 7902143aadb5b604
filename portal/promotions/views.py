"""Promotions: create, compute targets and control, export, measure the uplift."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.selectors import job_latest_for_promotion
from crm.models import AuditEvent, Promotion, PromotionTarget
from crm.selectors import marketing
from crm.services import promotions
from crm.services.privacy import audit_record
from crm.tasks.marketing import promotion_targets_enqueue
from portal.guards import BadExportParameter, export_pseudonymized, staff_required
from portal.promotions.forms import PromotionForm
from portal.responses import bad_request

PROMOTIONS_PER_PAGE = 50
TARGETS_SHOWN = 25


@staff_required("view_portal")
@require_GET
def promotion_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(marketing.promotion_list(), PROMOTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/promotion_list.html", {"page": page, "promotions": page.object_list})


# Service error keys that have a different name on the form.
PROMOTION_FORM_FIELDS = {"products": "skus", "seed": None}


@staff_required("manage_promotions")
def promotion_create(request: HttpRequest) -> HttpResponse:
    form = PromotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            promotion = promotions.promotion_create(
                name=data["name"],
                description=data["description"],
                product_ids=[product.pk for product in form.products()],
                category_id=data["category"].pk if data["category"] else None,
                discount_percent=data["discount_percent"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                channel=data["channel"],
                audience_size=data["audience_size"],
                control_share=data["control_share"],
                exclude_bought_within_days=data["exclude_bought_within_days"],
                exclude_contacted_within_days=data["exclude_contacted_within_days"],
                user=request.user,
            )
        except ValidationError as exc:
            for field, field_errors in exc.message_dict.items():
                name = PROMOTION_FORM_FIELDS.get(field, field)
                form.add_error(name if name in form.fields else None, field_errors)
        else:
            messages.success(request, f"Promotion “{promotion.name}” created.")
            return redirect("staff:promotion_detail", promotion_id=promotion.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/promotion_form.html", {"form": form}, status=status)


@staff_required("view_portal")
@require_GET
def promotion_detail(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = marketing.promotion_get(promotion_id=promotion_id)
    if promotion is None:
        raise Http404("No such promotion.")
    group_counts = marketing.promotion_target_counts(promotion=promotion)
    context = {
        "promotion": promotion,
        "targets": list(marketing.promotion_target_list(promotion=promotion)[:TARGETS_SHOWN]),
        "target_count": group_counts["target"],
        "control_count": group_counts["control"],
        "sendable_count": marketing.promotion_send_list_count(promotion=promotion)
        if group_counts["target"]
        else 0,
        "results": promotion.results or None,
        "job": job_latest_for_promotion(promotion_id=promotion.pk),
    }
    return render(request, "staff/promotion_detail.html", context)


@staff_required("manage_promotions")
@require_POST
def promotion_compute_targets(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    promotion_targets_enqueue(promotion=promotion, user=request.user)
    messages.success(request, "Target computation queued.")
    return redirect("staff:promotion_detail", promotion_id=promotion.pk)


@staff_required("manage_promotions")
@require_POST
def promotion_measure_results(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    try:
        promotions.promotion_results(promotion=promotion)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Results measured.")
    return redirect("staff:promotion_detail", promotion_id=promotion.pk)


@staff_required("export_personal_data", "export_pseudonymized")
@require_GET
def promotion_targets_csv(request: HttpRequest, promotion_id: int) -> HttpResponse:
    """The consenting targets with their ids and e-mails; ``?pseudonymize=1``: by keyed pseudonym, no
    e-mail (the only file an analyst may take). Both groups with a ``group`` column, or ``?group=target``
    (the send list) or ``?group=control``."""
    try:
        pseudonymized = export_pseudonymized(request)
    except BadExportParameter as bad:
        return bad_request(str(bad))
    group = request.GET.get("group") or None
    if group is not None and group not in PromotionTarget.Group.values:
        return bad_request(f"group must be one of {', '.join(PromotionTarget.Group.values)}; got {group!r}.")
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    response = HttpResponse(content_type="text/csv")
    kind = f"{group}-group" if group else "targets"
    name = f"promotion-{promotion.pk}-{kind}{'-pseudonymized' if pseudonymized else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    count = marketing.promotion_targets_csv(
        promotion=promotion, out=response, pseudonymized=pseudonymized, group=group
    )
    audit_record(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
        actor=request.user,
        via="portal",
        detail={
            "file": "promotion targets",
            "promotion": promotion.pk,
            "rows": count,
            "group": group or "both",
            "pseudonymized": pseudonymized,
        },
    )
    return response
