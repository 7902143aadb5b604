"""Customers' data rights: erasure, consent per channel, retention, and the audit trail (its writer,
``audit_record``, and ``customer_subject`` live in ``crm.services.audit`` and are imported from here too).

Other apps keep personal data of their own (the recommender: stored recommendations, per-customer
statistics inside model artifacts). ``crm`` never imports them; they register hooks here when Django
starts (``erasure_hook_register``, ``retention_hook_register``) and erasure and retention call them.
"""

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core.models import Job
from crm.models import (
    AuditEvent,
    BehaviourEvent,
    ConsentChannel,
    ConsentEvent,
    Customer,
    ErasureRecord,
    Order,
)
from crm.models.customers import CONSENT_FIELDS
from crm.services.api_tokens import api_tokens_revoke
from crm.services.audit import actor_name_of, audit_record, customer_subject

logger = logging.getLogger(__name__)

ANONYMOUS_CUSTOMER_EXTERNAL_ID = "~erased-customers"
ANONYMOUS_CUSTOMER_NAME = "Erased customers"
ERASED_TEXT = "[erased]"
# Events deleted per statement by retention: bounded transactions on a table of many millions of rows.
RETENTION_DELETE_BATCH = 20_000
# Upload files found in the imports folder without a job are removed only after this long, so a file
# being written by an upload that has not yet created its job is never touched.
ORPHAN_UPLOAD_GRACE = dt.timedelta(days=1)
IMPORT_UPLOAD_FOLDER = "imports"

ErasureHook = Callable[[list[int]], dict[str, int]]
RetentionHook = Callable[[dt.datetime], dict[str, int]]
_erasure_hooks: dict[str, ErasureHook] = {}
_retention_hooks: dict[str, RetentionHook] = {}


def erasure_hook_register(name: str, hook: ErasureHook) -> None:
    """``hook(customer_ids)`` forgets those customers (database ids) wherever its app keeps them and
    returns counts of what it changed. It runs inside the erasure's transaction: if it fails, nothing
    of the erasure is committed (and the erasure can simply be run again)."""
    _erasure_hooks[name] = hook


def retention_hook_register(name: str, hook: RetentionHook) -> None:
    """``hook(now)`` deletes what its app keeps past its retention; returns counts."""
    _retention_hooks[name] = hook


# --- Consent ----------------------------------------------------------------------------------


def consent_set(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    lawful_basis: str = ConsentEvent.LawfulBasis.CONSENT,
    at: dt.datetime | None = None,
    recorded_by=None,
) -> ConsentEvent | None:
    """Grant or withdraw ``customer``'s consent on ``channel``; a change is kept in the history.

    Setting what is already the current state records nothing and returns None.
    """
    if channel not in ConsentChannel.values:
        raise ValueError(f"Unknown channel {channel!r}; choose one of {', '.join(ConsentChannel.values)}.")
    if source not in ConsentEvent.Source.values:
        raise ValueError(f"Unknown consent source {source!r}.")
    if lawful_basis not in ConsentEvent.LawfulBasis.values:
        bases = ", ".join(ConsentEvent.LawfulBasis.values)
        raise ValueError(f"Unknown lawful basis {lawful_basis!r}; choose one of {bases}.")
    field = CONSENT_FIELDS[channel]
    at = at or timezone.now()
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if getattr(locked, field) == bool(granted):
            return None
        updates = {field: bool(granted)}
        if channel == ConsentChannel.EMAIL:
            updates["consent_changed_at"] = at
        Customer.objects.filter(pk=locked.pk).update(**updates, updated_at=timezone.now())
        for name, value in updates.items():
            setattr(customer, name, value)
        user = recorded_by if recorded_by is not None and recorded_by.is_authenticated else None
        return ConsentEvent.objects.create(
            customer=locked,
            channel=channel,
            granted=bool(granted),
            at=at,
            source=source,
            lawful_basis=lawful_basis,
            recorded_by=user,
        )


def consent_set_by_staff(
    *, customer: Customer, channel: str, granted: bool, lawful_basis: str, staff, via: str
) -> ConsentEvent | None:
    """Consent a customer gave or withdrew through staff (``via`` "portal" or "api"): kept in their
    consent history with the login that recorded it, and in the audit trail. None when it was already
    so (nothing recorded)."""
    source = ConsentEvent.Source.STAFF if via == "portal" else ConsentEvent.Source.API
    event = consent_set(
        customer=customer,
        channel=channel,
        granted=granted,
        lawful_basis=lawful_basis,
        source=source,
        recorded_by=staff,
    )
    if event is not None:
        audit_record(
            action=AuditEvent.Action.CONSENT_CHANGED,
            actor=staff,
            subject=customer_subject(customer),
            via=via,
            detail={"channel": event.channel, "granted": event.granted},
        )
    return event


# --- Erasure ----------------------------------------------------------------------------------


@dataclasses.dataclass
class ErasureOutcome:
    record: ErasureRecord
    already_erased: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "erased": True,
            "already_erased": self.already_erased,
            "subject": self.record.subject_hash,
            "erased_at": self.record.erased_at.isoformat(),
            "counts": self.record.counts,
        }


def anonymous_customer() -> Customer:
    """The one record that keeps the orders of every erased customer (so revenue stays in the books)."""
    customer = Customer.objects.filter(anonymous=True).first()
    if customer is not None:
        return customer
    customer, _ = Customer.objects.get_or_create(
        anonymous=True,
        defaults={"external_id": ANONYMOUS_CUSTOMER_EXTERNAL_ID, "name": ANONYMOUS_CUSTOMER_NAME},
    )
    return customer


def erasure_record_for(external_id: str) -> ErasureRecord | None:
    return ErasureRecord.objects.filter(subject_hash=customer_subject(external_id)).first()


def customer_erase_by_external_id(
    *, external_id: str, erased_by=None, via: str = "", erased_by_name: str = ""
) -> ErasureOutcome:
    """Erase the customer with the retailer's id ``external_id``; for someone erased before, the record
    of that erasure (``already_erased``). Raises ``Customer.DoesNotExist`` for an id never seen."""
    customer = Customer.objects.filter(external_id=external_id, anonymous=False).first()
    if customer is None:
        record = erasure_record_for(external_id)
        if record is None:
            raise Customer.DoesNotExist(f"No customer with id {external_id!r}.")
        return ErasureOutcome(record=record, already_erased=True)
    return customer_erase(customer=customer, erased_by=erased_by, via=via, erased_by_name=erased_by_name)


def customer_erase(
    *, customer: Customer, erased_by=None, via: str = "", erased_by_name: str = ""
) -> ErasureOutcome:
    """Erase ``customer`` (the right to be forgotten); running it again changes nothing.

    Deleted: the customer record with their behaviour events, segments, promotion targets, notes,
    consent history, recommendations and every other row that belongs to them; admin log lines about
    them; finished import uploads (which may hold their rows); their per-customer statistics inside
    model artifacts (through the hooks other apps register). Their login stays, disabled and scrubbed,
    so that what it did (notes written, jobs started) keeps an author. Their orders stay, moved to the
    anonymous record, so revenue and stock figures do not change. The ErasureRecord names them only by
    keyed hash.
    """
    subject = customer_subject(customer)
    actor_name = (erased_by_name or actor_name_of(erased_by, via=via))[:150]
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk, anonymous=False).first()
        if locked is None:
            record = ErasureRecord.objects.filter(subject_hash=subject).first()
            if record is None:
                raise Customer.DoesNotExist(f"Customer {customer.pk} does not exist and was never erased.")
            return ErasureOutcome(record=record, already_erased=True)
        counts: dict[str, int] = {}
        counts["orders_kept"] = Order.objects.filter(customer=locked).update(customer=anonymous_customer())
        counts["behaviour_events"] = locked.events.count()
        counts["segments"] = locked.segments.count()
        counts["promotion_targets"] = locked.promotion_targets.count()
        counts["notes"] = locked.notes.count()
        counts["consent_events"] = locked.consent_events.count()
        counts["admin_log_entries"] = _admin_log_delete(Customer, locked.pk)
        counts["jobs_scrubbed"] = _jobs_scrub([locked.external_id, locked.email, locked.name])
        counts["audit_entries_scrubbed"] = _audit_scrub(locked, subject)
        counts["login_disabled"] = _login_scrub(locked.user_id)
        for name, hook in _erasure_hooks.items():
            for key, value in (hook([locked.pk]) or {}).items():
                counts[f"{name}_{key}"] = int(value)
        locked.delete()
        counts["import_uploads_deleted"] = import_uploads_delete(finished_only=True)
        record = ErasureRecord.objects.create(
            subject_hash=subject,
            erased_at=timezone.now(),
            erased_by=erased_by if erased_by is not None and erased_by.is_authenticated else None,
            erased_by_name=actor_name,
            counts=counts,
        )
        audit_record(
            action=AuditEvent.Action.CUSTOMER_ERASED,
            actor=erased_by,
            actor_name=actor_name,
            subject=subject,
            via=via,
            detail={"orders_kept": counts["orders_kept"]},
        )
    logger.info("Customer %s erased by %s: %s", subject, actor_name, counts)
    return ErasureOutcome(record=record, already_erased=False)


def _admin_log_delete(model: type, pk: int) -> int:
    content_type = ContentType.objects.get_for_model(model)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(pk)).delete()[0]


def _login_scrub(user_id: int | None) -> int:
    """Disable the login and remove everything that names the person; its row stays (as an author)."""
    if user_id is None:
        return 0
    User = get_user_model()
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    _admin_log_delete(User, user.pk)
    user.username = f"erased-{uuid.uuid4().hex[:16]}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = user.is_staff = user.is_superuser = False
    # A new (unusable) password also ends every session of the login: Django checks its hash.
    user.set_unusable_password()
    user.save()
    api_tokens_revoke(user=user)
    return 1


def _needles(texts: Iterable[str]) -> list[str]:
    """The texts erasure blanks out, the longest first (an e-mail that holds the id is blanked whole,
    not around the id). Short ones ("Li") would match inside unrelated words and are left out: the
    id and e-mail are what identify."""
    return sorted({text for text in texts if text and len(text) >= 4}, key=len, reverse=True)


def _jobs_scrub(texts: Iterable[str]) -> int:
    """Blank the customer's id, e-mail and name out of job rows (messages, errors, params, results)."""
    needles = _needles(texts)
    if not needles:
        return 0
    jobs = Job.objects.annotate(
        params_text=Cast("params", TextField()), result_text=Cast("result", TextField())
    )
    match = Q()
    for needle in needles:
        match |= (
            Q(message__contains=needle)
            | Q(error__contains=needle)
            | Q(params_text__contains=needle)
            | Q(result_text__contains=needle)
        )
    scrubbed = 0
    for job in jobs.filter(match):
        job.message = _replace_all(job.message, needles)
        job.error = _replace_all(job.error, needles)
        job.params = _replace_in(job.params, needles)
        job.result = _replace_in(job.result, needles)
        job.save(update_fields=["message", "error", "params", "result"])
        scrubbed += 1
    return scrubbed


def _audit_scrub(customer: Customer, subject: str) -> int:
    """Name the customer by ``subject`` (their keyed hash) in audit entries that named them otherwise:
    their login as the actor, or their id or e-mail in an entry's detail (written before the trail
    named shoppers by hash and kept search text out)."""
    login = get_user_model().objects.filter(pk=customer.user_id).values_list("username", flat=True).first()
    plain = [customer.external_id, customer.email]
    # a query string keeps an e-mail as customer%40example.com
    needles = _needles([*plain, *(quote_plus(text) for text in plain if text)])
    match = Q(actor_name=login) if login else Q()
    entries = AuditEvent.objects.annotate(detail_text=Cast("detail", TextField()))
    for needle in needles:
        match |= Q(detail_text__contains=needle)
    if not match:
        return 0
    scrubbed = 0
    for entry in entries.filter(match):
        if login and entry.actor_name == login:
            entry.actor_name = subject
        entry.detail = _replace_in(entry.detail, needles)
        entry.save(update_fields=["actor_name", "detail"])
        scrubbed += 1
    return scrubbed


def _replace_all(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = text.replace(needle, ERASED_TEXT)
    return text


def _replace_in(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        return _replace_all(value, needles)
    if isinstance(value, list):
        return [_replace_in(item, needles) for item in value]
    if isinstance(value, dict):
        return {_replace_all(str(key), needles): _replace_in(item, needles) for key, item in value.items()}
    return value


# --- Import uploads ---------------------------------------------------------------------------


def import_upload_folder() -> Path:
    return Path(settings.MEDIA_ROOT) / IMPORT_UPLOAD_FOLDER


def import_upload_discard(*, path: str | Path | None) -> bool:
    """Delete an uploaded import file once its import is over (only files in the upload folder)."""
    if not path:
        return False
    path = Path(path)
    folder = import_upload_folder().resolve()
    if not path.resolve().is_relative_to(folder) or not path.is_file():
        return False
    path.unlink()
    return True


def import_uploads_delete(*, finished_only: bool = True, now: dt.datetime | None = None) -> int:
    """Delete the upload (and rejects) files of finished import jobs, and files no job knows of that
    are older than a day. Files of queued or running imports are kept."""
    folder = import_upload_folder()
    if not folder.is_dir():
        return 0
    now = now or timezone.now()
    in_use: set[Path] = set()
    finished: set[Path] = set()
    for status, params in Job.objects.filter(kind=Job.Kind.IMPORT).values_list("status", "params"):
        paths = {Path(params.get(key)).resolve() for key in ("path", "rejects_path") if params.get(key)}
        (finished if status in (Job.Status.SUCCEEDED, Job.Status.FAILED) else in_use).update(paths)
    deleted = 0
    for file in folder.rglob("*"):
        if not file.is_file():
            continue
        resolved = file.resolve()
        if resolved in in_use:
            continue
        modified = dt.datetime.fromtimestamp(file.stat().st_mtime, tz=dt.UTC)
        if resolved in finished or (not finished_only or now - modified > ORPHAN_UPLOAD_GRACE):
            file.unlink()
            deleted += 1
    return deleted


# --- Retention --------------------------------------------------------------------------------


def retention_apply(*, now: dt.datetime | None = None, progress=None) -> dict[str, int]:
    """Delete behaviour events older than ``BEHAVIOUR_EVENT_RETENTION_DAYS``, the uploads of finished
    imports, and what other apps' retention hooks remove (old model versions' files)."""
    now = now or timezone.now()
    report = progress or (lambda fraction, message="": None)
    cutoff = now - dt.timedelta(days=settings.BEHAVIOUR_EVENT_RETENTION_DAYS)
    counts = {"behaviour_events": 0}
    report(0.0, f"Deleting behaviour events before {cutoff:%Y-%m-%d}")
    while True:
        batch = list(
            BehaviourEvent.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:RETENTION_DELETE_BATCH]
        )
        if not batch:
            break
        counts["behaviour_events"] += BehaviourEvent.objects.filter(pk__in=batch).delete()[0]
    report(0.6, "Deleting finished import uploads")
    counts["import_uploads"] = import_uploads_delete(finished_only=True, now=now)
    for name, hook in _retention_hooks.items():
        for key, value in (hook(now) or {}).items():
            counts[f"{name}_{key}"] = int(value)
    report(1.0, "Retention applied")
    return counts
