import json

from django.core.management.base import BaseCommand, CommandError

from core.jobs import JobReporter
from core.models import Job
from core.progress import add_wait_arguments, follow_job_for_command
from recommender.ml import TrainConfig
from recommender.models import ModelVersion
from recommender.services.pipeline import model_version_pipeline_run
from recommender.tasks import training_enqueue


class Command(BaseCommand):
    help = (
        "Train a new recommender version in the background (Celery training queue). With --wait, follow it "
        "until the version is served (exit 0) or has failed or was not served (exit 1)."
    )

    def add_arguments(self, parser):
        add_wait_arguments(parser, wait_help="Wait for the outcome, with a progress bar.")
        parser.add_argument("--no-activate", action="store_true", help="Train and score but do not serve.")
        parser.add_argument(
            "--inline", action="store_true", help="Train and score in this process instead of a worker."
        )
        parser.add_argument(
            "--force", action="store_true", help="Serve the new version even if it fails the quality gate."
        )
        parser.add_argument(
            "--config",
            type=json.loads,
            default=None,
            help="Training settings for this run, e.g. '{\"epochs\": 5}'.",
        )

    def handle(self, *args, **options):
        _check_config(options["config"])
        activate = not options["no_activate"]
        if options["inline"]:
            return self._inline(activate=activate, force=options["force"], config=options["config"])
        job = training_enqueue(activate=activate, force=options["force"], config=options["config"])
        version_id = job.params["model_version_id"]
        self.stdout.write(f"Queued training job {job.pk} for model version {version_id}.")
        if not options["wait"]:
            return
        job = follow_job_for_command(job, options)
        self._report(job=job, version=ModelVersion.objects.get(pk=version_id), activate=activate)

    def _report(self, *, job: Job, version: ModelVersion, activate: bool) -> None:
        mlp = (version.metrics or {}).get("mlp", {})
        if mlp:
            self.stdout.write(
                f"Validation NDCG@10 {mlp.get('ndcg@10', 0):.4f}, Recall@10 {mlp.get('recall@10', 0):.4f}"
            )
        if job.status == Job.Status.FAILED:
            raise CommandError(f"Model version {version.pk} failed: {version.error or job.error}")
        if activate and version.status != ModelVersion.Status.ACTIVE:
            raise CommandError(f"Model version {version.pk} is not served: {version.error or job.message}")
        self.stdout.write(self.style.SUCCESS(f"Model version {version.pk} is {version.status}."))

    def _inline(self, *, activate: bool, force: bool, config: dict | None) -> None:
        version = ModelVersion.objects.create(
            params={"activate": activate, "force": force, "config": config or {}}
        )
        self.stdout.write(f"Training model version {version.pk} in this process.")
        outcome = model_version_pipeline_run(model_version=version, progress=JobReporter(None))
        self.stdout.write(outcome.verdict)
        if not outcome.go_on:
            raise CommandError(f"Model version {version.pk} is not served: {outcome.verdict}")
        self.stdout.write(
            self.style.SUCCESS(f"Model version {version.pk} is {outcome.model_version.status}.")
        )


def _check_config(config: object) -> None:
    """A setting the training does not know would be dropped without a word: refuse it, naming it."""
    if config is None:
        return
    if not isinstance(config, dict):
        raise CommandError("--config must be a JSON object of training settings, e.g. '{\"epochs\": 5}'.")
    known = set(TrainConfig.__dataclass_fields__)
    unknown = sorted(set(config) - known)
    if unknown:
        raise CommandError(
            f"Unknown training setting{'s' if len(unknown) > 1 else ''} in --config: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(known))}."
        )
