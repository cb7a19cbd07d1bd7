"""Business calendar over real 2026/2027 dates (holidays checked against the holidays library)."""

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

from reminders.calendar import TOKYO, BusinessCalendar, calendar_from_org

CAL = BusinessCalendar()
D = date.fromisoformat


def jst(s: str) -> datetime:
    """'2026-05-01 10:00' in Asia/Tokyo."""
    return datetime.fromisoformat(s).replace(tzinfo=TOKYO)


# Dates we rely on below, pinned to the library so a test never rests on a guessed holiday.
@pytest.mark.parametrize(
    "day",
    [
        "2026-04-29",  # 昭和の日 (Wed)
        "2026-05-03",  # 憲法記念日 (Sun)
        "2026-05-04",  # みどりの日
        "2026-05-05",  # こどもの日
        "2026-05-06",  # 振替休日 for 5/3
        "2026-07-20",  # 海の日 (Mon)
        "2026-08-11",  # 山の日 (Tue, the 2nd Tuesday of August)
        "2026-09-21",  # 敬老の日 (Mon)
        "2026-09-22",  # 国民の休日 (between two holidays)
        "2026-09-23",  # 秋分の日
        "2027-01-01",  # 元日
    ],
)
def test_pinned_dates_are_national_holidays(day):
    assert D(day) in holidays.country_holidays("JP", years=D(day).year)


@pytest.mark.parametrize(
    "day", ["2026-04-30", "2026-05-01", "2026-05-07", "2026-12-28", "2027-01-04"]
)
def test_pinned_dates_are_not_national_holidays(day):
    assert D(day) not in holidays.country_holidays("JP", years=D(day).year)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        # Golden Week 2026
        ("2026-04-28", True),
        ("2026-04-29", False),
        ("2026-04-30", True),
        ("2026-05-01", True),
        ("2026-05-02", False),  # Sat
        ("2026-05-03", False),
        ("2026-05-04", False),
        ("2026-05-05", False),
        ("2026-05-06", False),  # 振替休日
        ("2026-05-07", True),
        # holidays on a Monday, and the September silver week
        ("2026-07-20", False),
        ("2026-07-21", True),
        ("2026-09-18", True),
        ("2026-09-19", False),  # Sat
        ("2026-09-20", False),  # Sun
        ("2026-09-21", False),
        ("2026-09-22", False),
        ("2026-09-23", False),
        ("2026-09-24", True),
        # 年末年始
        ("2026-12-28", True),
        ("2026-12-29", False),
        ("2026-12-30", False),
        ("2026-12-31", False),
        ("2027-01-01", False),
        ("2027-01-02", False),
        ("2027-01-03", False),
        ("2027-01-04", True),
        # a plain weekend
        ("2026-06-13", False),
        ("2026-06-14", False),
        ("2026-06-15", True),
    ],
)
def test_is_business_day(day, open_):
    assert CAL.is_business_day(D(day)) is open_


def test_extra_closed_days():
    cal = BusinessCalendar(extra_closed=frozenset({D("2026-08-14")}))
    assert CAL.is_business_day(D("2026-08-14"))
    assert not cal.is_business_day(D("2026-08-14"))
    assert cal.next_business_day(D("2026-08-13")) == D("2026-08-17")
    assert not cal.is_open(jst("2026-08-14 10:00"))


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        ("2026-06-15 08:29:59", False),
        ("2026-06-15 08:30", True),
        ("2026-06-15 17:14:59", True),
        ("2026-06-15 17:15", False),
        ("2026-06-13 10:00", False),  # Sat
        ("2026-05-05 10:00", False),  # こどもの日
    ],
)
def test_is_open_edges(at, open_):
    assert CAL.is_open(jst(at)) is open_


def test_aware_inputs_are_converted_to_tokyo():
    # 23:30 UTC on Sunday 6/14 is 8:30 JST on Monday 6/15.
    at = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)
    assert CAL.is_open(at)
    assert CAL.next_opening(at) == jst("2026-06-15 08:30")
    assert CAL.next_opening(at).tzinfo is TOKYO
    assert CAL.is_open(datetime(2026, 6, 14, 23, 29, tzinfo=UTC)) is False


@pytest.mark.parametrize(
    "call",
    [
        lambda at: CAL.is_open(at),
        lambda at: CAL.next_opening(at),
        lambda at: CAL.deliver_at(at, urgent=True),
        lambda at: CAL.add_business_days(at, 1),
        lambda at: CAL.add_business_hours(at, 1),
        lambda at: CAL.business_days_between(at, jst("2026-06-20 10:00")),
        lambda at: CAL.business_days_between(jst("2026-06-10 10:00"), at),
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2026, 6, 15, 10, 0))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-06-15 10:00", "2026-06-15 10:00"),  # open: itself
        ("2026-06-15 07:00", "2026-06-15 08:30"),  # before opening
        ("2026-06-15 17:15", "2026-06-16 08:30"),  # at closing
        ("2026-06-12 18:00", "2026-06-15 08:30"),  # Fri evening -> Mon
        ("2026-04-30 17:30", "2026-05-01 08:30"),
        ("2026-05-01 17:30", "2026-05-07 08:30"),  # over Golden Week
        ("2026-12-28 17:15", "2027-01-04 08:30"),  # over 年末年始
        ("2026-09-18 20:00", "2026-09-24 08:30"),  # over the September holidays
    ],
)
def test_next_opening(at, expected):
    assert CAL.next_opening(jst(at)) == jst(expected)


@pytest.mark.parametrize(
    ("due", "urgent", "expected"),
    [
        ("2026-06-15 10:00", False, "2026-06-15 10:00"),
        ("2026-06-15 10:00", True, "2026-06-15 10:00"),
        ("2026-05-03 09:00", False, "2026-05-07 08:30"),
        ("2026-05-03 09:00", True, "2026-05-03 09:00"),
        ("2026-06-15 22:00", False, "2026-06-16 08:30"),
        ("2026-06-15 22:00", True, "2026-06-15 22:00"),
    ],
)
def test_deliver_at(due, urgent, expected):
    assert CAL.deliver_at(jst(due), urgent=urgent) == jst(expected)


@pytest.mark.parametrize(
    ("at", "hours", "expected"),
    [
        ("2026-06-15 10:00", 1, "2026-06-15 11:00"),
        ("2026-06-15 10:00", timedelta(minutes=90), "2026-06-15 11:30"),
        ("2026-06-15 16:45", 0.5, "2026-06-16 08:30"),  # ends exactly at closing -> next opening
        ("2026-06-12 16:45", 1, "2026-06-15 09:00"),  # Fri, spills over the weekend
        ("2026-06-13 12:00", 1, "2026-06-15 09:30"),  # starts on Sat: counts from Mon opening
        ("2026-06-15 07:00", 0, "2026-06-15 08:30"),
        ("2026-12-28 16:45", 1, "2027-01-04 09:00"),  # over 年末年始
        ("2026-12-28 08:30", 8.75 + 2, "2027-01-04 10:30"),  # a whole day then two hours
        ("2026-05-01 17:00", 18, "2026-05-11 08:45"),  # over Golden Week and a weekend
    ],
)
def test_add_business_hours(at, hours, expected):
    assert CAL.add_business_hours(jst(at), hours) == jst(expected)


def test_add_business_hours_rejects_negative():
    with pytest.raises(ValueError):
        CAL.add_business_hours(jst("2026-06-15 10:00"), -1)


@pytest.mark.parametrize(
    ("at", "n", "expected"),
    [
        ("2026-04-28 10:00", 0, "2026-04-28 10:00"),
        ("2026-04-28 10:00", 1, "2026-04-30 10:00"),  # skips 昭和の日
        ("2026-04-28 10:00", 2, "2026-05-01 10:00"),
        ("2026-04-28 10:00", 3, "2026-05-07 10:00"),  # skips 5/2–5/6
        ("2026-04-30 18:00", 1, "2026-05-07 08:30"),  # after hours: counted from 5/1 8:30
        ("2026-05-03 12:00", 0, "2026-05-07 08:30"),
        ("2026-12-25 11:15", 2, "2027-01-04 11:15"),  # Fri -> Mon 12/28 -> over 年末年始
        ("2026-12-25 11:15", 3, "2027-01-05 11:15"),
    ],
)
def test_add_business_days(at, n, expected):
    assert CAL.add_business_days(jst(at), n) == jst(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-04-28 10:00", "2026-04-30 09:59", 0),
        ("2026-04-28 10:00", "2026-04-30 10:00", 1),
        ("2026-04-28 10:00", "2026-05-06 23:00", 2),
        ("2026-04-28 10:00", "2026-05-07 10:00", 3),
        ("2026-12-28 12:00", "2027-01-05 12:00", 2),
        ("2026-06-15 10:00", "2026-06-12 10:00", 0),  # end before start
    ],
)
def test_business_days_between(start, end, expected):
    assert CAL.business_days_between(jst(start), jst(end)) == expected


@pytest.mark.parametrize("n", range(8))
def test_business_days_between_inverts_add_business_days(n):
    start = jst("2026-04-27 14:20")
    assert CAL.business_days_between(start, CAL.add_business_days(start, n)) == n


@pytest.mark.parametrize(
    ("day", "nxt", "prev"),
    [
        ("2026-04-28", "2026-04-30", "2026-04-27"),
        ("2026-05-01", "2026-05-07", "2026-04-30"),
        ("2026-05-07", "2026-05-08", "2026-05-01"),
        ("2026-12-28", "2027-01-04", "2026-12-25"),
        ("2027-01-04", "2027-01-05", "2026-12-28"),
        ("2026-09-19", "2026-09-24", "2026-09-18"),
        ("2026-07-21", "2026-07-22", "2026-07-17"),
    ],
)
def test_next_and_previous_business_day(day, nxt, prev):
    assert CAL.next_business_day(D(day)) == D(nxt)
    assert CAL.previous_business_day(D(day)) == D(prev)


@pytest.mark.parametrize(
    ("year", "month", "weekday", "n", "expected"),
    [
        (2026, 8, 1, 2, "2026-08-11"),  # 2nd Tue
        (2026, 9, 1, 2, "2026-09-08"),
        (2026, 5, 1, 1, "2026-05-05"),
        (2026, 12, 1, 5, "2026-12-29"),
        (2026, 12, 1, -1, "2026-12-29"),  # last Tue
        (2026, 3, 4, 1, "2026-03-06"),  # 1st Fri
    ],
)
def test_nth_weekday_of_month(year, month, weekday, n, expected):
    assert CAL.nth_weekday_of_month(year, month, weekday, n) == D(expected)


@pytest.mark.parametrize(("weekday", "n"), [(1, 0), (7, 1), (1, 6), (2, 5), (1, -6)])
def test_nth_weekday_of_month_rejects_impossible(weekday, n):
    # June 2026 has five Tuesdays and four Wednesdays.
    with pytest.raises(ValueError):
        CAL.nth_weekday_of_month(2026, 6, weekday, n)


@pytest.mark.parametrize(
    ("year", "month", "weekday", "n", "expected"),
    [
        (2026, 9, 1, 2, "2026-09-08"),  # a plain 2nd Tuesday stays
        (2026, 8, 1, 2, "2026-08-12"),  # 2nd Tue is 山の日 -> Wed
        (2026, 5, 1, 1, "2026-05-07"),  # 1st Tue is こどもの日, 5/6 振替休日 -> Thu
        (2026, 9, 1, 4, "2026-09-24"),  # 4th Tue is 国民の休日 -> past 秋分の日
        (2026, 12, 1, 5, "2026-12-28"),  # 5th Tue is 12/29: next is in January -> previous
    ],
)
def test_monthly_meeting_day(year, month, weekday, n, expected):
    assert CAL.monthly_meeting_day(year, month, weekday, n) == D(expected)


def test_monthly_meeting_day_with_extra_closed():
    cal = BusinessCalendar(extra_closed=frozenset({D("2026-10-13")}))  # 2nd Tue of Oct 2026
    assert CAL.monthly_meeting_day(2026, 10, 1, 2) == D("2026-10-13")
    assert cal.monthly_meeting_day(2026, 10, 1, 2) == D("2026-10-14")


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2027, 1, "2027-01-04"),
        (2026, 5, "2026-05-01"),
        (2026, 6, "2026-06-01"),
        (2026, 8, "2026-08-03"),  # 8/1 Sat
        (2026, 11, "2026-11-02"),  # 11/1 Sun
    ],
)
def test_first_business_day_of_month(year, month, expected):
    assert CAL.first_business_day_of_month(year, month) == D(expected)


# -- org file ---------------------------------------------------------------------------------


@pytest.mark.parametrize("town", [None, {}, {"timezone": "Asia/Tokyo"}, {"name": "辰野町"}])
def test_calendar_from_org_defaults(town):
    assert calendar_from_org(town) == BusinessCalendar()


def test_calendar_from_org_full():
    cal = calendar_from_org(
        {
            "timezone": "Asia/Tokyo",
            "office_hours": ["08:00", time(17, 0)],
            "closed_days": [date(2026, 8, 14), "2026-08-13"],
            "year_end_closing": ["12-28", "01-04"],
        }
    )
    assert (cal.opens, cal.closes) == (time(8, 0), time(17, 0))
    assert cal.extra_closed == {D("2026-08-13"), D("2026-08-14")}
    assert cal.closing_days == (
        (12, 28),
        (12, 29),
        (12, 30),
        (12, 31),
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
    )
    assert not cal.is_business_day(D("2026-12-28"))
    assert not cal.is_business_day(D("2027-01-04"))
    assert cal.first_business_day_of_month(2027, 1) == D("2027-01-05")
    assert not cal.is_open(jst("2026-06-15 17:00"))


def test_calendar_from_org_no_year_end_closing():
    cal = calendar_from_org({"year_end_closing": []})
    assert cal.is_business_day(D("2026-12-29"))
    assert not cal.is_business_day(D("2027-01-01"))  # 元日 is still a national holiday


@pytest.mark.parametrize(
    ("town", "key"),
    [
        ({"timezone": "Asia/Tokio"}, "timezone"),
        ({"timezone": 9}, "timezone"),
        ({"office_hours": ["08:30"]}, "office_hours"),
        ({"office_hours": "08:30-17:15"}, "office_hours"),
        ({"office_hours": ["8時半", "17:15"]}, "office_hours"),
        ({"office_hours": ["17:15", "08:30"]}, "office_hours"),
        ({"closed_days": "2026-08-14"}, "closed_days"),
        ({"closed_days": ["2026-08-32"]}, "closed_days"),
        ({"closed_days": [datetime(2026, 8, 14, 9, 0)]}, "closed_days"),
        ({"year_end_closing": ["12-29"]}, "year_end_closing"),
        ({"year_end_closing": ["12-29", "13-01"]}, "year_end_closing"),
        ({"year_end_closing": ["01-04", "12-29"]}, "year_end_closing"),  # almost a whole year
        ({"year_end_closing": [1229, 103]}, "year_end_closing"),
    ],
)
def test_calendar_from_org_rejects_bad_values(town, key):
    with pytest.raises(ValueError, match=key) as excinfo:
        calendar_from_org(town)
    # English and Japanese in one message.
    assert "/" in str(excinfo.value)
    assert any("\u3040" <= ch <= "\u9fff" for ch in str(excinfo.value))
