from django.core.management.base import BaseCommand, CommandError

from core.command_output import command_output
from crm.models import AuditEvent, SegmentRun
from crm.selectors.marketing import segment_export_csv, segment_run_latest
from crm.services.privacy import audit_record


class Command(BaseCommand):
    help = "Write a segment run (default the latest) as CSV with the retailer's customer ids."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output).")
        parser.add_argument("--run", type=int, default=None, help="Segment run id; default the latest.")
        parser.add_argument(
            "--pseudonymize",
            action="store_true",
            help="Customers by keyed hash (PSEUDONYMIZATION_KEY), not by id; no names or e-mails.",
        )

    def handle(self, *args, **options):
        if options["run"] is not None:
            run = SegmentRun.objects.filter(pk=options["run"]).first()
            if run is None:
                raise CommandError(f"No segment run {options['run']}.")
        else:
            run = segment_run_latest()
            if run is None:
                raise CommandError("No segments computed yet; run compute_segments first.")
        with command_output(options["out"], stdout=self.stdout) as out:
            written = segment_export_csv(run=run, out=out, pseudonymized=options["pseudonymize"])
        if not options["pseudonymize"]:
            audit_record(
                action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
                subject=f"export_segments of run {run.pk} to {options['out']}",
                via="command",
                detail={"rows": written},
            )
        self.stderr.write(f"Wrote {written:,} customers of segment run {run.pk} (as of {run.as_of}).")
