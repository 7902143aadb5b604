"""What the OpenAPI schema says beyond each view's success answer, for every view, present and future.

``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds the error answers an operation can give,
in the shape DRF gives them (``{"detail": ...}``; a 400 names each bad parameter or field), from what
the view is: its permissions (401, 403, naming the role permission a staff endpoint needs), throttles
(429), parameters and body (400, 415), path parameters and pagination (404). A view documents an
error of its own (e.g. a 404 of ``/api/me/``, or ingest's 400 shape) with
``@extend_schema(responses=...)``; that one is kept.

``operation_links`` (a ``POSTPROCESSING_HOOKS`` entry) adds OpenAPI links from each list to the
operations on one of its rows, so that a client (or a stateful test) can follow them.
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Text never holds a NUL character (PostgreSQL cannot store one; DRF and Django forms refuse it), and
# DRF strips a text field's surrounding spaces before checking that it is not blank, so " " is blank.
NO_NUL = r"^[^\x00]*$"
SOME_TEXT_NO_NUL = r"^[^\x00]+$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
DECIMAL_HAS_A_DIGIT = r"^(?=-?\.?\d)"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, in words a person can read.")


VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Each parameter or body field that is wrong, with its messages (`non_field_errors` for the body "
        "as a whole); or a `detail` message when the request could not be read at all."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"limit": ["Ensure this value is less than or equal to 100."]},
}

ERROR_DESCRIPTIONS = {
    "400": "A parameter or body field is invalid; the answer names it.",
    "401": "No credentials, or a token that is unknown, expired or revoked, or a login that is inactive.",
    "403": "The login may not do this (e.g. staff only), or a session request lacks its CSRF token.",
    "404": "Not found (or not visible to this login).",
    "415": "The body's media type is not one the operation takes (JSON).",
    "429": "Too many requests (or failed logins); retry after the number of seconds in `Retry-After`.",
}


def _list_bounds(schema: dict, serializer: serializers.ListSerializer) -> None:
    if schema.get("type") != "array":
        return
    minimum = serializer.min_length or (0 if serializer.allow_empty else 1)
    if minimum:
        schema["minItems"] = minimum
    if serializer.max_length is not None:
        schema["maxItems"] = serializer.max_length


def _only(permissions: list, kinds: tuple[type, ...]) -> bool:
    return all(type(permission) in kinds for permission in permissions)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self._list_body_bounds(operation)
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] == "query" and schema.get("type") == "string" and len(schema) == 1:
                schema["pattern"] = NO_NUL
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._error_response(code)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 0},
                "description": "Seconds to wait before the next request.",
            }
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and type(field) is serializers.CharField
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            if field.allow_blank:
                # drf-spectacular then offers "" as its own alternative (oneOf), so this one must not.
                schema["pattern"] = SOME_TEXT_NO_NUL
            else:
                schema["pattern"] = NOT_BLANK if field.trim_whitespace else NO_NUL
        # drf-spectacular's decimal pattern has every part optional, so it would take "" or "-".
        if direction == "request" and isinstance(field, serializers.DecimalField):
            pattern = schema.get("pattern", "")
            if pattern.startswith("^") and not pattern.startswith(DECIMAL_HAS_A_DIGIT):
                schema["pattern"] = DECIMAL_HAS_A_DIGIT + pattern[1:]
        if direction == "request" and isinstance(field, serializers.ListSerializer):
            _list_bounds(schema, field)
        return schema

    def _list_body_bounds(self, operation: dict) -> None:
        """A list body's bounds (``many=True, allow_empty=False, max_length=N``), which drf-spectacular
        leaves out."""
        if "requestBody" not in operation:
            return
        body = self.get_request_serializer()
        if not isinstance(body, serializers.ListSerializer):
            return
        for content in operation["requestBody"]["content"].values():
            _list_bounds(content["schema"], body)

    def _error_codes(self, operation: dict) -> list[str]:
        view = self.view
        permissions = view.get_permissions()
        parameters = operation.get("parameters", [])
        codes = []
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
        if takes_input:
            codes.append("400")
        if view.get_authenticators() and not _only(permissions, (AllowAny,)):
            codes.append("401")
            if self.method in UNSAFE_METHODS or not _only(permissions, (AllowAny, IsAuthenticated)):
                codes.append("403")
        paginated = getattr(view, "pagination_class", None) is not None and self._is_list_view()
        if paginated or any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        if view.get_throttles():
            codes.append("429")
        return codes

    def _error_description(self, code: str) -> str:
        if code == "403":
            # A staff endpoint names the role permission it needs (crm.api.permissions).
            described = [
                permission.describe_forbidden(self.method)
                for permission in self.view.get_permissions()
                if hasattr(permission, "describe_forbidden")
            ]
            if described:
                return " ".join(described)
        return ERROR_DESCRIPTIONS[code]

    def _error_response(self, code: str) -> dict:
        if code == "400":
            component = ResolvedComponent(
                name="ValidationError",
                type=ResolvedComponent.SCHEMA,
                object="ValidationError",
                schema=VALIDATION_ERROR_SCHEMA,
            )
            self.registry.register_on_missing(component)
            schema = component.ref
        else:
            schema = self.resolve_serializer(ErrorSerializer, "response").ref
        return {
            "description": self._error_description(code),
            "content": {"application/json": {"schema": schema}},
        }


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _row_schema(operation: dict, components: dict) -> dict | None:
    """The schema of one row of a paginated list answer, or None if the operation is not a list."""
    content = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
    if not content:
        return None
    page = _resolve(content["schema"], components)
    results = page.get("properties", {}).get("results")
    if not results or results.get("type") != "array":
        return None
    return _resolve(results["items"], components)


def operation_links(result: dict, generator, request, public) -> dict:
    """From a list at ``/x/``, a link to each operation at ``/x/{name}/...`` (with no other path
    parameter) whose ``name`` is a field of the list's rows: the first row's value fills it in."""
    components = result.get("components", {}).get("schemas", {})
    paths = result.get("paths", {})
    for list_path, list_item in paths.items():
        listing = list_item.get("get")
        row = _row_schema(listing, components) if listing else None
        if row is None:
            continue
        for path, path_item in paths.items():
            if not path.startswith(list_path) or path == list_path:
                continue
            rest = path[len(list_path) :]
            name = rest.split("/", 1)[0].strip("{}")
            if rest.count("{") != 1 or not rest.startswith("{") or name not in row.get("properties", {}):
                continue
            for method, operation in path_item.items():
                if method not in {"get", "put", "patch", "delete", "post"}:
                    continue
                links = listing["responses"]["200"].setdefault("links", {})
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {name: f"$response.body#/results/0/{name}"},
                    "description": f"The first row's `{name}`.",
                }
    return result


def error_response(description: str) -> OpenApiResponse:
    """An error answer in the API's ``{"detail": ...}`` shape, for a view's own ``@extend_schema``."""
    return OpenApiResponse(ErrorSerializer, description=description)
