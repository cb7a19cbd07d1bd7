"""The monthly post decided outside the writing transaction: the draft is used while the ledger
is unchanged, and decided again when another publication came in between."""

from __future__ import annotations

from models.base.db import transaction
from models.linknet import figures, ledger
from models.linknet.periods import Month
from models.linknet.posting import post, prepare_post
from tests.conftest import START
from tests.linknet.test_linknet_figures import OCTOBER, jst, memo, one_day


def october_memos(org, n=14):
    with transaction(org) as session:
        for day in range(1, n + 1):
            memo(session, jst(2026, 10, day, 11))


def test_a_draft_made_beforehand_is_published_as_it_was(org, monkeypatch):
    october_memos(org)
    with transaction(org, write=False) as session:
        draft = prepare_post(session, month=OCTOBER, now=START)
    monkeypatch.setattr(figures, "make_draft", None)  # not decided again
    with transaction(org) as session:
        result = post(session, month=OCTOBER, now=START, deadline=one_day, draft=draft)
        shown = {
            s.cell: s for s in ledger.shown_cells(session, publication_id=result.publication_id)
        }
    assert result.created and shown == draft.cells


def test_a_draft_older_than_the_ledger_is_decided_again(org, monkeypatch):
    october_memos(org)
    with transaction(org, write=False) as session:
        stale = prepare_post(session, month=OCTOBER, now=START)
    with transaction(org) as session:  # meanwhile another publication (September) came in
        post(session, month=Month(2026, 9), now=START, deadline=one_day)
    decided = []
    real = figures.make_draft
    monkeypatch.setattr(figures, "make_draft", lambda *a, **kw: decided.append(1) or real(*a, **kw))
    with transaction(org) as session:
        result = post(session, month=OCTOBER, now=START, deadline=one_day, draft=stale)
    assert result.created and decided == [1]
    with transaction(org, write=False) as session:
        assert ledger.head(session) == result.publication_id
