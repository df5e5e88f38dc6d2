"""What an attachment may be: its size (MAX_UPLOAD_SIZE) and its type (ALLOWED_UPLOAD_EXTENSIONS).

The type is judged by the file name's extension, and for the formats that announce themselves
in their first bytes, by those bytes as well: a program renamed to `offer.pdf` is refused. Files
are only ever offered back as downloads (`Content-Disposition: attachment`, `nosniff`), never
shown inline, so this is about what gets mailed to contacts, not about the browser.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the old Office formats
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "rtf": (b"{\\rtf",),
    "doc": OLE,
    "xls": OLE,
    "ppt": OLE,
    "docx": ZIP,
    "xlsx": ZIP,
    "pptx": ZIP,
    "odt": ZIP,
    "ods": ZIP,
    "odp": ZIP,
    "zip": ZIP,
}
# Text formats carry no signature: a NUL byte in their first bytes means they are not text.
TEXT = {"txt", "csv"}
# Executables (Windows, Linux, macOS) are refused whatever their name says.
PROGRAMS = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
HEAD_SIZE = 2048


def extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _head(upload: File) -> bytes:
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(HEAD_SIZE)
    upload.seek(position)
    return head if isinstance(head, bytes) else head.encode()


def validate_attachment(upload: File) -> None:
    """Raise a ValidationError (shown next to the field) for a file the app does not take."""
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_SIZE:
        raise ValidationError(
            _("The file is %(size)s; attachments can be at most %(limit)s.")
            % {
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.MAX_UPLOAD_SIZE),
            },
            code="too_big",
        )
    allowed = [ext.lower().lstrip(".") for ext in settings.ALLOWED_UPLOAD_EXTENSIONS]
    kind = extension(upload.name or "")
    if kind not in allowed:
        raise ValidationError(
            _("Files of this type cannot be attached. Allowed: %(allowed)s.")
            % {"allowed": ", ".join(allowed)},
            code="type",
        )
    head = _head(upload)
    signatures = SIGNATURES.get(kind)
    looks_wrong = (
        (kind not in TEXT and head.startswith(PROGRAMS))
        or (signatures is not None and not head.startswith(signatures))
        or (kind in TEXT and b"\0" in head)
    )
    if looks_wrong:
        raise ValidationError(
            _("The file's content is not a .%(kind)s file.") % {"kind": kind}, code="content"
        )
