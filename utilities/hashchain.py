"""Tamper-evident, append-only logs: every entry chained to the one before it by an SM3 hash.

GB/T 22239-2019 8.1.4.3 (安全审计) asks that audit records be protected from deletion, change or
overwriting. A model inherits ``ChainedEntry`` and names its chain, the fields the hash covers and
the model holding the chain heads; each entry then stores

- ``seq``: its place in the chain, 1, 2, 3… with no gap (unique, so two writers cannot share one);
- ``prev_hash``: the previous entry's ``hash`` (``GENESIS`` for the first);
- ``hash`` = SM3(prev_hash ‖ "\\n" ‖ canonical JSON of seq and the covered fields).

Changing, inserting or removing a row anywhere breaks the chain from there on, and ``verify``
names the first entry where it breaks; removing rows at the end is caught against the chain head.

Appending takes the chain's head row under a lock inside the writer's transaction, so concurrent
writers queue and never fork the chain, on SQLite (one writer at a time, the head touched first) and
PostgreSQL (the head row locked) alike. ``chain_append`` is the one way to write entries; the
query set refuses ``update``/``delete`` and the model refuses ``delete`` and re-saving.

This module imports no app: the head model is named by a string (``chain_head_model``).
"""

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

GENESIS = "0" * 64
APPEND_ONLY_MESSAGE = "审计记录只能追加，不能修改或删除（保留期内不设删除途径）。"


# --- SM3 -------------------------------------------------------------------------------------


def _sm3_openssl(data):
    return hashlib.new("sm3", data).hexdigest()


def _sm3_gmssl(data):
    from gmssl import func, sm3

    return sm3.sm3_hash(func.bytes_to_list(data))


def _pick_sm3():
    """OpenSSL's SM3 where the Python build offers it (≈400,000 hashes/s), else gmssl's pure-Python
    SM3 (≈1,000/s): the same function, checked here against the standard's test vector."""
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # SM3("abc"), GB/T 32905-2016
    try:
        if _sm3_openssl(b"abc") == expected:
            return _sm3_openssl
    except ValueError:
        pass
    if _sm3_gmssl(b"abc") != expected:  # pragma: no cover - a broken library must not write a chain
        raise RuntimeError("SM3 implementation failed its test vector")
    return _sm3_gmssl


sm3_hex = _pick_sm3()
SM3_NATIVE = sm3_hex is _sm3_openssl  # False means the slow pure-Python fallback is in use


# --- serialisation ---------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, datetime):
        # UTC with microseconds: the same text before and after a round trip through either database.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def canonical(entry, fields, seq):
    """The bytes the hash covers: seq and each field's stored value (a foreign key as its id)."""
    data = {"seq": seq}
    for name in fields:
        field = entry._meta.get_field(name)
        data[name] = _plain(getattr(entry, field.attname))
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(prev_hash, entry, fields, seq):
    return sm3_hex(prev_hash.encode() + b"\n" + canonical(entry, fields, seq))


# --- the models ------------------------------------------------------------------------------


class AppendOnlyViolation(PermissionDenied):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """No update, no delete: a changed or removed entry would be caught by verify, so refuse it here."""

    def update(self, **kwargs):
        raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)

    def delete(self):
        raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)

    def bulk_create(self, objs, **kwargs):
        # A plain bulk_create would leave seq empty: route it through the chain.
        if kwargs:
            raise TypeError("chained entries are written with chain_append(), without bulk_create options")
        return chain_append(list(objs))

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)


class ChainHeadBase(models.Model):
    """One row per chain: the last entry's seq and hash, locked by each writer."""

    name = models.CharField("链", max_length=32, primary_key=True)
    seq = models.PositiveBigIntegerField("最后序号", default=0)
    hash = models.CharField("最后哈希", max_length=64, default=GENESIS)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.name} #{self.seq}"


class ChainedEntry(models.Model):
    """An entry of a hash chain. Subclasses set ``chain_name``, ``chain_fields`` and ``chain_head_model``."""

    seq = models.PositiveBigIntegerField("序号", unique=True, editable=False)
    prev_hash = models.CharField("前一条哈希", max_length=64, editable=False)
    hash = models.CharField("哈希（SM3）", max_length=64, editable=False)

    chain_name = ""
    chain_fields = ()
    chain_head_model = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)
        chain_append([self])

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation(APPEND_ONLY_MESSAGE)


def chained_models():
    """Every chained model, by chain name (for verify_audit: found through the registry, not imports)."""
    return {model.chain_name: model for model in apps.get_models() if issubclass(model, ChainedEntry)}


# --- writing ---------------------------------------------------------------------------------


def lock_head(head_model, name):
    """The chain's head, locked until the caller's transaction ends.

    Touching the row first takes SQLite's write lock at once (a plain read would let two writers both
    read the head and one fail on upgrading its lock) and PostgreSQL's row lock; select_for_update
    then reads it (a no-op on SQLite, already held on PostgreSQL).
    """
    if not head_model.objects.filter(name=name).update(seq=F("seq")):  # a new chain: its head first
        head_model.objects.get_or_create(name=name)
        head_model.objects.filter(name=name).update(seq=F("seq"))
    return head_model.objects.select_for_update().get(name=name)


def link(entries, *, fields, head):
    """Give ``entries`` their seq, prev_hash and hash after ``head``, and move the head (not saved)."""
    for entry in entries:
        head.seq += 1
        entry.seq = head.seq
        entry.prev_hash = head.hash
        entry.hash = entry_hash(head.hash, entry, fields, head.seq)
        head.hash = entry.hash
    return entries


def chain_append(entries):
    """Append unsaved ``entries`` (one chained model) to their chain, in order, in the caller's
    transaction; returns them saved. The one way to write chained entries, one or thousands."""
    entries = list(entries)
    if not entries:
        return entries
    model = type(entries[0])
    if any(type(entry) is not model for entry in entries):
        raise TypeError("chain_append() takes entries of one model")
    head_model = apps.get_model(model.chain_head_model)
    now = timezone.now()
    for entry in entries:
        for field in model._meta.concrete_fields:
            # Time fields are stamped here, before hashing (an auto_now_add would be set after it).
            if isinstance(field, models.DateTimeField) and getattr(entry, field.attname) is None:
                setattr(entry, field.attname, now)
    # No savepoint of its own: a failure here fails the caller's whole write.
    with transaction.atomic(savepoint=False):
        head = lock_head(head_model, model.chain_name)
        link(entries, fields=model.chain_fields, head=head)
        models.QuerySet(model).bulk_create(entries)
        head.save(update_fields=["seq", "hash"])
    for entry in entries:
        entry._state.adding = False
    return entries


# --- verifying -------------------------------------------------------------------------------


class Break:
    """The first place a chain is broken: which entry and what differs."""

    def __init__(self, *, seq, pk=None, at=None, problem):
        self.seq, self.pk, self.at, self.problem = seq, pk, at, problem

    def __str__(self):
        when = f"，时间 {timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}" if self.at else ""
        where = f"第 {self.seq} 条" + (f"（id={self.pk}{when}）" if self.pk is not None else "")
        return f"{where}：{self.problem}"


def verify(model, *, fields=None, head_model=None, name=None, chunk_size=2000):
    """Recompute ``model``'s chain in one streaming pass; returns (count, first Break or None)."""
    fields = fields if fields is not None else model.chain_fields
    head_model = head_model or apps.get_model(model.chain_head_model)
    name = name or model.chain_name
    expected_seq, prev = 1, GENESIS
    count = 0
    time_field = "at" if any(f.name == "at" for f in model._meta.concrete_fields) else None
    for entry in models.QuerySet(model).order_by("seq").iterator(chunk_size=chunk_size):
        at = getattr(entry, time_field) if time_field else None
        if entry.seq != expected_seq:
            missing = f"第 {expected_seq} 条" if entry.seq == expected_seq + 1 else f"第 {expected_seq}–{entry.seq - 1} 条"
            return count, Break(seq=entry.seq, pk=entry.pk, at=at, problem=f"序号不连续：{missing}缺失（记录被删除）")
        if entry.prev_hash != prev:
            return count, Break(
                seq=entry.seq, pk=entry.pk, at=at, problem=f"前一条哈希不符：记录为 {entry.prev_hash}，应为 {prev}（前一条被改动或替换）"
            )
        recomputed = entry_hash(prev, entry, fields, entry.seq)
        if recomputed != entry.hash:
            return count, Break(
                seq=entry.seq,
                pk=entry.pk,
                at=at,
                problem=f"内容与哈希不符：记录的哈希 {entry.hash}，按现有内容重算为 {recomputed}（本条内容被改动）",
            )
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = head_model.objects.filter(name=name).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev:
        return count, Break(
            seq=count + 1 if head_seq > count else head_seq,
            problem=f"链尾不符：链头记录到第 {head_seq} 条，表中只连续到第 {count} 条（末尾记录被删除或链头被改动）",
        )
    return count, None
