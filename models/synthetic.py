"""Synthetic cases for tests (small) and the benchmark (100,000): obviously not real people.

Every person is "合成 太郎 000123" with the phone 0266-00-0000 and a narrative that says it is
test data; nothing here can be mistaken for a resident.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, text

from models.cases import Case, CaseEvent, Referral
from models.concerns import AGE_BANDS, CONCERNS, ConsentToShare, Urgency, domains_of
from models.db import transaction
from models.lifecycle import CaseState
from models.numbering import ReceiptCounter, fiscal_year, format_number
from models.org import Agency, Member

STATE_MIX = [
    (CaseState.received, 3),
    (CaseState.window, 30),
    (CaseState.coordination, 8),
    (CaseState.assessment, 5),
    (CaseState.saponet, 4),
    (CaseState.marugoto, 4),
    (CaseState.support, 16),
    (CaseState.evaluation, 3),
    (CaseState.closed, 25),
    (CaseState.suspended, 2),
]


def person(i: int) -> dict:
    return {
        "person_name": f"合成 太郎 {i:06d}",
        "person_kana": "ごうせい たろう",
        "contact": "0266-00-0000",
        "household": "合成データの世帯（試験用）",
        "narrative": f"これは試験用の合成データです（{i}）。",
    }


def generate_cases(
    engine: Engine, *, count: int, start: datetime, days: int = 730, seed: int = 8, batch=2000
) -> int:
    """Insert `count` cases over `days` from `start`, with memos and events; returns `count`."""
    rng = random.Random(seed)
    with transaction(engine) as session:
        agencies = list(session.exec(select(Agency)).scalars())
        members = list(session.exec(select(Member)).scalars())
    windows = [a for a in agencies if a.kind == "window"]
    coordinator = next(a for a in agencies if a.kind == "coordinator")
    states = [s for s, w in STATE_MIX for _ in range(w)]
    stamps = sorted(start + timedelta(seconds=rng.randrange(days * 86400)) for _ in range(count))
    sequences: dict[int, int] = {}
    with transaction(engine) as session:
        for row in session.exec(select(ReceiptCounter)).scalars():
            sequences[row.fiscal_year] = row.last
        next_id = (session.execute(text('SELECT COALESCE(MAX(id), 0) FROM "case"')).scalar()) + 1
    made = 0
    while made < count:
        cases, referrals, events = [], [], []
        for at in stamps[made : made + batch]:
            case_id = next_id + made + len(cases)
            concerns = rng.sample([c.key for c in CONCERNS], k=rng.choice((1, 1, 1, 2, 3)))
            domains = [d.value for d in domains_of(concerns)]
            target = coordinator if len(domains) != 1 else rng.choice(windows)
            referrer = rng.choice(members)
            fy = fiscal_year(at.date())
            sequences[fy] = sequences.get(fy, 0) + 1
            state = rng.choice(states)
            acked = (
                None if state == CaseState.received else at + timedelta(hours=rng.randint(1, 60))
            )
            cases.append(
                {
                    "id": case_id,
                    "number": format_number(fy, sequences[fy]),
                    "fiscal_year": fy,
                    "seq": sequences[fy],
                    "state": state.value,
                    "domains": domains,
                    "urgency": rng.choice(list(Urgency)).value,
                    "age_band": rng.choice(AGE_BANDS),
                    "routed_agency_id": target.id,
                    "route_reason": "single_domain" if target is not coordinator else "no_domain",
                    "lead_agency_id": None,
                    "referrer_id": referrer.id,
                    "referrer_agency_id": referrer.agency_id,
                    "created_at": at,
                    "acknowledged_at": acked,
                    "acknowledged_by_id": None if acked is None else referrer.id,
                    "version": 1,
                }
            )
            referrals.append(
                {
                    "case_id": case_id,
                    "source_view_id": None,
                    "concerns": concerns,
                    "consent_to_share": rng.choice(list(ConsentToShare)).value,
                    "destination": None,
                    "district": None,
                    "submitted_at": at,
                    **person(case_id),
                }
            )
            events.append(
                {"case_id": case_id, "at": at, "kind": "received", "to_state": "received"}
            )
            if acked is not None:
                events.append(
                    {
                        "case_id": case_id,
                        "at": acked,
                        "kind": "transition",
                        "from_state": "received",
                        "to_state": state.value,
                    }
                )
        with transaction(engine) as session:
            session.execute(insert(Case), cases)
            session.execute(insert(Referral), referrals)
            session.execute(insert(CaseEvent), [_event(e) for e in events])
        made += len(cases)
    with transaction(engine) as session:
        for fy, last in sequences.items():
            row = session.get(ReceiptCounter, fy) or ReceiptCounter(fiscal_year=fy)
            row.last = last
            session.add(row)
        if engine.dialect.name == "postgresql":
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), "
                    '(SELECT MAX(id) FROM "case"))'
                )
            )
    return count


def _event(e: dict) -> dict:
    return {"actor_id": None, "from_state": None, "reason": None, **e}
