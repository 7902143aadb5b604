from django.core.management.base import BaseCommand, CommandError

from crm.models import Promotion
from crm.selectors.marketing import promotion_targets_csv


class Command(BaseCommand):
    help = "Write a promotion's targets and control group as CSV (customer id, e-mail, group, rank, score)."

    def add_arguments(self, parser):
        parser.add_argument("promotion", type=int, help="Promotion id.")
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output).")

    def handle(self, *args, **options):
        promotion = Promotion.objects.filter(pk=options["promotion"]).first()
        if promotion is None:
            raise CommandError(f"No promotion {options['promotion']}.")
        if promotion.status != Promotion.Status.READY:
            raise CommandError(
                f"Promotion {promotion.pk} has no computed targets (status {promotion.status})."
            )
        if options["out"] == "-":
            written = promotion_targets_csv(promotion=promotion, out=self.stdout)
        else:
            with open(options["out"], "w", newline="", encoding="utf-8") as out:
                written = promotion_targets_csv(promotion=promotion, out=out)
        self.stderr.write(f"Wrote {written:,} targets of promotion {promotion.pk}.")
