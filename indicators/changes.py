"""What the indicator services tell the change feed (accounts.changes): one builder per event type.

The services record these in their own transactions; the backfill (portal.changes) builds the same
events for rows stored before the feed existed, so a client reads one shape whichever wrote it.
"""

from django.urls import reverse

from accounts.changes import change_event

CHECKMARK = "checkmark.changed"
SUBMISSION = "submission.changed"
EXCEPTION = "signoff.exception"


def region_url(period, region, name="region-state-detail"):
    """The API path of ``region``'s state in ``period`` (``name`` "checkmarks": its sheet)."""
    return reverse(f"api:{name}", kwargs={"code": period.code, "region_code": region.code}) + period.program_query


def _month(value):
    return f"{value:%Y-%m}" if value else None  # as the API writes months


def checkmark_changed(*, checkmark, region, indicator, period, evidence, version, channel, user=None):
    """One check-mark as the API shows it; ``evidence`` is its number of files, ``version`` the region's."""
    return change_event(
        type=CHECKMARK,
        object_url=region_url(period, region, "checkmarks"),
        region=region,
        channel=channel,
        version=str(version),  # "0" too: a version, not "no version"
        user=user,
        data={
            "period": period.code,
            "program": period.program.code,
            "region": region.code,
            "indicator": indicator.number,
            "label": indicator.label,
            "status": checkmark.status,
            "done_month": _month(checkmark.done_month),
            "expected_month": _month(checkmark.expected_month),
            "note": checkmark.note,
            "evidence": evidence,
        },
    )


def submission_changed(*, submission, region, period, action, channel, user=None, exceptions=()):
    """A region's review state after ``action``; ``exceptions``: the counties its sign-off names
    (an empty list also says that a sign-off undone took its exceptions with it)."""
    return change_event(
        type=SUBMISSION,
        object_url=region_url(period, region),
        region=region,
        channel=channel,
        version=str(submission.version),
        user=user,
        data={
            "period": period.code,
            "program": period.program.code,
            "region": region.code,
            "state": submission.state,
            "action": str(action),
            "reason": submission.reason,
            "exceptions": [row.county.code for row in exceptions],
        },
    )


def exception_named(*, exception, signed, period, action, channel, user=None):
    """A county left out of ``signed``'s sign-off (a city's acceptance, a province's confirmation):
    the county's event, so it learns its data stays open."""
    county = exception.county
    return change_event(
        type=EXCEPTION,
        object_url=region_url(period, county),
        region=county,
        channel=channel,
        user=user,
        data={
            "period": period.code,
            "program": period.program.code,
            "region": county.code,
            "city": county.ancestor_codes()[-1],
            "signoff": signed.code,
            "action": str(action),
            "reason": exception.reason,
        },
    )
