"""Data import: upload an order-lines file; a worker imports it and reports each bad row."""

from django.conf import settings
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect, render

from core.selectors import job_list_imports
from crm.services.uploads import upload_store
from crm.tasks.imports import import_orders_enqueue
from portal.guards import staff_required
from portal.imports.forms import ImportUploadForm


@staff_required("import_data")
def data_import(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        job = import_orders_enqueue(
            path=upload_store(uploaded=uploaded),
            file_format=form.cleaned_data["layout"],
            file_type=uploaded.file_type,
            skip_invalid=form.cleaned_data["skip_invalid"],
            original_name=uploaded.name,
            user=request.user,
        )
        messages.success(request, f"“{uploaded.name}” uploaded; the import is queued.")
        return redirect("staff:job_detail", job_id=job.pk)
    recent = job_list_imports()
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "staff/data_import.html",
        {"form": form, "recent_imports": recent, "max_bytes": settings.IMPORT_UPLOAD_MAX_BYTES},
        status=status,
    )
