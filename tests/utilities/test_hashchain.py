"""The tamper-evident audit log (utilities.hashchain) on indicators.AuditEntry: chain, verify, append-only."""

import threading
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from accounts.audit import security_event_record
from accounts.models import ChainHead, SecurityEvent
from indicators import services
from indicators.models import AuditEntry, Indicator
from indicators.services import CheckmarkValue
from utilities import hashchain
from utilities.hashchain import GENESIS, AppendOnlyViolation, entry_hash, verify

pytestmark = pytest.mark.django_db

DONE = CheckmarkValue("done", date(2022, 3, 1))
LATER = CheckmarkValue("not_done", expected_month=date(2022, 12, 1))


@pytest.fixture
def filled(make_user, region, period):
    """A county's 31 indicators ticked, then moved: the chain holds the carry entries and 62 sets."""
    clerk = make_user("k", "county", "510104")
    numbers = Indicator.objects.filter(indicator_set=period.indicator_set, level="county").values_list("number", flat=True)
    for value in (DONE, LATER):
        services.checkmarks_set(
            user=clerk, region=region("510104"), period=period, values=dict.fromkeys(numbers, value), today=date(2022, 7, 5)
        )
    return clerk


def tamper(sql, params):
    """Change the table behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the append-only trigger refuses it otherwise
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
            cursor.execute("ALTER TABLE indicators_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE indicators_auditentry ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def run_verify(*args):
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_sm3_is_the_standard_function_whichever_implementation_runs():
    # GB/T 32905-2016 appendix A, example 1; gmssl (pure Python) and OpenSSL must agree with it.
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hashchain._sm3_gmssl(b"abc") == expected
    assert hashchain.sm3_hex(b"abc") == expected
    long = b"abcd" * 16  # example 2
    assert hashchain._sm3_gmssl(long) == hashchain.sm3_hex(long) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_every_entry_is_chained_to_the_previous_one_without_gaps(filled):
    entries = list(AuditEntry.objects.order_by("seq"))
    sets = [e for e in entries if e.action == "set"]
    assert len(sets) == 62
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    prev = GENESIS
    for entry in entries:
        assert entry.prev_hash == prev
        assert entry.hash == entry_hash(prev, entry, AuditEntry.chain_fields, entry.seq)
        prev = entry.hash
    head = ChainHead.objects.get(name="audit")
    assert (head.seq, head.hash) == (len(entries), prev)
    assert verify(AuditEntry) == (len(entries), None)


def test_verify_audit_reports_an_intact_chain_with_its_count(filled):
    output = run_verify("--chain", "audit")
    assert "完整" in output and f"共 {AuditEntry.objects.count()} 条" in output


def test_an_after_changed_by_raw_sql_is_named_as_the_first_broken_entry(filled):
    victim = AuditEntry.objects.get(seq=10)
    tamper("UPDATE indicators_auditentry SET after = %s WHERE id = %s", ["√ 2020年1月", victim.pk])
    tamper("UPDATE indicators_auditentry SET reason = %s WHERE seq = %s", ["later change", 20])
    with pytest.raises(CommandError) as raised:
        run_verify("--chain", "audit")
    assert raised.value.returncode == 1
    count, problem = verify(AuditEntry)
    assert count == 9  # everything before it still verifies
    assert (problem.seq, problem.pk) == (10, victim.pk) and "内容与哈希不符" in str(problem)
    assert f"id={victim.pk}" in str(problem) and "第 10 条" in str(problem)


def test_a_deleted_row_is_found_as_a_gap(filled):
    tamper("DELETE FROM indicators_auditentry WHERE seq = %s", [7])
    count, problem = verify(AuditEntry)
    assert count == 6 and problem.seq == 8 and "第 7 条缺失" in str(problem)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", "--chain", "audit", stdout=out)
    assert "第 7 条缺失" in out.getvalue()


def test_rows_deleted_at_the_end_are_found_against_the_chain_head(filled):
    last = AuditEntry.objects.order_by("-seq").first()
    tamper("DELETE FROM indicators_auditentry WHERE seq = %s", [last.seq])
    count, problem = verify(AuditEntry)
    assert count == last.seq - 1 and "链尾不符" in str(problem)


def test_the_application_has_no_way_to_change_or_delete_an_entry(filled):
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises(AppendOnlyViolation):
        entry.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.filter(pk=entry.pk).update(after="x")
    entry.after = "x"
    with pytest.raises(AppendOnlyViolation):
        entry.save()
    assert verify(AuditEntry)[1] is None


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_update_and_delete_even_in_raw_sql(filled):
    from django.db.utils import InternalError

    with pytest.raises(InternalError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE indicators_auditentry SET after = 'x'")


def test_two_writers_from_two_threads_share_one_unbroken_chain(transactional_db, reference_data):
    """Each thread appends inside its own transaction while holding the chain head; the second
    continues where the first ended (SQLite: one after the other; PostgreSQL: the lock makes it so)."""
    first_done = threading.Event()
    errors = []

    def writer(name, wait_for=None):
        try:
            if wait_for:
                wait_for.wait(10)
            with transaction.atomic():
                for n in range(5):
                    security_event_record(kind="login_failed", username=f"{name}-{n}")
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            first_done.set()
            connections.close_all()

    threads = [threading.Thread(target=writer, args=("a",)), threading.Thread(target=writer, args=("b", first_done))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    events = list(SecurityEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, 11))
    assert [e.username[0] for e in events] == ["a"] * 5 + ["b"] * 5
    assert verify(SecurityEvent) == (10, None)


def test_a_rolled_back_write_leaves_no_hole_in_the_chain(filled):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        security_event_record(kind="login_failed", username="x")
        AuditEntry.objects.bulk_create([AuditEntry(**_copy(AuditEntry.objects.first()))])
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    assert verify(AuditEntry)[1] is None and verify(SecurityEvent)[1] is None
    AuditEntry.objects.bulk_create([AuditEntry(**_copy(AuditEntry.objects.first()))])  # bulk_create chains too
    assert verify(AuditEntry) == (before + 1, None)


def _copy(entry):
    return {f: getattr(entry, f) for f in ("user", "channel", "action", "region", "period", "indicator", "before", "after", "reason")}
