"""The case state machine (DESIGN.md → Case lifecycle). Every transition is recorded.

```
received ─► window ─► closed                      (a window takes a one-domain memo)
   │          │ escalate                           (too complex: the coordinator takes over)
   └──────────┴──► coordination ─► assessment ─► saponet (no consent) ─┐
                                        │             │ consent        │ outreach
                                        └──► marugoto ◄┘               │
                                               │ plan                  │
                                               ▼                       │
                                            support (monitoring) ◄─────┘
                                               │ review date
                                               ▼
                                            evaluation ─► marugoto (re-plan) | support | closed
```

Beyond the picture:
- reroute: a window (or the coordinator) hands the memo to another window; the case waits
  there again as `received` until that window takes it (window/coordination → received).
- suspend from any open state after intake; resume goes back to `window` if the window had
  suspended it, else to `coordination` (the coordinator re-decides the next step).
- consent withdrawn while in marugoto / support / evaluation: back to `saponet`, the meeting
  that may discuss a case without consent (models/cases/consent.py).
- closed is final.
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    received = "received"  # a memo waiting for someone to take it
    window = "window"  # a window took it (one domain)
    coordination = "coordination"  # the coordinator has it
    assessment = "assessment"
    saponet = "saponet"  # discussed without consent (支援会議)
    marugoto = "marugoto"  # with consent (重層的支援会議)
    support = "support"  # plan running, monitoring
    evaluation = "evaluation"
    closed = "closed"
    suspended = "suspended"


S = CaseState
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.received: frozenset({S.window, S.coordination}),
    S.window: frozenset({S.received, S.coordination, S.closed, S.suspended}),
    S.coordination: frozenset({S.received, S.assessment, S.closed, S.suspended}),
    S.assessment: frozenset({S.saponet, S.marugoto, S.closed, S.suspended}),
    S.saponet: frozenset({S.marugoto, S.support, S.closed, S.suspended}),
    S.marugoto: frozenset({S.support, S.saponet, S.closed, S.suspended}),
    S.support: frozenset({S.evaluation, S.saponet, S.closed, S.suspended}),
    S.evaluation: frozenset({S.marugoto, S.support, S.saponet, S.closed, S.suspended}),
    S.closed: frozenset(),
    S.suspended: frozenset({S.coordination, S.window}),
}
OPEN_STATES = frozenset(s for s in CaseState if s not in (S.closed, S.suspended))
# States that need the person's current consent (models/cases/consent.py enforces and reverts).
CONSENT_STATES = frozenset({S.marugoto, S.support, S.evaluation})
# The stages the coordinator moves a case between (meetings will drive these later).
STAGES = (S.saponet, S.marugoto, S.support, S.evaluation)
# The order cases are listed in (desk, /tsunagi mine).
STATE_ORDER = (
    S.received,
    S.window,
    S.coordination,
    S.assessment,
    S.saponet,
    S.marugoto,
    S.support,
    S.evaluation,
    S.suspended,
    S.closed,
)


def can_move(current: CaseState, target: CaseState) -> bool:
    return target in TRANSITIONS[current]


class Step(StrEnum):
    """What someone can do to a case from its message, its detail modal or the desk."""

    acknowledge = "acknowledge"  # 受付
    reroute = "reroute"  # 別の窓口へつなぎ直す
    escalate = "escalate"  # 重層推進室へつなぐ
    start_assessment = "start_assessment"  # アセスメントを始める
    advance = "advance"  # 会議・支援の段階を移す
    set_lead = "set_lead"  # 主担当を決める・変える
    suspend = "suspend"  # 中断
    resume = "resume"  # 再開
    close = "close"  # 終結
    consent = "consent"  # 本人同意を記録
    assessment = "assessment"  # 世帯全体のアセスメント（見る・記録）


AFTER_INTAKE = frozenset(s for s in CaseState if s not in (S.received, S.closed))
STEP_FROM: dict[Step, frozenset[CaseState]] = {
    Step.acknowledge: frozenset({S.received}),
    Step.reroute: frozenset({S.received, S.window, S.coordination}),
    Step.escalate: frozenset({S.window}),
    Step.start_assessment: frozenset({S.coordination}),
    Step.advance: frozenset({S.assessment, S.saponet, S.marugoto, S.support, S.evaluation}),
    Step.set_lead: OPEN_STATES - {S.received, S.window},
    Step.suspend: OPEN_STATES - {S.received},
    Step.resume: frozenset({S.suspended}),
    Step.close: OPEN_STATES - {S.received},
    Step.consent: AFTER_INTAKE,
    Step.assessment: frozenset(s for s in CaseState if s is not S.received),
}


def steps_from(state: CaseState | str) -> list[Step]:
    """The steps that make sense in `state`, in menu order (rights are checked separately)."""
    state = CaseState(state)
    return [step for step in Step if state in STEP_FROM[step]]


def stages_from(state: CaseState | str) -> list[CaseState]:
    """Where the coordinator may move a case from `state` with Step.advance."""
    state = CaseState(state)
    if state not in STEP_FROM[Step.advance]:
        return []
    return [s for s in STAGES if can_move(state, s)]


def resume_target(suspended_from: str | None) -> CaseState:
    """A case suspended at a window goes back to it; any other to the coordinator."""
    return S.window if suspended_from == S.window else S.coordination


class ReferrerStatus(StrEnum):
    """The only thing a referring partner learns about its memo: one of these words."""

    waiting = "waiting"  # 受付待ち
    acknowledged = "acknowledged"  # 受付済み
    in_progress = "in_progress"  # 対応中
    in_meeting = "in_meeting"  # 会議で検討中
    supporting = "supporting"  # 支援中
    closed = "closed"  # 終結


# One place maps states to what referrers see. A suspension is not disclosed (対応中).
REFERRER_STATUS: dict[CaseState, ReferrerStatus] = {
    S.received: ReferrerStatus.waiting,
    S.window: ReferrerStatus.acknowledged,
    S.coordination: ReferrerStatus.acknowledged,
    S.assessment: ReferrerStatus.in_progress,
    S.suspended: ReferrerStatus.in_progress,
    S.saponet: ReferrerStatus.in_meeting,
    S.marugoto: ReferrerStatus.in_meeting,
    S.support: ReferrerStatus.supporting,
    S.evaluation: ReferrerStatus.supporting,
    S.closed: ReferrerStatus.closed,
}


def referrer_status(state: CaseState | str) -> ReferrerStatus:
    return REFERRER_STATUS[CaseState(state)]


class CloseReason(StrEnum):
    """Why a case closed: a coarse code (no personal text), with an optional encrypted note."""

    resolved = "resolved"  # 課題が解決した・目標を達成した
    connected = "connected"  # ほかの支援・制度につながった
    moved_out = "moved_out"  # 町外へ転出した
    declined = "declined"  # ご本人が支援を望まない
    unreachable = "unreachable"  # 連絡がとれない
    deceased = "deceased"  # 亡くなられた
    duplicate = "duplicate"  # 重複・誤って送られたメモ
    other = "other"  # その他（メモに記入）
