"""The upload form of the data-import area: size, extension, content and what a packed file unpacks to
are checked before a job is queued."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from crm.services.uploads import OrderFileTooLarge, order_file_limits_check

# Extension -> the file format the import reads. Content is checked too (see ``sniff_import_format``).
IMPORT_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
# The column layouts of ``crm.services.importing.LAYOUTS`` as the form and an import's job page name them.
LAYOUT_CHOICES = [("auto", "Detect"), ("canonical", "Canonical order lines"), ("uci", "UCI Online Retail")]
SNIFF_BYTES = 8192


def sniff_import_format(uploaded: UploadedFile) -> str | None:
    """The format the file's first bytes show: 'parquet', 'xlsx', 'csv', or None when it is none of them."""
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The last character may have been cut by the sniff window; anything earlier is a real error.
        if exc.start < len(head) - 4:
            try:
                text = head.decode("latin-1")
            except UnicodeDecodeError:
                return None
        else:
            text = head[: exc.start].decode("utf-8")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if any(delimiter in first_line for delimiter in (",", ";", "\t")):
        return "csv"
    return None


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Order lines file",
        help_text="CSV, Excel (.xlsx) or Parquet, in the canonical or the UCI Online Retail layout.",
    )
    layout = forms.ChoiceField(
        label="Column layout",
        choices=LAYOUT_CHOICES,
        initial="auto",
    )
    skip_invalid = forms.BooleanField(
        label="Import the valid rows even if some rows are invalid",
        required=False,
        help_text="By default nothing of a file with bad rows is written.",
    )

    def __init__(self, *args, upload_rejected: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.upload_rejected = upload_rejected
        if upload_rejected is not None:
            # The file was refused while it streamed in (portal.imports.handlers), perhaps before the
            # other fields were read: the refusal, not "required", is what the form says.
            for field in self.fields.values():
                field.required = False

    def clean_file(self) -> UploadedFile:
        if self.upload_rejected is not None:
            raise forms.ValidationError(self.upload_rejected, code="too_large")
        uploaded = self.cleaned_data["file"]
        limit = settings.IMPORT_UPLOAD_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(uploaded.size)}; "
                f"the largest accepted is {filesizeformat(limit)}."
            )
        extension = Path(uploaded.name).suffix.lower()
        expected = IMPORT_FORMATS.get(extension)
        if expected is None:
            raise forms.ValidationError(
                f"Unsupported file type {extension or '(none)'!r}; upload a .csv, .xlsx or .parquet file."
            )
        found = sniff_import_format(uploaded)
        if found != expected:
            raise forms.ValidationError(
                f"The file is named {extension} but its content is "
                f"{'not a recognisable data file' if found is None else found}."
            )
        try:
            order_file_limits_check(source=uploaded.file, file_type=expected)
        except OrderFileTooLarge as too_large:
            raise forms.ValidationError(str(too_large)) from None
        uploaded.file_type = expected
        return uploaded
