from django.conf import settings
from django.db import models
from django.utils import timezone


class JobQuerySet(models.QuerySet):
    def unfinished(self) -> "JobQuerySet":
        return self.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])

    def top_level(self) -> "JobQuerySet":
        """Jobs people started (not the chunks of a scoring)."""
        return self.filter(parent__isnull=True)


class Job(models.Model):
    """One background run (import, train, score, segments, targets) as the portal shows it."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        TRAIN = "train", "Train recommender"
        SCORE = "score", "Score recommendations"
        SEGMENTS = "segments", "Compute segments"
        TARGETS = "targets", "Compute promotion targets"
        DEMO = "demo", "Demo data"
        RETENTION = "retention", "Delete old personal data"
        SCORE_CHUNK = "score_chunk", "Score a range of customers"
        SCORE_FINISH = "score_finish", "Finish a scoring and switch"
        FORECAST = "forecast", "Forecast demand"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    message = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Delivery guard (core.tasks): which task runs the job, how often a worker started it, which process
    # holds it now and when that process last said it was alive.
    task_name = models.CharField(max_length=200, blank=True)
    task_args = models.JSONField(default=list, blank=True)
    deliveries = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # At most one running job per lock key (one training at a time, one target run per promotion).
    lock_key = models.CharField(max_length=100, blank=True)
    # The chunks of a scoring and its finishing step are jobs of their own under the scoring's job.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        # The table kept its name when jobs moved out of the crm app.
        db_table = "crm_job"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lock_key"],
                condition=models.Q(status="running") & ~models.Q(lock_key=""),
                name="core_job_one_running_per_lock_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    # Parameters only the worker needs: where an upload lies on the server. Every staff role reads
    # jobs, and a server's paths are none of theirs.
    WORKER_ONLY_PARAMS = ("path", "rejects_path")

    @property
    def shown_params(self) -> dict:
        """``params`` as the portal and the API show them: without ``WORKER_ONLY_PARAMS``."""
        return {key: value for key, value in self.params.items() if key not in self.WORKER_ONLY_PARAMS}

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()


class StaffAccess(models.Model):
    """No table: the holder of the staff portal's and staff API's own permissions, which roles (Django
    groups, see the ``core`` migration ``0002_staff_roles``) grant. Views check these, not only
    ``is_staff``; superusers have them all."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_portal", "Open the staff portal: dashboard, segments, promotions, models, jobs"),
            ("view_customers", "See customers' personal data: the customer list and 360 pages"),
            ("export_personal_data", "Export files with customers' ids and contact data"),
            ("export_pseudonymized", "Export files with pseudonymized customer ids"),
            ("manage_segments", "Compute segments"),
            ("manage_promotions", "Create promotions, compute their targets, measure results"),
            ("manage_models", "Train recommender versions and choose the served one"),
            ("import_data", "Upload order files"),
            ("erase_customers", "Erase a customer (right to be forgotten)"),
            ("export_customer_data", "Download everything kept about one customer (right of access)"),
            ("view_audit", "See the audit trail of access to personal data"),
            ("view_inventory", "See stock, demand forecasts and the reorder list"),
            ("manage_inventory", "Run demand forecasts"),
            ("manage_api_tokens", "See and revoke every login's API tokens"),
            ("manage_consent", "Record a customer's marketing consent given or withdrawn"),
        ]
