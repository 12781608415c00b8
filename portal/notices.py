"""Notices on every state change: the change feed's events (accounts.changes) tell the people who
must act next, in the portal and by mail.

One receiver of ``change_recorded``, inside the writer's transaction, so a notice commits or rolls
back with its change. Who hears an event is the region of the event and the role that acts there
(accounts.policy); nobody hears of their own action. Each notice's key is ``event:<seq>``, so an
event replayed adds nothing. A batch of events costs a fixed number of queries whatever its size:
its regions, its assignments, its recipients, the notices already sent, and one insert.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse

from accounts import policy
from accounts.changes import change_recorded
from accounts.models import Notification, NotificationLevel, Region, RegionLevel, User, person_name
from accounts.notifications import mail_after_commit, mail_enabled, mail_message
from indicators.models import Program
from indicators.periods import parse_period
from ledger.models import Assignment, AssignmentStatus


@dataclass(frozen=True)
class Audience:
    """Users of ``role`` whose region is ``region_id``, whose region's parent is ``parent_id``, whose
    region lies under ``path``, who belong to the company unit ``org_unit_id``, or who are the head
    office (no unit) of ``company_id``: one of these."""

    role: str
    region_id: int | None = None
    parent_id: int | None = None
    path: str = ""
    org_unit_id: int | None = None
    company_id: int | None = None

    def q(self):
        if self.org_unit_id is not None:
            return Q(role=self.role, org_unit_id=self.org_unit_id)
        if self.company_id is not None:
            return Q(role=self.role, company_id=self.company_id, org_unit__isnull=True)
        if self.region_id is not None:
            return Q(role=self.role, region_id=self.region_id)
        if self.parent_id is not None:
            return Q(role=self.role, region__parent_id=self.parent_id)
        return Q(role=self.role, region__path__startswith=self.path)

    def has(self, user):
        if user.role != self.role:
            return False
        if self.org_unit_id is not None:
            return user.org_unit_id == self.org_unit_id
        if self.company_id is not None:
            return user.company_id == self.company_id and user.org_unit_id is None
        if user.region_id is None:
            return False
        if self.region_id is not None:
            return user.region_id == self.region_id
        if self.parent_id is not None:
            return user.region.parent_id == self.parent_id
        return user.region.path.startswith(self.path)


@dataclass
class Notice:
    audiences: list
    title: str
    body: str
    link: object  # a path, or a function of the recipient giving one (the page of their own region)
    level: str = NotificationLevel.INFO

    def link_for(self, user):
        return self.link(user) if callable(self.link) else self.link


def _period_link(name, period, code, program):
    # Another program's pages carry ?program=<code> (Period.program_query); the national one's none.
    query = "" if program in ("", Program.NATIONAL) else f"?program={program}"
    return reverse(name, args=[period, code]) + query


def _own_page(period, program):
    """Each official's own page of the period: the province page, a city's review page, a county's sheet."""
    pages = {
        policy.level_role(RegionLevel.PROVINCE): "indicators:province",
        policy.REVIEWS_COUNTY_SHEET: "indicators:review",
        policy.FILLS_COUNTY_SHEET: "indicators:sheet",
    }
    return lambda user: _period_link(pages[user.role], period, user.region.code, program)


def _review_notice(event, region, actor):
    """Who acts after a step of the review flow (submission.changed), or a county named a sign-off
    exception (signoff.exception); None when nobody must."""
    data = event.data
    action, period, program = data.get("action"), data.get("period", ""), data.get("program", "")
    try:
        label = parse_period(period)
    except ValueError:
        return None
    label = f"{label.year}年{'上半年' if label.kind == 'half' else '全年'}"
    reason = (data.get("reason") or "").strip()
    county, city, province = RegionLevel.COUNTY, RegionLevel.CITY, RegionLevel.PROVINCE
    fillers, reviewers, officials = policy.FILLS_COUNTY_SHEET, policy.REVIEWS_COUNTY_SHEET, policy.level_role(province)
    sheet = _period_link("indicators:sheet", period, region.code, program)
    if event.type == "signoff.exception" and region.level == county:
        signoff = "接收地市" if action == "accept" else "确认本省数据"
        return Notice(
            [Audience(fillers, region_id=region.pk)],
            f"{region.name}{label}已列为签收例外",
            f"{actor}{signoff}时将{region.name}列为例外，原因：{reason or '未说明'}。本县数据未随之签收，仍可按审核流程填报、上报。",
            sheet,
        )
    if action == "submit" and region.level == county:
        return Notice(
            [Audience(reviewers, region_id=region.parent_id)],
            f"{region.name}{label}指标已上报，请审核",
            f"{region.parent.name}{region.name}{label}“获得电力”任务指标已由{actor}上报，请审核通过或退回。",
            sheet,
        )
    if action == "return" and region.level == county:
        return Notice(
            [Audience(fillers, region_id=region.pk)],
            f"{region.name}{label}指标被退回",
            f"{actor}退回了{region.name}{label}“获得电力”任务指标，原因：{reason or '未说明'}。请修改后重新上报。",
            sheet,
            NotificationLevel.YELLOW,
        )
    if action == "approve" and region.level == county:
        return Notice(
            [Audience(fillers, region_id=region.pk)],
            f"{region.name}{label}指标已通过市级审核",
            f"{region.name}{label}“获得电力”任务指标已由{actor}审核通过。",
            sheet,
        )
    if action == "accept" and region.level == city:
        return Notice(
            [Audience(reviewers, region_id=region.pk)],
            f"{region.name}{label}数据已由省级接收",
            f"{region.name}{label}各县“获得电力”任务指标已由{actor}接收。",
            _period_link("indicators:review", period, region.code, program),
        )
    if action == "confirm" and region.level == province:
        return Notice(
            [Audience(officials, region_id=region.pk), Audience(reviewers, parent_id=region.pk)],
            f"{region.name}{label}数据已省级确认",
            f"{region.name}{label}“获得电力”任务指标已由{actor}确认，本期数据已锁定；如需更正，请联系省级重新开放。",
            _own_page(period, program),
        )
    if action == "reopen" and region.level == province:
        return Notice(
            [Audience(officials, region_id=region.pk), Audience(reviewers, parent_id=region.pk), Audience(fillers, path=region.path)],
            f"{region.name}{label}数据已重新开放",
            f"{actor}重新开放了{region.name}{label}“获得电力”任务指标，原因：{reason or '未说明'}。需要更正的数据现在可以修改。",
            _own_page(period, program),
            NotificationLevel.YELLOW,
        )
    return None


def _assignees(assignment):
    """Who acts on an assignment: a company unit's users for a unit's part (never another company's);
    else the region's officials (or clerks) and its supply companies."""
    if assignment.org_unit_id:
        return [Audience(policy.COMPANY_ROLE, org_unit_id=assignment.org_unit_id)]
    region = assignment.region
    return [Audience(policy.level_role(region.level), region_id=region.pk), Audience(policy.COMPANY_ROLE, region_id=region.pk)]


def _unit_reviewers(unit):
    """Who reviews a unit's progress: the unit above it, or the company's head office."""
    if unit.parent_id:
        return [Audience(policy.COMPANY_ROLE, org_unit_id=unit.parent_id)]
    return [Audience(policy.COMPANY_ROLE, company_id=unit.company_id)]


def _assignment_notice(event, assignment, actor):
    if assignment is None:
        return None
    action, note = event.data.get("action"), (event.data.get("note") or "").strip()
    item, region = assignment.item, assignment.region
    what = f"{item.ledger.name} 第 {item.number} 项"
    link = reverse("ledger:assignment", args=[assignment.pk])
    if action == "assign":
        milestone = f"节点时间 {assignment.milestone:%Y-%m-%d}" if assignment.milestone else "持续推进"
        task = item.task if len(item.task) <= 60 else f"{item.task[:60]}…"
        body = f"{actor}将“{task}”分解至{region.name}（{assignment.responsible_unit}），{milestone}。请按时报送进展。"
        return Notice(_assignees(assignment), f"新任务：{what}", body, link)
    if action == "return":
        return Notice(
            _assignees(assignment), f"进展被退回：{what}", f"退回意见：{note or '未说明'}（{actor}）", link, NotificationLevel.YELLOW
        )
    if action == "press":
        return Notice(_assignees(assignment), f"督办：{what}", f"{note}（{actor}）", link, NotificationLevel.RED)
    if action == "progress":
        status = event.data.get("status") or assignment.status
        status = AssignmentStatus(status).label if status in AssignmentStatus.values else status
        if assignment.org_unit_id:
            reviewers = _unit_reviewers(assignment.org_unit)
        else:
            above = assignment.parent.region if assignment.parent_id else item.ledger.region
            if above is None or above.level not in (RegionLevel.PROVINCE, RegionLevel.CITY):
                return None
            reviewers = [Audience(policy.level_role(above.level), region_id=above.pk)]
        return Notice(
            reviewers,
            f"{region.name}报送了进展：{what}",
            f"{region.name}（{assignment.responsible_unit}）报送进展，当前状态“{status}”：{note}（{actor}）",
            link,
        )
    return None


def _notices(events):
    """(event, Notice) for each event someone must hear of: two queries at most (regions, assignments)."""
    reviews = [e for e in events if e.type in ("submission.changed", "signoff.exception") and e.region_id]
    assignment_events = [e for e in events if e.type == "assignment.changed" and str(e.data.get("id", "")).isdigit()]
    regions = Region.objects.select_related("parent").in_bulk({e.region_id for e in reviews}) if reviews else {}
    assignments = {}
    if assignment_events:
        assignments = Assignment.objects.select_related("item__ledger__region", "region", "parent__region", "org_unit").in_bulk(
            {int(e.data["id"]) for e in assignment_events}
        )
    result = []
    for event in reviews:
        notice = _review_notice(event, regions[event.region_id], person_name(event.user))
        if notice:
            result.append((event, notice))
    for event in assignment_events:
        notice = _assignment_notice(event, assignments.get(int(event.data["id"])), person_name(event.user))
        if notice:
            result.append((event, notice))
    return result


def notices_send(*, events):
    """Tell the people who must act of ``events`` (saved ChangeEvents), once per event and person.
    Returns the new notifications."""
    notices = _notices(events)
    if not notices:
        return []
    q = Q()
    for _event, notice in notices:
        for audience in notice.audiences:
            q |= audience.q()
    people = list(User.objects.people().filter(q).select_related("region"))
    keys = {f"event:{event.seq}" for event, _notice in notices}
    already = set(Notification.objects.filter(key__in=keys).values_list("user_id", "key"))
    new, mails = [], []
    for event, notice in notices:
        key = f"event:{event.seq}"
        for user in people:
            if user.pk == event.user_id or (user.pk, key) in already or not any(a.has(user) for a in notice.audiences):
                continue
            notification = Notification(
                user=user, level=notice.level, title=notice.title[:200], body=notice.body, link=notice.link_for(user), key=key
            )
            new.append(notification)
            if user.email and mail_enabled():
                mails.append(mail_message(notification, user.email))
    # The unique (user, key) constraint drops any a concurrent replay stored first.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    mail_after_commit(mails)
    return new


def on_change_recorded(sender, events, **kwargs):
    notices_send(events=events)


def connect():
    change_recorded.connect(on_change_recorded, dispatch_uid="portal.notices")
