"""Typed review values (desk.review.values): dates, durations and governing-law places read by
code from contract wording, and the derived dates computed from them."""

from datetime import date

import pytest

from desk.review.values import (
    Duration,
    add_duration,
    canonical_place,
    days_until,
    find_dates,
    find_durations,
    find_places,
    iso,
    notice_deadline,
    parse_date,
    parse_duration,
    same_place,
    subtract_duration,
)

NOV_9 = date(2005, 11, 9)


@pytest.mark.parametrize(("text", "expected"), [
    ("November 9, 2005", NOV_9),
    ("Nov. 9, 2005", NOV_9),
    ("NOVEMBER 9, 2005", NOV_9),
    ("november 9, 2005", NOV_9),
    ("9 November 2005", NOV_9),
    ("9th day of November, 2005", NOV_9),
    ("made the 9th day of November 2005 by", NOV_9),
    ("entered into this 9th day of November, 2005", NOV_9),
    ("20 day of November, 1995", date(1995, 11, 20)),
    ("November 9th, 2005", NOV_9),
    ("2005-11-09", NOV_9),
    ("11/9/05", NOV_9),
    ("11/09/2005", NOV_9),
    ("11-9-2005", NOV_9),
    ("5/8/14", date(2014, 5, 8)),
    ("11/20/95", date(1995, 11, 20)),
    ("1/1/49", date(2049, 1, 1)),
    ("1/1/50", date(1950, 1, 1)),
    ("1st day of January, 2008", date(2008, 1, 1)),
    ("January 1 2008", date(2008, 1, 1)),
    ("December 31st, 2023", date(2023, 12, 31)),
    ("Sept. 1, 2008", date(2008, 9, 1)),
    ("sept 1, 2008", date(2008, 9, 1)),
    ("September 1, 2008", date(2008, 9, 1)),
    ("November\n   9,\n  2005", NOV_9),
    ("the  9th   day  of\nNovember ,  2005", NOV_9),
    ("May 3,2006", date(2006, 5, 3)),
    ("14t h day of April, 2015", date(2015, 4, 14)),  # PDF text splits the suffix
    ("9-Nov-05", NOV_9),
    ("February 29, 2024", date(2024, 2, 29)),
    ("Oct. 11, 1996 (the Effective Date)", date(1996, 10, 11)),
])
def test_parse_date_reads_contract_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", [
    "",
    "no date in this sentence",
    "9.11.2005",  # dotted: day-first in Europe, month-first in the US
    "in 2005",
    "Section 12.3 applies",
    "1/2 of the fees",
    "____ day of ______, 2005",
    "September __, 2018",
    "09/[]/2018",
    "February 30, 2005",
    "13/1/2005",
    "2/30/05",
    "to my dismay 9, 2005",  # "may" inside a word is not May
    "November 92005",
    "11/9/200",
    "call 555-11-9-2005",
    "perpetual",
])
def test_parse_date_finds_nothing(text: str) -> None:
    assert parse_date(text) is None
    assert find_dates(text) == []


def test_find_dates_gives_offsets_in_text_order() -> None:
    text = "Signed 11/9/05; effective the 1st day of January, 2008 until December 31st, 2023."
    found = find_dates(text)
    assert [d for d, _, _ in found] == [NOV_9, date(2008, 1, 1), date(2023, 12, 31)]
    assert [text[s:e] for _, s, e in found] == [
        "11/9/05", "1st day of January, 2008", "December 31st, 2023"]


def test_find_dates_reads_ranges_and_skips_invalid_dates() -> None:
    text = "from 1/1/2005 - 12/31/2005, not February 30, 2005, and 2005-02-28"
    assert [d for d, _, _ in find_dates(text)] == [
        date(2005, 1, 1), date(2005, 12, 31), date(2005, 2, 28)]


def test_iso() -> None:
    assert iso(date(2014, 5, 8)) == "2014-05-08"


@pytest.mark.parametrize(("text", "days", "months", "label"), [
    ("thirty (30) days", 30, None, "30 days"),
    ("30 days", 30, None, "30 days"),
    ("ninety (90) calendar days", 90, None, "90 days"),
    ("one (1) year", None, 12, "1 year"),
    ("a 1-year term", None, 12, "1 year"),
    ("a one-year term", None, 12, "1 year"),
    ("renews for successive one year periods", None, 12, "1 year"),
    ("successive 1 year", None, 12, "1 year"),
    ("twelve (12) months", None, 12, "1 year"),
    ("3 months", None, 3, "3 months"),
    ("1 month", None, 1, "1 month"),
    ("eighteen (18) months", None, 18, "18 months"),
    ("two weeks", 14, None, "14 days"),
    ("five (5) years", None, 60, "5 years"),
    ("sixty days' notice", 60, None, "60 days"),
    ("6 mos", None, 6, "6 months"),
    ("one hundred twenty (120) days", 120, None, "120 days"),
    ("one hundred and eighty days", 180, None, "180 days"),
    ("one hundred days", 100, None, "100 days"),
    ("twenty-four months", None, 24, "2 years"),
    ("twenty four months", None, 24, "2 years"),
    ("seventy-five days", 75, None, "75 days"),
    ("thirty (45) days", 45, None, "45 days"),  # the digits win over the words
    ("ten (10) business days", 10, None, "10 business days"),
    ("1 day", 1, None, "1 day"),
    ("a 30-day period", 30, None, "30 days"),
    ("upon ____________ (______30________) days written notice", 30, None, "30 days"),
    ("Thirty (30) Days", 30, None, "30 days"),
    ("1,000 days", 1000, None, "1000 days"),
])
def test_parse_duration(text: str, days: int | None, months: int | None, label: str) -> None:
    d = parse_duration(text)
    assert d is not None
    assert (d.days, d.months, d.label()) == (days, months, label)


@pytest.mark.parametrize("text", [
    "",
    "perpetual",
    "no period here",
    "Section 5 years",
    "as set out in Article 3 months",
    "someone year",
    "the days of the week",
    "12.5 days",
])
def test_parse_duration_finds_nothing(text: str) -> None:
    assert parse_duration(text) is None
    assert find_durations(text) == []


def test_find_durations_keeps_text_and_offsets() -> None:
    text = ("continue for three (3) years and renew for additional one (1) year terms unless "
            "notice is given ninety (90) days before")
    found = find_durations(text)
    assert [d.label() for d, _, _ in found] == ["3 years", "1 year", "90 days"]
    assert [text[s:e] for _, s, e in found] == ["three (3) years", "one (1) year",
                                                  "ninety (90) days"]
    assert found[2][0].text == "ninety (90) days"


def test_duration_text_is_whitespace_normalised() -> None:
    d = parse_duration("thirty\n  (30)\tcalendar   days")
    assert d == Duration(30, None, "thirty (30) calendar days")


def test_duration_invariants_and_json() -> None:
    with pytest.raises(ValueError):
        Duration(None, None, "")
    with pytest.raises(ValueError):
        Duration(1, 1, "")
    months = Duration(None, 3, "3 months")
    assert months.approx_days == 91  # round(3 * 30.44)
    assert Duration(None, 12, "1 year").approx_days == 365
    assert Duration(30, None, "30 days").approx_days == 30
    assert months.to_json() == {"type": "duration", "days": None, "months": 3,
                                "text": "3 months"}
    assert Duration.from_json(months.to_json()) == months
    assert Duration(None, 24, "x").label() == "2 years"
    assert Duration(None, 0, "x").label() == "0 months"


@pytest.mark.parametrize(("text", "expected"), [
    ("the laws of the State of New York", "New York"),
    ("the laws of the Commonwealth of Massachusetts", "Massachusetts"),
    ("the Province of Ontario and the federal laws of Canada applicable therein", "Ontario"),
    ("Province of Ontario, Canada", "Ontario"),
    ("the laws of England and Wales", "England and Wales"),
    ("the laws of England", "England"),
    ("governed by English law", "England"),
    ("the laws of Hong Kong", "Hong Kong"),
    ("the Hong Kong Special Administrative Region of the People's Republic of China",
     "Hong Kong"),
    ("the laws of the People's Republic of China", "China"),
    ("the laws of the People’s Republic of China", "China"),
    ("PRC law", "China"),
    ("the Federal Republic of Germany", "Germany"),
    ("the State of Delaware", "Delaware"),
    ("STATE OF DELAWARE", "Delaware"),
    ("State of California", "California"),
    ("the District of Columbia", "District of Columbia"),
    ("Washington, D.C.", "District of Columbia"),
    ("Washington D.C.", "District of Columbia"),
    ("the State of Washington", "Washington"),
    ("the Laws of Israel", "Israel"),
    ("the Cayman Islands", "Cayman Islands"),
    ("the British Virgin Islands", "British Virgin Islands"),
    ("the Republic of Singapore", "Singapore"),
    ("Switzerland", "Switzerland"),
    ("the laws of the Netherlands", "Netherlands"),
    ("Texas", "Texas"),
    ("West Virginia", "West Virginia"),
    ("Virginia", "Virginia"),
    ("the State of Arkansas", "Arkansas"),
    ("the State of Kansas", "Kansas"),
    ("New Jersey", "New Jersey"),
    ("the Island of Jersey", "Jersey"),
    ("New South Wales", "New South Wales"),
    ("New Mexico", "New Mexico"),
    ("Mexico", "Mexico"),
    ("the State of Georgia", "Georgia"),
    ("the laws of Japan", "Japan"),
    ("British Columbia", "British Columbia"),
    ("Québec", "Quebec"),
    ("the Republic of Korea", "South Korea"),
    ("the laws of the United States and the State of Delaware", "Delaware"),
    ("the laws of the United States of America", "United States"),
    ("the laws of Scotland", "Scotland"),
    ("Northern Ireland", "Northern Ireland"),
    ("the Republic of Ireland", "Ireland"),
])
def test_canonical_place(text: str, expected: str) -> None:
    assert canonical_place(text) == expected


@pytest.mark.parametrize("text", [
    "",
    "no governing law here",
    "the laws of York",  # a city, not a jurisdiction
    "fine china and a turkey",  # ordinary words in lower case
    "usa",  # abbreviations only in capitals
    "Newark",
])
def test_canonical_place_finds_nothing(text: str) -> None:
    assert canonical_place(text) is None
    assert find_places(text) == []


def test_find_places_longest_first_in_text_order() -> None:
    text = "laws of West Virginia, New York and Washington, D.C., not Arkansas"
    found = find_places(text)
    assert [p for p, _, _ in found] == ["West Virginia", "New York", "District of Columbia",
                                        "Arkansas"]
    assert [text[s:e] for _, s, e in found] == ["West Virginia", "New York",
                                                "Washington, D.C.", "Arkansas"]


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Province of Ontario, Canada", "Ontario", True),
    ("England", "England and Wales", True),
    ("the laws of England and Wales", "England", True),
    ("Delaware", "the laws of the State of Delaware", True),
    ("New York", "York", False),
    ("Virginia", "West Virginia", False),
    ("Washington", "Washington, D.C.", False),
    ("Kansas", "Arkansas", False),
    ("Jersey", "New Jersey", False),
    ("Ontario", "Canada", False),
    ("England", "Scotland", False),
    ("Delaware", "", False),
    ("", "", False),
    ("Atlantis", "atlantis", True),  # unknown places: compared as text
    ("Atlantis", "Delaware", False),
])
def test_same_place(a: str, b: str, same: bool) -> None:
    assert same_place(a, b) is same
    assert same_place(b, a) is same


@pytest.mark.parametrize(("start", "duration", "end"), [
    (date(2024, 1, 31), Duration(None, 1, "1 month"), date(2024, 2, 29)),
    (date(2023, 1, 31), Duration(None, 1, "1 month"), date(2023, 2, 28)),
    (date(2005, 11, 9), Duration(None, 12, "1 year"), date(2006, 11, 9)),
    (date(2024, 2, 29), Duration(None, 12, "1 year"), date(2025, 2, 28)),
    (date(2023, 11, 30), Duration(None, 3, "3 months"), date(2024, 2, 29)),
    (date(2005, 12, 15), Duration(30, None, "30 days"), date(2006, 1, 14)),
])
def test_add_duration(start: date, duration: Duration, end: date) -> None:
    assert add_duration(start, duration) == end


@pytest.mark.parametrize(("end", "duration", "start"), [
    (date(2024, 3, 31), Duration(None, 1, "1 month"), date(2024, 2, 29)),
    (date(2023, 12, 31), Duration(90, None, "90 days"), date(2023, 10, 2)),
    (date(2024, 1, 15), Duration(None, 3, "3 months"), date(2023, 10, 15)),
    (date(2025, 2, 28), Duration(None, 12, "1 year"), date(2024, 2, 28)),
])
def test_subtract_duration(end: date, duration: Duration, start: date) -> None:
    assert subtract_duration(end, duration) == start


def test_notice_deadline_and_days_until() -> None:
    assert notice_deadline(date(2020, 7, 31), Duration(None, 3, "3 months")) == date(2020, 4, 30)
    assert notice_deadline(date(2012, 4, 15), Duration(90, None, "90 days")) == date(2012, 1, 16)
    assert days_until(date(2024, 3, 1), date(2024, 2, 1)) == 29
    assert days_until(date(2024, 2, 1), date(2024, 3, 1)) == -29
    assert days_until(date(2024, 2, 1), date(2024, 2, 1)) == 0
