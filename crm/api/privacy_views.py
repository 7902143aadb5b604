"""Customers' data rights over the API: erase a customer (staff), download a customer's data, read and
change their consent per channel (staff, or the shopper for their own record)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.permissions import CustomerOwnerOrStaff, HasStaffPermission, customer_for_request
from crm.api.schema import error_response
from crm.api.serializers import JSONInputSerializer
from crm.models import AuditEvent, ConsentChannel, ConsentEvent, Customer
from crm.selectors.privacy import customer_consent_document, customer_data_export
from crm.services.privacy import (
    audit_record,
    consent_set,
    consent_set_by_staff,
    customer_erase_by_external_id,
    customer_subject,
)

# One customer's complete record, as the shopper's own "My data" download: a data-rights request.
DATA_EXPORT_PERMISSION = "export_customer_data"

ERASURE_RESPONSE = inline_serializer(
    "ErasureResult",
    {
        "erased": serializers.BooleanField(),
        "already_erased": serializers.BooleanField(),
        "subject": serializers.CharField(help_text="The keyed hash that names the erased customer."),
        "erased_at": serializers.DateTimeField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
    },
)


class CustomerEraseView(APIView):
    """Erase a customer (right to be forgotten). Running it again answers ``already_erased``."""

    permission_classes = [HasStaffPermission("erase_customers")]

    @extend_schema(
        request=None,
        responses={200: ERASURE_RESPONSE, 404: error_response("No such customer.")},
    )
    def post(self, request: Request, external_id: str) -> Response:
        try:
            outcome = customer_erase_by_external_id(
                external_id=external_id, erased_by=request.user, via="api"
            )
        except Customer.DoesNotExist:
            raise NotFound(f"No customer with id {external_id!r}.") from None
        return Response(outcome.as_dict())


class CustomerDataExportView(APIView):
    """Everything kept about a customer, as one JSON document (staff; a shopper for their own id)."""

    permission_classes = [CustomerOwnerOrStaff(DATA_EXPORT_PERMISSION)]

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The customer's data as JSON.")}
    )
    def get(self, request: Request, external_id: str) -> Response:
        customer = customer_for_request(
            request=request, external_id=external_id, staff_codename=DATA_EXPORT_PERMISSION
        )
        document = customer_data_export(customer=customer)
        audit_record(
            action=AuditEvent.Action.DATA_EXPORT_OPENED,
            actor=request.user,
            subject=customer_subject(customer),
            via="api",
        )
        response = Response(document)
        response["Content-Disposition"] = 'attachment; filename="customer-data.json"'
        return response


class ConsentInputSerializer(JSONInputSerializer):
    """One channel's answer, each field in its JSON type (``granted`` is true or false, never "0")."""

    channel = serializers.ChoiceField(choices=ConsentChannel.choices)
    granted = serializers.BooleanField()
    lawful_basis = serializers.ChoiceField(
        choices=ConsentEvent.LawfulBasis.choices, default=ConsentEvent.LawfulBasis.CONSENT
    )


CONSENT_RESPONSE = inline_serializer(
    "CustomerConsent",
    {
        "current": serializers.DictField(child=serializers.BooleanField()),
        "history": serializers.ListField(child=serializers.DictField()),
    },
)
CONSENT_CHANGE_RESPONSE = inline_serializer(
    "CustomerConsentChange",
    {
        "current": serializers.DictField(child=serializers.BooleanField()),
        "history": serializers.ListField(child=serializers.DictField()),
        "changed": serializers.BooleanField(
            help_text="False when the channel already had this answer: nothing was recorded, its lawful "
            "basis included."
        ),
    },
)


class CustomerConsentView(APIView):
    """A customer's marketing consent per channel (e-mail, SMS, push, post) with its history.

    POST grants or withdraws one channel; the change is recorded with its source (``api`` for staff,
    ``shop`` when the shopper changes their own) and lawful basis, and ``changed`` is false where the
    channel already had that answer (nothing is recorded then). Staff read with ``view_customers``
    and record a change with ``manage_consent``.
    """

    permission_classes = [CustomerOwnerOrStaff("view_customers", write="manage_consent")]
    # JSON only: in a form body a missing boolean would read as "false" and withdraw consent silently.
    parser_classes = [JSONParser]

    @extend_schema(responses={200: CONSENT_RESPONSE})
    def get(self, request: Request, external_id: str) -> Response:
        customer = customer_for_request(request=request, external_id=external_id)
        return Response(customer_consent_document(customer=customer))

    @extend_schema(request=ConsentInputSerializer, responses={200: CONSENT_CHANGE_RESPONSE})
    def post(self, request: Request, external_id: str) -> Response:
        customer = customer_for_request(request=request, external_id=external_id)
        given = ConsentInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        change = {
            "customer": customer,
            "channel": given.validated_data["channel"],
            "granted": given.validated_data["granted"],
            "lawful_basis": given.validated_data["lawful_basis"],
        }
        if customer.user_id is not None and customer.user_id == request.user.pk:
            event = consent_set(**change, source=ConsentEvent.Source.SHOP, recorded_by=request.user)
        else:
            event = consent_set_by_staff(**change, staff=request.user, via="api")
        customer.refresh_from_db()
        return Response({**customer_consent_document(customer=customer), "changed": event is not None})
