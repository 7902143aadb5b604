"""Data import: upload an order-lines file; a worker imports it and reports each bad row."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.selectors import job_list_imports
from crm.services.uploads import upload_store
from crm.tasks.imports import import_orders_enqueue
from portal.guards import staff_required
from portal.imports.forms import ImportUploadForm
from portal.imports.handlers import upload_limit_install, upload_rejection


# The CSRF check reads the body, and the upload limit must be in place before anything does: the
# check is made below, once the limit has had its say. A refused upload changes nothing.
@csrf_exempt
@staff_required("import_data")
def data_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload_limit_install(request, max_bytes=settings.IMPORT_UPLOAD_MAX_BYTES)
        rejected = upload_rejection(request)
        if rejected is not None:
            form = ImportUploadForm(request.POST, request.FILES, upload_rejected=rejected)
            form.is_valid()
            return _import_page(request, form, status=413)
    return _data_import(request)


@csrf_protect
def _data_import(request: HttpRequest) -> HttpResponse:
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
    return _import_page(request, form, status=400 if request.method == "POST" else 200)


def _import_page(request: HttpRequest, form: ImportUploadForm, *, status: int) -> HttpResponse:
    context = {
        "form": form,
        "recent_imports": job_list_imports(),
        "max_bytes": settings.IMPORT_UPLOAD_MAX_BYTES,
        "max_unpacked_bytes": settings.IMPORT_MAX_UNPACKED_BYTES,
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    return render(request, "staff/data_import.html", context, status=status)
