"""Uploads kept between an import's preview and its confirmation — one store for every import page.

An import is upload → preview (nothing written) → confirm. Between the two steps the file is kept in
``default_storage`` (the media folder today, S3 or the like later) under
``imports/<kind>/<random>.<ext>``, and the confirm form carries only a token: the file's path and
original name, signed (``django.core.signing``) together with the user who uploaded it and the
purpose it was uploaded for — a dict such as ``{"kind": "attachment2", "province": "640000",
"period": "2022S1"}``. ``pending`` gives the kept file back only for the same user and the same
purpose, within ``MAX_AGE``; a forged, altered or expired token, another user's, or one for another
purpose gives None and the page says ``EXPIRED``. The token names a path the server chose, never one
from the request. Kept files are deleted once applied (``discard``) and, whatever happens, after
``MAX_AGE`` (``sweep``, run by every ``keep``).
"""

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

FOLDER = "imports"
MAX_AGE = 24 * 3600  # seconds: a preview not confirmed within a day is uploaded again
SALT = "utilities.uploads"
EXPIRED = "这次上传已失效（已导入、已超过一天或不是您上传的），请重新上传文件。"
# What signing.dumps makes (payload:timestamp:signature, URL-safe base64, "." first if compressed):
# a confirm form can refuse anything else before it is even unsigned.
TOKEN_PATTERN = r"^\.?[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$"
_KIND = re.compile(r"^[a-z0-9_-]{1,40}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class Kept:
    """A kept upload: where it is in the storage and the name it was uploaded under."""

    path: str
    name: str

    def read(self):
        with default_storage.open(self.path, "rb") as kept:
            return kept.read()

    def as_file(self):
        """The content as an in-memory file with its original name, as the readers take an upload."""
        return ContentFile(self.read(), name=self.name)


def _normal(purpose):
    """The purpose as it comes back out of a token (JSON), so the two compare equal."""
    purpose = json.loads(json.dumps(purpose))
    if not isinstance(purpose, dict) or not _KIND.match(str(purpose.get("kind", ""))):
        raise ValueError("purpose must be a dict with a short lower-case “kind”")
    return purpose


def keep(upload, *, user, purpose):
    """Store ``upload`` for ``user`` and ``purpose``; returns the token the confirm form carries."""
    purpose = _normal(purpose)
    sweep()
    suffix = PurePosixPath(upload.name or "").suffix.lower()
    name = f"{FOLDER}/{purpose['kind']}/{uuid.uuid4().hex}{suffix if _SUFFIX.match(suffix) else ''}"
    upload.seek(0)
    path = default_storage.save(name, upload)
    return signing.dumps({"path": path, "name": upload.name, "user": user.pk, "purpose": purpose}, salt=SALT)


def pending(token, *, user, purpose, max_age=MAX_AGE):
    """The Kept upload of ``token`` if ``user`` uploaded it for ``purpose`` less than ``max_age``
    seconds ago and it is still there; None otherwise (forged, altered, expired, someone else's,
    for another purpose, already applied)."""
    try:
        meta = signing.loads(token or "", salt=SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(meta, dict) or meta.get("user") != user.pk or meta.get("purpose") != _normal(purpose):
        return None
    path = str(meta.get("path", ""))
    if not path.startswith(f"{FOLDER}/") or not default_storage.exists(path):
        return None
    return Kept(path=path, name=str(meta.get("name", "")))


def discard(kept):
    """Delete a kept upload (applied, or no longer wanted)."""
    if kept is not None:
        default_storage.delete(kept.path)


def sweep(max_age=MAX_AGE):
    """Delete kept uploads older than ``max_age`` seconds: previews that were never confirmed."""
    cutoff = timezone.now() - timedelta(seconds=max_age)
    try:
        folders, files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    paths = [f"{FOLDER}/{name}" for name in files]  # left by the older per-page stores
    for folder in folders:
        try:
            paths += [f"{FOLDER}/{folder}/{name}" for name in default_storage.listdir(f"{FOLDER}/{folder}")[1]]
        except FileNotFoundError:
            continue
    swept = 0
    for path in paths:
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                swept += 1
        except FileNotFoundError:  # another request swept it first
            continue
    return swept
