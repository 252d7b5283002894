"""Typed values of review cells, parsed by code (never by the model): dates, durations and
governing-law places found in a clause's text, and the derived dates a lawyer diarises
(the last day to give notice of non-renewal, days until expiration).

Code does this, not the model, so that a value shown in the table is exactly what the cited
clause says, and so that evaluation can compare it with the experts' answer. Standard library
only: it runs in every layer and in tests without models.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# --- Dates --------------------------------------------------------------------------------

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sept": 9, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
# Full names first: the regex alternation takes the first alternative that matches.
_MONTH = r"\b(?P<month>" + "|".join(_MONTHS) + r")\b\.?"
# "9th"; PDF text can split the suffix ("14t h day of April").
_ORDINAL = r"(?:\s?(?:s\s?t|n\s?d|r\s?d|t\s?h)\b)?"
_YEAR_SEP = r"(?:\s*,\s*|\s+)"  # "9, 2005", "9 , 2005", "9 2005"; never "92005"
# A numeric date must not be part of a longer number, fraction, section number or range of
# digits ("12.3", "1/2/3/4", "555-12-12-2005").
_NUM_BEFORE = r"(?<![\w/])(?<!\d[.-])"
_NUM_AFTER = r"(?![\w/])(?![.-]\d)"

_DATE_PATTERNS = [
    # November 9, 2005 / Nov. 9, 2005 / November 9th, 2005 / January 1 2008
    re.compile(_MONTH + r"\s*(?P<day>\d{1,2})" + _ORDINAL + _YEAR_SEP + r"(?P<year>\d{4})(?!\d)",
               re.IGNORECASE),
    # 9 November 2005 / 9th day of November, 2005 / 1st of January 2008
    re.compile(r"(?<![\w.,/])(?P<day>\d{1,2})" + _ORDINAL + r"\s+(?:(?:day\s+)?of\s+)?"
               r"(?:the\s+month\s+of\s+)?\b" + _MONTH + _YEAR_SEP
               + r"(?:in\s+the\s+year\s+)?(?P<year>\d{4})(?!\d)", re.IGNORECASE),
    # 9-Nov-2005 / 09-Nov-05
    re.compile(r"(?<![\w.,/-])(?P<day>\d{1,2})-" + _MONTH + r"-(?P<year>\d{4}|\d{2})(?![\w-])",
               re.IGNORECASE),
    # 2005-11-09
    re.compile(_NUM_BEFORE + r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})" + _NUM_AFTER),
    # 11/9/05, 11/09/2005, 11-9-2005: US month/day/year, as CUAD's gold answers are written.
    # Dotted dates (9.11.2005) are left out: Europe reads them day first, and section
    # numbers look like them.
    re.compile(_NUM_BEFORE + r"(?P<mnum>\d{1,2})(?P<sep>[/-])(?P<day>\d{1,2})(?P=sep)"
               r"(?P<year>\d{4}|\d{2})" + _NUM_AFTER),
]


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:  # CUAD writes "11/9/05": 00-49 is this century, 50-99 the last
        return 2000 + value if value < 50 else 1900 + value
    return value


def _date_of(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    month = _MONTHS[groups["month"].casefold()] if groups.get("month") else int(groups["mnum"])
    year = _year(groups["year"])
    if not 1800 <= year <= 2199:
        return None
    try:
        return date(year, month, int(groups["day"]))
    except ValueError:  # February 30, month 13
        return None


def find_dates(text: str) -> list[tuple[date, int, int]]:
    """Every date written in `text`, as (date, start, end) offsets, in text order; where forms
    overlap the one starting first (then the longest) wins."""
    found: list[tuple[date, int, int]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            value = _date_of(match)
            if value is not None:
                found.append((value, match.start(), match.end()))
    found.sort(key=lambda f: (f[1], -f[2]))
    kept: list[tuple[date, int, int]] = []
    for item in found:
        if not kept or item[1] >= kept[-1][2]:
            kept.append(item)
    return kept


def parse_date(text: str) -> date | None:
    """The first date in `text`, or None."""
    dates = find_dates(text)
    return dates[0][0] if dates else None


def iso(d: date) -> str:
    """How the table and its JSON write a date: 2005-11-09."""
    return d.isoformat()


# --- Durations ----------------------------------------------------------------------------

_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {**_ONES, **_TEENS, **_TENS}


def _alternation(words: dict[str, int]) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b"


# Tens before teens before ones, so "seventy" is not read as "seven".
_UNDER_100 = (r"(?:" + _alternation(_TENS) + r"(?:[\s-]+" + _alternation(_ONES) + r")?|"
              + _alternation(_TEENS) + "|" + _alternation(_ONES) + ")")
_WORDS = (r"\b(?:" + _alternation(_ONES) + r"\s+hundred\b(?:(?:\s+and)?[\s-]+" + _UNDER_100
          + r")?|" + _UNDER_100 + ")")
_DIGITS = r"\d{1,3}(?:,\d{3})+|\d+"
# "(30)" and the blanks of a form filled in by hand: "(______30________)"


def _paren(name: str) -> str:
    return r"\(\s*[_\s]*(?P<" + name + ">" + _DIGITS + r")[_\s]*\)"


_DURATION = re.compile(
    r"(?:(?P<words>" + _WORDS + r")(?:\s*" + _paren("wdigits") + r")?"
    r"|" + _paren("pdigits") +
    r"|(?<![\w.,/])(?P<digits>" + _DIGITS + r"))"
    r"\s*(?:-\s*)?(?:(?P<qualifier>calendar|business|working|banking|consecutive|full)"
    r"[\s-]+)?(?P<unit>days?|weeks?|months?|mos|mo|years?|yrs?)\b",
    re.IGNORECASE)
# A number right after these names a provision, not a length of time ("Section 5 years").
_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:sections?|articles?|clauses?|paragraphs?|exhibits?|schedules?|annex|no\.)|§)"
    r"\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Duration:
    """A length of time as the contract states it: `days` (weeks are 7 days) or `months`
    (years are 12 months), exactly one of them; `text` is the wording it was read from.
    Months stay months because a month is not a fixed number of days (see add_duration)."""

    days: int | None
    months: int | None
    text: str

    def __post_init__(self) -> None:
        if (self.days is None) == (self.months is None):
            raise ValueError("a Duration has exactly one of days and months")

    @property
    def approx_days(self) -> int:
        """Days, with a month as the average 30.44 days: for comparing days with months."""
        if self.days is not None:
            return self.days
        assert self.months is not None
        return round(self.months * 30.44)

    @property
    def business(self) -> bool:
        """Business (working) days are counted as days but shown as such."""
        return bool(re.search(r"\b(?:business|working|banking)\b", self.text, re.IGNORECASE))

    def label(self) -> str:
        """Short canonical text: "30 days", "10 business days", "1 year", "18 months"."""
        if self.days is not None:
            kind = "business day" if self.business else "day"
            return f"{self.days} {kind}" + ("" if self.days == 1 else "s")
        assert self.months is not None
        if self.months % 12 == 0 and self.months:
            years = self.months // 12
            return f"{years} year" + ("" if years == 1 else "s")
        return f"{self.months} month" + ("" if self.months == 1 else "s")

    def to_json(self) -> dict[str, Any]:
        return {"type": "duration", "days": self.days, "months": self.months,
                "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Duration:
        days, months = data.get("days"), data.get("months")
        return cls(None if days is None else int(days), None if months is None else int(months),
                   str(data.get("text", "")))


def _words_value(words: str) -> int:
    value = 0
    for word in re.split(r"[\s-]+", words.casefold()):
        if word == "hundred":
            value = max(value, 1) * 100
        else:
            value += _NUMBER_WORDS.get(word, 0)  # "and"
    return value


def find_durations(text: str) -> list[tuple[Duration, int, int]]:
    """Every length of time in `text` ("thirty (30) days", "1-year", "6 mos"), as
    (duration, start, end) offsets in text order. Where words and digits both give the
    number, the digits win: they are what lawyers check."""
    found: list[tuple[Duration, int, int]] = []
    for match in _DURATION.finditer(text):
        groups = match.groupdict()
        digits = groups["wdigits"] or groups["pdigits"] or groups["digits"]
        if groups["digits"] and _REFERENCE_BEFORE.search(text, 0, match.start()):
            continue
        number = int(digits.replace(",", "")) if digits else _words_value(groups["words"])
        unit = groups["unit"].casefold()
        phrase = " ".join(match.group().split())
        if unit.startswith("d"):
            duration = Duration(number, None, phrase)
        elif unit.startswith("w"):
            duration = Duration(number * 7, None, phrase)
        elif unit.startswith("m"):
            duration = Duration(None, number, phrase)
        else:
            duration = Duration(None, number * 12, phrase)
        found.append((duration, match.start(), match.end()))
    return found


def parse_duration(text: str) -> Duration | None:
    """The first length of time in `text`, or None."""
    durations = find_durations(text)
    return durations[0][0] if durations else None


# --- Places -------------------------------------------------------------------------------

_US = "United States"
_CANADA = "Canada"
_AUSTRALIA = "Australia"
_UK = "United Kingdom"
_CHINA = "China"

# canonical name -> (aliases, the country it is part of or None). The canonical name is
# itself an alias unless the tuple says otherwise below.
_PLACES: dict[str, tuple[tuple[str, ...], str | None]] = {
    # US states and the District of Columbia
    **{name: ((), _US) for name in (
        "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
        "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa",
        "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
        "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
        "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina",
        "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island",
        "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia",
        "Washington", "West Virginia", "Wisconsin", "Wyoming")},
    "District of Columbia": (("Washington, D.C.", "Washington D.C.", "Washington, DC",
                              "Washington DC", "Washington, D. C.", "D.C."), _US),
    "Puerto Rico": ((), _US),
    # Canadian provinces and territories
    **{name: ((), _CANADA) for name in (
        "Ontario", "British Columbia", "Alberta", "Manitoba", "Saskatchewan", "Nova Scotia",
        "New Brunswick", "Prince Edward Island", "Yukon", "Northwest Territories", "Nunavut")},
    "Quebec": (("Québec",), _CANADA),
    "Newfoundland and Labrador": (("Newfoundland",), _CANADA),
    # Australian states and territories
    **{name: ((), _AUSTRALIA) for name in (
        "New South Wales", "Victoria", "Queensland", "South Australia", "Western Australia",
        "Tasmania", "Northern Territory", "Australian Capital Territory")},
    # The United Kingdom's jurisdictions: England and Wales share one law.
    "England and Wales": (("England & Wales",), _UK),
    "England": (("English law",), _UK),
    "Wales": ((), _UK),
    "Scotland": (("Scots law", "Scottish law"), _UK),
    "Northern Ireland": ((), _UK),
    "Hong Kong": (("Hong Kong SAR", "Hong Kong Special Administrative Region"), _CHINA),
    "Macau": (("Macao",), _CHINA),
    # Countries
    _US: (("United States of America", "U.S.A.", "USA"), None),
    _UK: (("U.K.", "UK", "Great Britain"), None),
    _CANADA: ((), None),
    _AUSTRALIA: (("Commonwealth of Australia",), None),
    _CHINA: (("People's Republic of China", "Peoples Republic of China", "PRC", "P.R.C.",
              "Mainland China", "Chinese law"), None),
    "Ireland": (("Republic of Ireland", "Irish law"), None),
    "France": (("French Republic", "French law"), None),
    "Germany": (("Federal Republic of Germany", "German law"), None),
    "Japan": (("Japanese law",), None),
    "India": (("Republic of India", "Indian law"), None),
    "Israel": (("State of Israel", "Israeli law"), None),
    "Singapore": (("Republic of Singapore", "Singapore law"), None),
    "Taiwan": (("Republic of China",), None),
    "South Korea": (("Republic of Korea", "Korea"), None),
    "Sweden": (("Swedish law",), None),
    "Switzerland": (("Swiss Confederation", "Swiss law"), None),
    "Netherlands": (("Kingdom of the Netherlands", "The Netherlands", "Holland", "Dutch law"),
                    None),
    "Belgium": ((), None),
    "Luxembourg": (("Grand Duchy of Luxembourg",), None),
    "Spain": (("Kingdom of Spain", "Spanish law"), None),
    "Italy": (("Italian Republic", "Italian law"), None),
    "Portugal": ((), None),
    "Austria": ((), None),
    "Denmark": ((), None),
    "Norway": ((), None),
    "Finland": ((), None),
    "Poland": ((), None),
    "Czech Republic": (("Czechia",), None),
    "Greece": ((), None),
    "Russia": (("Russian Federation",), None),
    "Turkey": (("Republic of Turkey", "Türkiye"), None),
    "Brazil": (("Federative Republic of Brazil",), None),
    "Mexico": (("United Mexican States",), None),
    "Argentina": ((), None),
    "Chile": ((), None),
    "Colombia": ((), None),
    "New Zealand": ((), None),
    "South Africa": ((), None),
    "Cayman Islands": (("Cayman",), None),
    "British Virgin Islands": (("BVI", "Virgin Islands (British)"), None),
    "Bermuda": ((), None),
    "Bahamas": ((), None),
    "Jersey": ((), None),
    "Guernsey": ((), None),
    "Isle of Man": ((), None),
    "Cyprus": ((), None),
    "Malta": ((), None),
    "Liechtenstein": ((), None),
    "Monaco": ((), None),
    "United Arab Emirates": (("UAE", "U.A.E."), None),
    "Saudi Arabia": ((), None),
    "Malaysia": ((), None),
    "Thailand": ((), None),
    "Indonesia": ((), None),
    "Philippines": ((), None),
    "Vietnam": (("Viet Nam",), None),
    "North Korea": (("Democratic People's Republic of Korea",), None),
}
# Words that are also ordinary words: a match in lower case is not the place.
_LOWER_CASE_WORDS = frozenset({"china", "turkey", "jersey", "guernsey", "victoria", "chile",
                               "holland", "cayman"})


def _key(text: str) -> str:
    """How aliases are looked up: case, dots, commas, apostrophes and spacing ignored."""
    return " ".join(re.sub(r"[.,'’]", " ", text).casefold().split())


def _alias_pattern(alias: str) -> str:
    parts = [re.escape(word) for word in alias.split()]
    pattern = r"\s+".join(parts).replace("'", "['’]").replace(r"\.", r"\.?")
    return pattern.replace(",", ",?")


_ALIASES: dict[str, str] = {}
for _canonical, (_names, _parent) in _PLACES.items():
    for _alias in (_canonical, *_names):
        _ALIASES[_key(_alias)] = _canonical
# Abbreviations must be written in capitals ("USA", "PRC"): "uk" or "bvi" in lower case is
# not a place.
_CAPITALS_ONLY = frozenset(_key(a) for _, (names, _) in _PLACES.items() for a in names
                           if a.replace(".", "").replace(" ", "").isupper())
# Longest first, so that at one position "New York" beats nothing shorter, "West Virginia"
# beats "Virginia" and "Washington, D.C." beats "Washington".
_PLACE_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(_alias_pattern(a) for a in sorted(
        {a for c, (names, _) in _PLACES.items() for a in (c, *names)},
        key=lambda a: (-len(a), a))) + r")(?!\w)", re.IGNORECASE)


def find_places(text: str) -> list[tuple[str, int, int]]:
    """Every jurisdiction named in `text` as (canonical name, start, end), in text order; at
    one position the longest name wins ("West Virginia", not "Virginia")."""
    found: list[tuple[str, int, int]] = []
    for match in _PLACE_RE.finditer(text):
        written = match.group()
        key = _key(written)
        canonical = _ALIASES.get(key)
        if canonical is None:
            continue
        if key in _CAPITALS_ONLY and not written.replace(".", "").replace(" ", "").isupper():
            continue
        if key in _LOWER_CASE_WORDS and written.islower():
            continue
        found.append((canonical, match.start(), match.end()))
    return found


def canonical_place(text: str) -> str | None:
    """The governing-law place `text` names: the first one, except that a country is passed
    over for a state or province of it also named ("the Province of Ontario and the federal
    laws of Canada applicable therein" is Ontario; "the United States and the State of
    Delaware" is Delaware)."""
    names = [name for name, _, _ in find_places(text)]
    parents = {_PLACES[name][1] for name in names}
    for name in names:
        if name not in parents:
            return name
    return names[0] if names else None


# One law, however a clause or the experts name it.
_SAME_LAW = [frozenset({"England", "Wales", "England and Wales"})]


def same_place(a: str, b: str) -> bool:
    """Whether two texts name the same governing law: "Province of Ontario, Canada" and
    "Ontario" do, and so do "England" and "England and Wales" (both English law). Texts that
    name no known place are compared as text."""
    place_a, place_b = canonical_place(a), canonical_place(b)
    if place_a is None or place_b is None:
        if place_a is None and place_b is None:
            text_a, text_b = _key(a), _key(b)
            return bool(text_a) and text_a == text_b
        return False
    if place_a == place_b:
        return True
    return any(place_a in law and place_b in law for law in _SAME_LAW)


# --- Derived values -----------------------------------------------------------------------

def _add_months(start: date, months: int) -> date:
    """Calendar months, the day kept where the month has it: Jan 31 + 1 month is Feb 28/29."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def add_duration(start: date, d: Duration) -> date:
    """`start` plus `d` (business days are counted as calendar days)."""
    if d.days is not None:
        return start + timedelta(days=d.days)
    assert d.months is not None
    return _add_months(start, d.months)


def subtract_duration(end: date, d: Duration) -> date:
    """`end` minus `d`, by the same calendar rules as add_duration."""
    if d.days is not None:
        return end - timedelta(days=d.days)
    assert d.months is not None
    return _add_months(end, -d.months)


def notice_deadline(expiration: date, notice: Duration) -> date:
    """The last day to give notice of non-renewal: `notice` before the expiration date."""
    return subtract_duration(expiration, notice)


def days_until(expiration: date, today: date) -> int:
    """Days from `today` to `expiration`; negative once it has passed."""
    return (expiration - today).days
