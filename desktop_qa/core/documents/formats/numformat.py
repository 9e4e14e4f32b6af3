"""A cell's value as the spreadsheet shows it: Excel number format codes applied.

A workbook stores ``0.130792`` and a code (``0.0%``); the user sees, asks
about and quotes "13.1%". openpyxl and xlrd hand over the stored value and
the code, never the shown text, and no well-kept Python library formats
them (the candidates on PyPI are single releases: docs/formats.md), so this
is a small formatter of ECMA-376's codes (18.8.31): sections
(positive;negative;zero;text) and conditions, digit placeholders ``0 # ?``,
thousands separators and scaling commas, percent, scientific, fractions,
literals (quoted, escaped, ``[$€-407]`` currency), dates and times (``yyyy
mmm d``, ``h:mm AM/PM``, elapsed ``[h]:mm``), ``General`` and ``@``.
Colours, fills (``*``) and padding (``_``) only change how it looks: a
padding is one space, the rest is dropped. English month and day names.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

__all__ = ["format_value", "general", "is_date_code"]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CONDITION = re.compile(r"^\[(<=|>=|<>|<|>|=)\s*(-?[\d.]+(?:[eE][-+]?\d+)?)\]")
_BRACKET = re.compile(r"^\[[^\]]*\]")
_DATE_TOKENS = re.compile(
    r"^(yyyy|yy|y+|m{1,5}|d{1,4}|h{1,2}|s{1,2}|am/pm|a/p|e|g{1,3}|b{1,2})", re.I
)
_EPOCH_1900 = _dt.datetime(1899, 12, 30)
_EPOCH_1904 = _dt.datetime(1904, 1, 1)


def general(value: float) -> str:
    """Excel's General: integers whole, others to 15 significant digits (no float noise)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return "#NUM!"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0]
        text = f"{mantissa}E{sign}{exponent[1:].lstrip('0').zfill(2)}"
    return text


def _tokens(section: str) -> list[tuple[str, str]]:
    """(kind, text) tokens of one section: lit, digit (0#?), dot, comma, pct, exp, slash,
    at, date (y m d h s am/pm, [h] elapsed), cond, general."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        ch = section[i]
        rest = section[i:]
        if ch == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            out.append(("lit", section[i + 1 : end]))
            i = end + 1
        elif ch == "\\" and i + 1 < len(section):
            out.append(("lit", section[i + 1]))
            i += 2
        elif ch == "_" and i + 1 < len(section):
            out.append(("lit", " "))
            i += 2
        elif ch == "*" and i + 1 < len(section):
            i += 2  # a fill: repeats a character to the cell's width; nothing to show
        elif ch == "[":
            condition = _CONDITION.match(rest)
            if condition:
                out.append(("cond", condition.group(0)))
                i += condition.end()
                continue
            bracket = _BRACKET.match(rest)
            if not bracket:
                out.append(("lit", ch))
                i += 1
                continue
            inner = bracket.group(0)[1:-1]
            if inner.startswith("$"):
                symbol = inner[1:].split("-", 1)[0]
                out.append(("lit", symbol))
            elif re.fullmatch(r"(h+|m+|s+)", inner, re.I):
                out.append(("elapsed", inner.lower()))
            i += bracket.end()  # colours ([Red], [Color10]) and locales show nothing
        elif rest[:7].lower() == "general":
            out.append(("general", ""))
            i += 7
        elif ch in "0#?":
            out.append(("digit", ch))
            i += 1
        elif ch == ".":
            out.append(("dot", ch))
            i += 1
        elif ch == ",":
            out.append(("comma", ch))
            i += 1
        elif ch == "%":
            out.append(("pct", ch))
            i += 1
        elif ch in "eE" and i + 1 < len(section) and section[i + 1] in "+-":
            out.append(("exp", section[i + 1]))
            i += 2
        elif ch == "/":
            out.append(("slash", ch))
            i += 1
        elif ch == "@":
            out.append(("at", ch))
            i += 1
        else:
            match = _DATE_TOKENS.match(rest)
            if match:
                out.append(("date", match.group(0)))
                i += match.end()
            else:
                out.append(("lit", ch))
                i += 1
    return out


def _split_sections(code: str) -> list[str]:
    sections, current, i = [], [], 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            end = len(code) - 1 if end < 0 else end
            current.append(code[i : end + 1])
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(code):
            current.append(code[i : i + 2])
            i += 2
            continue
        if ch == "[":
            end = code.find("]", i)
            end = len(code) - 1 if end < 0 else end
            current.append(code[i : end + 1])
            i = end + 1
            continue
        if ch == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    sections.append("".join(current))
    return sections


@lru_cache(maxsize=512)
def _parse(code: str) -> tuple[tuple[tuple[tuple[str, str], ...], ...], bool]:
    sections = tuple(tuple(_tokens(s)) for s in _split_sections(code))[:4]
    is_date = any(k in ("date", "elapsed") for k, _ in sections[0])
    return sections, is_date


@lru_cache(maxsize=512)
def _numeric_sections(sections: tuple) -> tuple[tuple, tuple]:
    """The sections that show numbers (not the text one) and their conditions."""
    numeric = tuple(s for s in sections if not any(k == "at" for k, _ in s)) or sections
    conditions = tuple(next((t for k, t in s if k == "cond"), None) for s in numeric)
    return numeric, conditions


def is_date_code(code: str | None) -> bool:
    """Whether the code shows a number as a date or time."""
    return bool(code) and _parse(code)[1]


def _check(condition: str, value: float) -> bool:
    match = _CONDITION.match(condition)
    if not match:
        return False
    op, limit = match.group(1), float(match.group(2))
    return {"<": value < limit, ">": value > limit, "=": value == limit, "<=": value <= limit,
            ">=": value >= limit, "<>": value != limit}[op]  # fmt: skip


def _section_for(sections: list, value: float) -> tuple[list[tuple[str, str]], float]:
    """The section that shows ``value``, and the value it shows (negatives' sign is its own)."""
    numeric, conditions = _numeric_sections(sections)
    if any(conditions):
        for section, condition in zip(numeric, conditions, strict=True):
            if condition is None or _check(condition, value):
                sign_shown = condition is not None and value < 0 and not _check(condition, 0)
                return section, abs(value) if sign_shown or value >= 0 else value
        return numeric[-1], value
    if value > 0 or len(numeric) == 1:
        return numeric[0], value
    if value < 0:
        return numeric[1], abs(value)
    return (numeric[2] if len(numeric) > 2 else numeric[0]), value


def format_value(value: object, code: str | None, date1904: bool = False) -> str:
    """``value`` (a number, date, time, duration, text or bool) as ``code`` shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return _text(value, code)
    if isinstance(value, _dt.timedelta):
        number = value.total_seconds() / 86400
    elif isinstance(value, _dt.datetime):
        number = (value - (_EPOCH_1904 if date1904 else _EPOCH_1900)).total_seconds() / 86400
    elif isinstance(value, _dt.date):
        base = (_EPOCH_1904 if date1904 else _EPOCH_1900).date()
        number = float((value - base).days)
    elif isinstance(value, _dt.time):
        number = (value.hour * 3600 + value.minute * 60 + value.second
                  + value.microsecond / 1e6) / 86400  # fmt: skip
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        return str(value)
    if not code or code.lower() == "general" or math.isnan(number) or math.isinf(number):
        return _plain(value, number, date1904)
    try:
        sections, _ = _parse(code)
        section, shown = _section_for(sections, number)
        return _number(section, shown, date1904)
    except (ValueError, ArithmeticError, IndexError):
        return _plain(value, number, date1904)


def _plain(value: object, number: float, date1904: bool) -> str:
    """Without a usable code: dates in ISO form, numbers as General."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return general(number)


def _text(value: str, code: str | None) -> str:
    if not code or "@" not in code:
        return value
    sections = _parse(code)[0]
    section = next((s for s in sections if any(k == "at" for k, _ in s)), None)
    if section is None:
        return value
    return "".join(value if k == "at" else t for k, t in section if k in ("lit", "at"))


def _number(tokens: list[tuple[str, str]], value: float, date1904: bool) -> str:
    kinds = [k for k, _ in tokens]
    if "date" in kinds or "elapsed" in kinds:
        return _date(tokens, value, date1904)
    if "general" in kinds:
        return "".join(general(value) if k == "general" else t for k, t in tokens
                       if k in ("lit", "general"))  # fmt: skip
    if "digit" not in kinds:  # only literals ("-", "Nil"): shown as written
        return "".join(t for k, t in tokens if k == "lit")
    value *= 100 ** kinds.count("pct")
    if "exp" in kinds:
        return _scientific(tokens, value)
    if "slash" in kinds:
        return _fraction(tokens, value)
    return _decimal(tokens, value)


@lru_cache(maxsize=512)
def _decimal_plan(tokens: tuple) -> tuple:
    """Where a decimal section's integer and fraction digits go, once per section."""
    digits_at = [i for i, (k, _) in enumerate(tokens) if k == "digit"]
    first, last = digits_at[0], digits_at[-1]
    dot = next((i for i, (k, _) in enumerate(tokens) if k == "dot" and first <= i <= last + 1),
               None)  # fmt: skip
    integer = [i for i in digits_at if dot is None or i < dot]
    fraction = [i for i in digits_at if dot is not None and i > dot]
    commas = [i for i, (k, _) in enumerate(tokens) if k == "comma"]
    grouping = any(integer and integer[0] < c < integer[-1] for c in commas)
    # Commas right after the last digit placeholder (before the dot or the end) scale by 1,000.
    after = (integer[-1] if integer else first) + 1
    scale_end = after
    while scale_end < len(tokens) and tokens[scale_end][0] == "comma":
        scale_end += 1
    return dot, integer, fraction, grouping, after, scale_end


def _decimal(tokens: tuple, value: float) -> str:
    dot, integer, fraction, grouping, after, scale_end = _decimal_plan(tokens)
    value /= 1000 ** (scale_end - after)
    rounded = _round(abs(value), len(fraction))
    whole, _, decimals = rounded.partition(".")
    negative = value < 0 and float(rounded) != 0
    if whole == "0":
        whole = ""
    out: list[str] = []
    int_text = _fill_integer(tokens, integer, whole, grouping)
    frac_text = _fill_fraction(tokens, fraction, decimals)
    for i, (kind, text) in enumerate(tokens):
        if i in int_text:
            out.append(int_text[i])
        elif i in frac_text:
            out.append(frac_text[i])
        elif kind == "dot" and i == dot:
            out.append(".")
        elif kind in ("lit", "pct"):
            out.append(text)
        elif kind == "comma" and not (grouping or after <= i < scale_end):
            out.append(",")
    text = "".join(out)
    return ("-" + text) if negative else text


def _round(value: float, places: int) -> str:
    """Half away from zero on the decimal the user typed (Excel's), not on the binary float."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{exact:f}"


def _fill_integer(tokens, positions: list[int], whole: str, grouping: bool) -> dict[int, str]:  # noqa: ANN001
    """Digits into the integer placeholders, right to left; the first takes what is left."""
    if not positions:
        return {}
    minimum = sum(1 for i in positions if tokens[i][1] == "0")
    if grouping:
        number = int(whole) if whole else 0
        shown = f"{number:,}" if whole else ""
        if len(whole) < minimum:
            shown = f"{number:0{minimum + (minimum - 1) // 3},}"
        spaces = sum(1 for i in positions if tokens[i][1] == "?") - len(whole)
        return {positions[0]: " " * max(spaces, 0) + shown, **{i: "" for i in positions[1:]}}
    out: dict[int, str] = {}
    rest = whole
    for n, i in enumerate(reversed(positions)):
        leftmost = n == len(positions) - 1
        if rest:
            out[i] = rest if leftmost else rest[-1]
            rest = "" if leftmost else rest[:-1]
        else:
            out[i] = {"0": "0", "#": "", "?": " "}[tokens[i][1]]
    return out


def _fill_fraction(tokens, positions: list[int], decimals: str) -> dict[int, str]:  # noqa: ANN001
    out: dict[int, str] = {}
    keep = len(decimals)
    # Trailing zeros under '#' vanish, under '?' become spaces, under '0' stay.
    for n in range(len(positions) - 1, -1, -1):
        if decimals[n] == "0" and tokens[positions[n]][1] != "0":
            keep = n
        else:
            break
    for n, i in enumerate(positions):
        if n < keep:
            out[i] = decimals[n]
        else:
            out[i] = " " if tokens[i][1] == "?" else ("0" if tokens[i][1] == "0" else "")
    return out


def _scientific(tokens: list[tuple[str, str]], value: float) -> str:
    e = next(i for i, (k, _) in enumerate(tokens) if k == "exp")
    mantissa_tokens, exponent_tokens = tokens[:e], tokens[e + 1 :]
    int_places = sum(1 for i, (k, _) in enumerate(mantissa_tokens) if k == "digit"
                     and not any(kk == "dot" for kk, _ in mantissa_tokens[:i]))  # fmt: skip
    frac_places = sum(1 for k, _ in mantissa_tokens if k == "digit") - int_places
    exp_digits = sum(1 for k, _ in exponent_tokens if k == "digit")
    step = max(int_places, 1) if int_places > 1 else 1
    if value == 0:
        exponent = 0
    else:
        exponent = math.floor(math.log10(abs(value)))
        exponent -= exponent % step if step > 1 else 0
    mantissa = value / 10**exponent
    text = f"{abs(mantissa):.{frac_places}f}"
    if float(text) >= 10**step:  # rounding carried into another digit
        exponent += step
        text = f"{abs(value) / 10**exponent:.{frac_places}f}"
    sign = "-" if exponent < 0 else ("+" if tokens[e][1] == "+" else "")
    lead = "".join(t for k, t in mantissa_tokens if k == "lit")
    trail = "".join(t for k, t in exponent_tokens if k == "lit")
    return (f"{'-' if value < 0 else ''}{lead}{text}E{sign}"
            f"{str(abs(exponent)).zfill(exp_digits)}{trail}")  # fmt: skip


def _fraction(tokens: list[tuple[str, str]], value: float) -> str:
    s = next(i for i, (k, _) in enumerate(tokens) if k == "slash")
    denominator_tokens = tokens[s + 1 :]
    fixed = "".join(t for k, t in denominator_tokens if k == "lit" and t.strip().isdigit())
    places = sum(1 for k, _ in denominator_tokens if k == "digit") or 1
    before = tokens[:s]
    # "# ?/?": a whole part when a digit group stands before the numerator's group.
    groups, in_group = 0, False
    for k, _ in before:
        if k == "digit" and not in_group:
            groups, in_group = groups + 1, True
        elif k != "digit":
            in_group = False
    negative = value < 0
    value = abs(value)
    whole = int(value) if groups > 1 else 0
    rest = value - whole
    if fixed:
        den = int(fixed)
        num = round(rest * den)
    else:
        frac = Fraction(rest).limit_denominator(10**places - 1)
        num, den = frac.numerator, frac.denominator
    if num == den:
        whole, num = whole + 1, 0
    sign = "-" if negative else ""
    if num == 0:
        return f"{sign}{whole}"
    if whole:
        return f"{sign}{whole} {num}/{den}"
    return f"{sign}{num}/{den}"


def _date(tokens: list[tuple[str, str]], value: float, date1904: bool) -> str:
    kinds = [k for k, _ in tokens]
    twelve = any(k == "date" and t.lower() in ("am/pm", "a/p") for k, t in tokens)
    # Fractions of a second: "ss.00" (the dot and zeros right after seconds).
    frac_places = 0
    for i, (k, t) in enumerate(tokens):
        if k == "date" and t.lower().startswith("s") and i + 1 < len(tokens):
            if tokens[i + 1][0] == "dot":
                j = i + 2
                while j < len(tokens) and tokens[j] == ("digit", "0"):
                    frac_places, j = frac_places + 1, j + 1
    total = round(value * 86400 * 10**frac_places) / 10**frac_places
    days = math.floor(total / 86400)
    seconds = total - days * 86400
    if date1904:
        moment = _EPOCH_1904 + _dt.timedelta(days=days)
    elif days < 61:  # Excel's 1900 (with its 29 February 1900 that never was)
        moment = _dt.datetime(1899, 12, 31) + _dt.timedelta(days=days)
        if days == 60:
            moment = _dt.datetime(1900, 2, 28)
        if days == 0:
            moment = _dt.datetime(1900, 1, 0 + 1) - _dt.timedelta(days=1)
    else:
        moment = _EPOCH_1900 + _dt.timedelta(days=days)
    hour, rem = divmod(int(seconds), 3600)
    minute, second = divmod(rem, 60)
    fraction = seconds - int(seconds)
    out: list[str] = []
    date_positions = [i for i, k in enumerate(kinds) if k in ("date", "elapsed")]
    skip: set[int] = set()
    for n, i in enumerate(date_positions):
        t = tokens[i][1].lower()
        if tokens[i][0] == "date" and t.startswith("m") and len(t) <= 2:
            prev = tokens[date_positions[n - 1]][1].lower() if n else ""
            nxt = tokens[date_positions[n + 1]][1].lower() if n + 1 < len(date_positions) else ""
            if prev.startswith("h") or nxt.startswith("s"):
                tokens = [*tokens[:i], ("minute", t), *tokens[i + 1 :]]
    for i, (kind, text) in enumerate(tokens):
        if i in skip:
            continue
        low = text.lower()
        if kind == "lit":
            out.append(text)
        elif kind == "elapsed":
            whole_seconds = total
            unit = {"h": 3600, "m": 60, "s": 1}[low[0]]
            out.append(str(int(whole_seconds // unit)).zfill(len(low)))
            if low[0] == "h":
                hour = None  # type: ignore[assignment]
            elif low[0] == "m":
                minute = None  # type: ignore[assignment]
        elif kind == "minute":
            value_m = minute if minute is not None else int((total % 3600) // 60)
            out.append(str(value_m).zfill(len(low)))
        elif kind == "date":
            out.append(_date_part(low, moment, hour, minute, second, twelve))
        elif kind == "dot" and frac_places and i + 1 < len(tokens) and tokens[i + 1][0] == "digit":
            out.append("." + f"{fraction:.{frac_places}f}"[2:])
            j = i + 1
            while j < len(tokens) and tokens[j] == ("digit", "0"):
                skip.add(j)
                j += 1
        elif kind in ("dot", "comma", "slash", "pct"):
            out.append(text)
    return "".join(out)


def _date_part(t: str, moment: _dt.datetime, hour, minute, second, twelve: bool) -> str:  # noqa: ANN001
    if t.startswith("y"):
        return str(moment.year)[-2:] if len(t) <= 2 else str(moment.year)
    if t.startswith("m"):
        if len(t) == 1:
            return str(moment.month)
        if len(t) == 2:
            return f"{moment.month:02d}"
        name = _MONTHS[moment.month - 1]
        return name[:3] if len(t) == 3 else (name if len(t) == 4 else name[0])
    if t.startswith("d"):
        if len(t) <= 2:
            return str(moment.day).zfill(len(t))
        name = _DAYS[moment.weekday()]
        return name[:3] if len(t) == 3 else name
    if t.startswith("h"):
        h = hour if hour is not None else 0
        if twelve:
            h = h % 12 or 12
        return str(h).zfill(len(t))
    if t.startswith("s"):
        return str(second).zfill(len(t))
    if t in ("am/pm", "a/p"):
        pm = (hour or 0) >= 12
        return ("PM" if pm else "AM") if t == "am/pm" else ("P" if pm else "A")
    if t.startswith(("e", "g", "b")):
        return str(moment.year) if t.startswith(("e", "b")) else ""
    return t
