from django.contrib import admin
from django.contrib.contenttypes import views as contenttypes_views
from django.contrib.contenttypes.models import ContentType
from django.http import Http404

from core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress", "message", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    search_fields = ["message", "error"]
    raw_id_fields = ["created_by"]
    date_hierarchy = "created_at"


def view_on_site(request, content_type_id, object_id):
    """The admin's "view on site" redirect (``admin/r/<content type>/<id>/``), refusing a model with no
    table: Django's own looked the id up in ``core.StaffAccess``, which holds permissions only, and
    answered 500."""
    content_type = ContentType.objects.filter(pk=content_type_id).first()
    model = content_type.model_class() if content_type else None
    if model is None or not model._meta.managed:
        raise Http404("No such object.")
    return contenttypes_views.shortcut(request, content_type_id, object_id)
