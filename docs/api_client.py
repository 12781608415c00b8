#!/usr/bin/env python3
"""An example client of the 获得电力台账 REST API, for a 政务平台 to copy. Standard library only.

    export DIANLI_URL=https://dianli.example.gov.cn   # the portal
    export DIANLI_TOKEN=...                           # the secret shown once when the token was made
    python3 api_client.py state 2022S1 510104         # a county's state and check-marks
    python3 api_client.py tick 2022S1 510104 3 2022-03  # mark indicator 3 done in March 2022
    python3 api_client.py report 2022S1 510000 out/   # compile a province's tables, save the .xlsx

    python3 api_client.py changes cursor.txt         # print new changes, keep the cursor in cursor.txt

Every error arrives as {"code", "message", "errors"}; this client raises ApiError with them.
A 412 (someone changed the data since it was read) is handled by reading again and retrying.
Every write carries an Idempotency-Key: after a timeout, a dropped connection or a proxy's
502/503/504 it is sent again with the same key, so it is applied at most once (docs/api.md §3).
``follow_changes`` reads the change feed from a saved cursor; ``verify_webhook`` checks a webhook's
X-Portal-Signature before its body is trusted (docs/api.md “回调（webhooks）”).
"""

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

BASE_URL = os.environ.get("DIANLI_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("DIANLI_TOKEN", "")


class ApiError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.code = body.get("code", "")
        self.errors = body.get("errors", {})
        super().__init__(f"{status} {self.code}: {body.get('message', '')} {self.errors or ''}".strip())


WRITES = ("POST", "PUT", "PATCH")
RETRY_STATUSES = (502, 503, 504)  # the proxy answering for a web replica that is gone


def request(method, path, body=None, headers=None, raw=False, attempts=4):
    """One call; returns (parsed JSON or bytes, response headers).

    Waits and retries on 429. A write gets an Idempotency-Key (one per call, kept across its
    retries) and is retried after a timeout, a dropped connection or a 502/503/504: the server
    applies it once and answers a retry with the first response (Idempotent-Replayed: true).
    """
    url = path if path.startswith("http") else f"{BASE_URL}/api/v1/{path.lstrip('/')}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    sent = {"Authorization": f"Token {TOKEN}", "Accept": "application/json", **(headers or {})}
    if data is not None:
        sent["Content-Type"] = "application/json"
    if method in WRITES:
        sent.setdefault("Idempotency-Key", str(uuid.uuid4()))
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=sent, method=method), timeout=60) as response:
                content = response.read()
                return (content if raw else json.loads(content or b"null")), response.headers
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}") if error.headers.get("Content-Type", "").startswith("application/json") else {}
            if error.code == 429 and not last:
                time.sleep(int(error.headers.get("Retry-After", "5")))
                continue
            if error.code in RETRY_STATUSES and not last:
                time.sleep(2**attempt)
                continue
            raise ApiError(error.code, payload) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            if last:
                raise
            time.sleep(2**attempt)  # the same Idempotency-Key: at most once, however many tries
    raise AssertionError("unreachable")


def county_state(period, region):
    """The county's review state, data version and every indicator as stored."""
    state, _ = request("GET", f"periods/{period}/regions/{region}/")
    sheet, headers = request("GET", f"periods/{period}/regions/{region}/checkmarks/")
    return state, sheet, headers["ETag"]


def write_checkmarks(period, region, checkmarks, attempts=3):
    """Bulk write with If-Match; on 412 read the latest version and try again.

    ``checkmarks`` is a list like [{"number": 3, "status": "done", "done_month": "2022-03"}].
    The write is all or nothing: a 400 lists the problems per indicator and stores nothing.
    """
    path = f"periods/{period}/regions/{region}/checkmarks/"
    for _attempt in range(attempts):
        _sheet, headers = request("GET", path)
        try:
            sheet, headers = request("PUT", path, {"checkmarks": checkmarks}, headers={"If-Match": headers["ETag"]})
            return sheet
        except ApiError as error:
            if error.status != 412:
                raise
            # Someone else wrote in between: their data is kept, ours is re-applied on the latest version.
            # A platform that must not overwrite their values should compare them here first.
    raise ApiError(412, {"code": "precondition_failed", "message": "多次重试后数据仍在变化，请稍后再试。"})


def compile_and_download(period, province, folder, poll_every=2, give_up_after=600):
    """Start a compile job, follow its progress, then save each table as .xlsx (and JSON)."""
    job, headers = request("POST", f"periods/{period}/regions/{province}/report-jobs/")
    location = headers["Location"]
    waited = 0
    while job["state"] not in ("done", "failed"):
        if waited >= give_up_after:
            raise TimeoutError(f"编制任务 {job['id']} 在 {give_up_after} 秒内未完成。")
        time.sleep(poll_every)
        waited += poll_every
        job, _ = request("GET", location)
        print(f"  {job['progress']:3d}% {job['message']}", file=sys.stderr)
    if job["state"] == "failed":
        raise RuntimeError(job["message"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for snapshot in job["snapshots"]:
        content, _ = request("GET", snapshot["xlsx_url"], headers={"Accept": "*/*"}, raw=True)
        target = folder / f"{snapshot['kind']}-{province}-{period}.xlsx"
        target.write_bytes(content)
        table, _ = request("GET", snapshot["url"])
        target.with_suffix(".json").write_text(json.dumps(table["data"], ensure_ascii=False, indent=1), encoding="utf-8")
        saved.append(target)
    return saved


def follow_changes(cursor=None, limit=100):
    """Every change after ``cursor`` (None: from the first), in order, as ``(event, cursor)``.

    Save the cursor that comes with each event once the event is applied, and start there next
    time. It is the position after the event's page for a page's last event and the page's start
    for the others, so after a crash part of a page may come again: apply events by ``id``, once.
    Stops when the feed has nothing more; call again later with the saved cursor to poll.
    """
    while True:
        query = f"?limit={limit}" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        page, _ = request("GET", f"changes/{query}")
        events = page["results"]
        for index, event in enumerate(events):
            yield event, page["next"] if index == len(events) - 1 else cursor
        cursor = page["next"]
        if not page["has_more"]:
            return


class WebhookSignatureError(ValueError):
    """A webhook request that must be refused (answer it 400): not signed by the portal, or too old."""


def verify_webhook(body, header, secret, tolerance=300, now=None):
    """Check a webhook request and return its event (the parsed body).

    ``body`` the request body as received (bytes, before any parsing), ``header`` its
    X-Portal-Signature ("t=<unix time>,v1=<hex>"), ``secret`` the endpoint's signing secret.
    Refuses a signature that does not match (a changed body, another secret) and one whose time is
    more than ``tolerance`` seconds from now (a replayed request). Deduplicate by the event's ``id``
    (also in X-Portal-Delivery): a delivery that was retried or replayed arrives again.
    """
    fields = {}
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise WebhookSignatureError("X-Portal-Signature 缺少时间戳 t。") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookSignatureError(f"签名时间与当前相差超过 {tolerance} 秒：可能是重放的请求。")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise WebhookSignatureError("签名不符：请求体被改动，或密钥不对。")
    return json.loads(body)


def main(argv):
    if argv[0] == "changes":
        saved = Path(argv[1] if len(argv) > 1 else "cursor.txt")
        start = saved.read_text().strip() if saved.exists() else None
        for event, cursor in follow_changes(start or None):
            print(f"#{event['id']} {event['at']} {event['type']} {event['object']} {event['region'] or '全国'}")
            saved.write_text(cursor or "")
        return
    command, period, region, *rest = argv
    if command == "state":
        state, sheet, etag = county_state(period, region)
        print(f"{state['region']['name']} {state['period']}: {state['state_label']}（版本 {etag}），未填 {len(state['missing'])} 项")
        for mark in sheet["checkmarks"]:
            print(f"  {mark['label']:>4} {mark['display'] or '（未填）'}{'  已逾期' if mark['overdue'] else ''}")
    elif command == "tick":
        number, month = rest
        sheet = write_checkmarks(period, region, [{"number": int(number), "status": "done", "done_month": month}])
        print(f"已写入，改动 {sheet['changed']} 项，新版本 {sheet['version']}")
    elif command == "report":
        for path in compile_and_download(period, region, rest[0] if rest else "."):
            print(path)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) < 4 and sys.argv[1:2] != ["changes"]:
        raise SystemExit(__doc__)
    try:
        main(sys.argv[1:])
    except ApiError as error:
        raise SystemExit(f"接口错误：{error}") from None
