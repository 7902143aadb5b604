import sys

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from crm.models import Customer
from crm.services.privacy import customer_erase, customer_subject, erasure_record_for


class Command(BaseCommand):
    help = (
        "Erase a customer (right to be forgotten): their personal data, events, recommendations, segments, "
        "targets and notes are deleted, their login disabled; their orders stay, anonymous. Asks first."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("customer_id", help="The customer's id in the retailer's systems.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, customer_id: str, yes: bool, **options):
        customer = Customer.objects.filter(external_id=customer_id, anonymous=False).first()
        if customer is None:
            record = erasure_record_for(customer_id)
            if record is None:
                raise CommandError(f"There is no customer {customer_id!r}.")
            self.stdout.write(
                f"Customer {customer_id!r} was already erased on {record.erased_at:%Y-%m-%d %H:%M} "
                f"(record {record.subject_hash}); nothing to do."
            )
            return
        orders = customer.orders.count()
        if not yes:
            stdin = options.get("stdin") or sys.stdin
            self.stdout.write(
                f"Erase customer {customer_id!r} ({orders:,} order{pluralize(orders)}, kept anonymously)? "
                "This cannot be undone. Type 'yes' to erase: ",
                ending="",
            )
            self.stdout.flush()
            answer = stdin.readline().strip().lower()
            if answer != "yes":
                raise CommandError("Not erased: the answer was not 'yes'.")
        outcome = customer_erase(customer=customer, erased_by=None, via="command")
        self.stdout.write(
            self.style.SUCCESS(
                f"Customer {customer_id!r} erased (record {customer_subject(customer_id)}): "
                f"{outcome.record.counts_summary()}."
            )
        )
