"""Staff reads of personal data through the API leave an entry in the audit trail."""

from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import AuditEvent
from crm.services.privacy import audit_record, customer_subject


class PersonalDataReadAudit:
    """Mixed into a view whose answers hold personal data: each successful GET is one audit entry.

    The entry names what was read (``audit_subject``; one customer by their keyed hash), never the
    request's search text or the customer's id, which could themselves be personal data.
    """

    audit_subject = "personal data"
    audit_subject_is_customer = False

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and 200 <= response.status_code < 300 and request.user.is_authenticated:
            external_id = self.kwargs.get("external_id")
            if external_id and self.audit_subject_is_customer:
                subject = customer_subject(external_id)
            else:
                subject = self.audit_subject.format(**self.kwargs) if not external_id else self.audit_subject
            audit_record(
                action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
                actor=request.user,
                subject=subject,
                via="api",
                detail={"page": request.query_params.get("page", "1")},
            )
        return response
