"""Files uploaded for import, kept under ``MEDIA_ROOT/imports/`` until a worker has read them."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename


def upload_store(*, uploaded: UploadedFile) -> Path:
    """Write an upload to its own file (a random prefix keeps two uploads of one name apart)."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex[:12]}-{get_valid_filename(Path(uploaded.name).name)}"
    with path.open("wb") as target:
        for chunk in uploaded.chunks():
            target.write(chunk)
    return path
