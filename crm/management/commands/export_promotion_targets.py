from django.core.management.base import BaseCommand, CommandError

from core.command_output import command_output
from crm.models import AuditEvent, Promotion, PromotionTarget
from crm.selectors.marketing import promotion_targets_csv
from crm.services.privacy import audit_record


class Command(BaseCommand):
    help = (
        "Write a promotion's targets and control group as CSV (customer id, e-mail, group, rank, score), "
        "or one group with --group (target: the send list): only customers who consent to the promotion's "
        "channel at the moment of export."
    )

    def add_arguments(self, parser):
        parser.add_argument("promotion", type=int, help="Promotion id.")
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output).")
        parser.add_argument(
            "--group",
            choices=PromotionTarget.Group.values,
            help="Only this group: target (the send list, without the control group) or control.",
        )
        parser.add_argument(
            "--pseudonymize",
            action="store_true",
            help="Customers by keyed hash (PSEUDONYMIZATION_KEY), not by id; no names or e-mails.",
        )

    def handle(self, *args, **options):
        promotion = Promotion.objects.filter(pk=options["promotion"]).first()
        if promotion is None:
            raise CommandError(f"No promotion {options['promotion']}.")
        if promotion.status != Promotion.Status.READY:
            raise CommandError(
                f"Promotion {promotion.pk} has no computed targets (status {promotion.status})."
            )
        with command_output(options["out"], stdout=self.stdout) as out:
            written = promotion_targets_csv(
                promotion=promotion, out=out, pseudonymized=options["pseudonymize"], group=options["group"]
            )
        if not options["pseudonymize"]:
            audit_record(
                action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
                subject=f"export_promotion_targets of promotion {promotion.pk} to {options['out']}",
                via="command",
                detail={"rows": written, "group": options["group"] or "both"},
            )
        group = f" ({options['group']} group)" if options["group"] else ""
        self.stderr.write(f"Wrote {written:,} targets{group} of promotion {promotion.pk}.")
