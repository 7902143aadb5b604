from django.core.management.base import BaseCommand, CommandError

from recommender.models import ModelVersion
from recommender.services.activation import ActivationError, model_version_activate


class Command(BaseCommand):
    help = "Serve a model version (e.g. roll back to the one served before)."

    def add_arguments(self, parser):
        parser.add_argument("version", type=int, help="Model version id, as listed in the portal.")

    def handle(self, *args, **options):
        try:
            version = ModelVersion.objects.get(pk=options["version"])
        except ModelVersion.DoesNotExist as exc:
            raise CommandError(f"There is no model version {options['version']}.") from exc
        if version.status == ModelVersion.Status.ACTIVE:
            self.stdout.write(f"Model version {version.pk} is already served.")
            return
        try:
            version = model_version_activate(model_version=version, via="command")
        except ActivationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Model version {version.pk} is now served."))
