"""Clocks and calendar functions, as emscripten 3.1.6's `library.js` computes them with JS `Date`.

`time_t` is 32 bits here (the 3.1.6 ABI); `struct tm` is musl's (sec, min, hour, mday, mon,
year, wday, yday, isdst, gmtoff, zone: 4 bytes each).  Local time is the host's time zone, as
node's `Date` uses it.  `emscripten_get_now` is a monotonic clock in milliseconds (node's
`process.hrtime`).
"""

from __future__ import annotations

import calendar
import time as _time

from .fs import E
from .registry import js

_START = _time.monotonic()
CLOCKS_PER_SEC = 1000000


def _now_ms() -> float:
    return _time.time() * 1000.0


def _get_now() -> float:
    return _time.monotonic() * 1000.0


@js("emscripten_get_now", "d")
def _emscripten_get_now(rt):
    return _get_now()


@js("emscripten_get_now_res", "d")
def _emscripten_get_now_res(rt):
    return 1.0


@js("emscripten_date_now", "d", "_emscripten_date_now")
def _date_now(rt):
    return float(int(_now_ms()))


def _set_errno(rt, value: int) -> None:
    if rt.export("__errno_location") is not None:
        rt.set_i32(rt.call("__errno_location"), value)


@js("clock_gettime", "iii", "__clock_gettime")
def _clock_gettime(rt, clk_id, tp):
    if clk_id == 0:  # CLOCK_REALTIME
        now = float(int(_now_ms()))
    elif clk_id in (1, 4):  # CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW
        now = _get_now()
    else:
        _set_errno(rt, E.EINVAL)
        return -1
    rt.set_i32(tp, int(now / 1000))
    rt.set_i32(tp + 4, int((now % 1000) * 1000 * 1000))
    return 0


@js("clock_getres", "iii")
def _clock_getres(rt, clk_id, res):
    if clk_id == 0:
        nsec = 1000 * 1000
    elif clk_id == 1:
        nsec = 1
    else:
        _set_errno(rt, E.EINVAL)
        return -1
    rt.set_i32(res, nsec // 1000000000)
    rt.set_i32(res + 4, nsec)
    return 0


@js("gettimeofday", "iii")
def _gettimeofday(rt, ptr, *_tz):
    now = int(_now_ms())
    rt.set_i32(ptr, now // 1000)
    rt.set_i32(ptr + 4, (now % 1000) * 1000)
    return 0


@js("time", "ii")
def _time_func(rt, ptr):
    now = int(_time.time())
    if ptr:
        rt.set_i32(ptr, now)
    return now


@js("clock", "i")
def _clock(rt):
    if not hasattr(rt, "_clock_start"):
        rt._clock_start = _now_ms()
    return int((_now_ms() - rt._clock_start) * (CLOCKS_PER_SEC / 1000)) & 0xFFFFFFFF


@js("difftime", "dii")
def _difftime(rt, t1, t0):
    return float(t1 - t0)


# -- struct tm ------------------------------------------------------------------------------

def _read_tm(rt, ptr: int) -> list[int]:
    data = rt.read(ptr, 36)
    return [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(0, 36, 4)]


def _write_fields(rt, ptr: int, fields: dict[int, int]) -> None:
    for index, value in fields.items():
        rt.set_i32(ptr + 4 * index, value)


def _offset_minutes(t: float) -> int:
    """JS `getTimezoneOffset()` at time `t`: minutes *west* of UTC."""
    return -int(_time.localtime(t).tm_gmtoff // 60)


def _local_midnight(year: int, month: int, day: int = 1) -> float:
    """JS `new Date(year, month, day).getTime()/1000`."""
    return _time.mktime((year, month + 1, day, 0, 0, 0, 0, 0, -1))


@js("_gmtime_js", "vii")
def _gmtime_js(rt, time_ptr, tm_ptr):
    t = rt.i32(time_ptr)
    g = _time.gmtime(t)
    start = calendar.timegm((g.tm_year, 1, 1, 0, 0, 0))
    _write_fields(rt, tm_ptr, {0: g.tm_sec, 1: g.tm_min, 2: g.tm_hour, 3: g.tm_mday, 4: g.tm_mon - 1,
                               5: g.tm_year - 1900, 6: (g.tm_wday + 1) % 7, 7: (t - start) // 86400})


@js("_localtime_js", "vii")
def _localtime_js(rt, time_ptr, tm_ptr):
    t = rt.i32(time_ptr)
    lt = _time.localtime(t)
    start = _local_midnight(lt.tm_year, 0)
    summer = _offset_minutes(_local_midnight(lt.tm_year, 6))
    winter = _offset_minutes(start)
    offset = _offset_minutes(t)
    dst = int(summer != winter and offset == min(winter, summer))
    _write_fields(rt, tm_ptr, {0: lt.tm_sec, 1: lt.tm_min, 2: lt.tm_hour, 3: lt.tm_mday, 4: lt.tm_mon - 1,
                               5: lt.tm_year - 1900, 6: (lt.tm_wday + 1) % 7, 7: int((t - start) // 86400),
                               9: -(offset * 60), 8: dst})


@js("_mktime_js", "ii")
def _mktime_js(rt, tm_ptr):
    sec, minute, hour, mday, mon, year, _wday, _yday, dst = _read_tm(rt, tm_ptr)
    t = _time.mktime((year + 1900, mon + 1, mday, hour, minute, sec, 0, 0, -1))
    guessed = _offset_minutes(t)
    lt = _time.localtime(t)
    start = _local_midnight(lt.tm_year, 0)
    summer = _offset_minutes(_local_midnight(lt.tm_year, 6))
    winter = _offset_minutes(start)
    dst_offset = min(winter, summer)
    if dst < 0:
        _write_fields(rt, tm_ptr, {8: int(summer != winter and dst_offset == guessed)})
    elif (dst > 0) != (dst_offset == guessed):
        non_dst = max(winter, summer)
        true_offset = dst_offset if dst > 0 else non_dst
        t += (true_offset - guessed) * 60
    lt = _time.localtime(t)
    start = _local_midnight(lt.tm_year, 0)
    _write_fields(rt, tm_ptr, {6: (lt.tm_wday + 1) % 7, 7: int((t - start) // 86400), 0: lt.tm_sec, 1: lt.tm_min,
                               2: lt.tm_hour, 3: lt.tm_mday, 4: lt.tm_mon - 1})
    return int(t)


@js("_timegm_js", "ii")
def _timegm_js(rt, tm_ptr):
    sec, minute, hour, mday, mon, year, *_ = _read_tm(rt, tm_ptr)
    t = calendar.timegm((year + 1900, mon + 1, mday, hour, minute, sec))
    g = _time.gmtime(t)
    start = calendar.timegm((g.tm_year, 1, 1, 0, 0, 0))
    _write_fields(rt, tm_ptr, {6: (g.tm_wday + 1) % 7, 7: (t - start) // 86400})
    return t


#: node's `Date.toTimeString()` names zones in full (ICU); Python knows the abbreviations
_LONG_ZONE_NAMES = {
    "UTC": "Coordinated Universal Time", "GMT": "Greenwich Mean Time", "BST": "British Summer Time",
    "EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time", "CST": "Central Standard Time",
    "CDT": "Central Daylight Time", "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time", "CET": "Central European Standard Time",
    "CEST": "Central European Summer Time", "EET": "Eastern European Standard Time",
    "EEST": "Eastern European Summer Time", "WET": "Western European Standard Time",
    "WEST": "Western European Summer Time", "IST": "India Standard Time", "JST": "Japan Standard Time",
}


@js("_tzset_js", "viii")
def _tzset_js(rt, timezone, daylight, tzname):
    if getattr(rt, "_tzset_called", False):
        return
    rt._tzset_called = True
    year = _time.localtime().tm_year
    winter = _offset_minutes(_local_midnight(year, 0))
    summer = _offset_minutes(_local_midnight(year, 6))
    rt.set_i32(timezone, max(winter, summer) * 60)
    rt.set_i32(daylight, int(winter != summer))
    names = [_LONG_ZONE_NAMES.get(n, n) for n in _time.tzname]
    winter_name, summer_name = names[0], names[1] if len(names) > 1 else names[0]
    winter_ptr = rt.alloc_utf8(winter_name)
    summer_ptr = rt.alloc_utf8(summer_name)
    if summer < winter:
        rt.set_i32(tzname, winter_ptr)
        rt.set_i32(tzname + 4, summer_ptr)
    else:
        rt.set_i32(tzname, summer_ptr)
        rt.set_i32(tzname + 4, winter_ptr)


# -- strftime (library.js's JavaScript version, quirks included) ----------------------------

_WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_EXPANSIONS_1 = {
    "%c": "%a %b %d %H:%M:%S %Y", "%D": "%m/%d/%y", "%F": "%Y-%m-%d", "%h": "%b", "%r": "%I:%M:%S %p",
    "%R": "%H:%M", "%T": "%H:%M:%S", "%x": "%m/%d/%y", "%X": "%H:%M:%S", "%Ec": "%c", "%EC": "%C",
    "%Ex": "%m/%d/%y", "%EX": "%H:%M:%S", "%Ey": "%y", "%EY": "%Y", "%Od": "%d", "%Oe": "%e", "%OH": "%H",
    "%OI": "%I", "%Om": "%m", "%OM": "%M", "%OS": "%S", "%Ou": "%u", "%OU": "%U", "%OV": "%V", "%Ow": "%w",
    "%OW": "%W", "%Oy": "%y",
}


def _js_date(year: int, month: int, day: int):
    """JS `new Date(year, month, day)` as a date (month and day may overflow)."""
    import datetime

    if 0 <= year <= 99:
        year += 1900
    year += month // 12
    month %= 12
    return datetime.date(max(year, 1), month + 1, 1) + datetime.timedelta(days=day - 1)


def _first_week_start(jan4):
    import datetime

    return jan4 - datetime.timedelta(days=(jan4.isoweekday() - 1))


def _strftime(tm: dict, pattern: str) -> str:
    import datetime

    for rule, expansion in _EXPANSIONS_1.items():
        pattern = pattern.replace(rule, expansion)
    year = tm["year"] + 1900

    def this_date():
        return _js_date(year, 0, 1) + datetime.timedelta(days=tm["yday"])

    def week_based_year():
        date = this_date()
        start, next_start = _first_week_start(_js_date(date.year, 0, 4)), _first_week_start(_js_date(date.year + 1, 0, 4))
        if start <= date:
            return date.year + 1 if next_start <= date else date.year
        return date.year - 1

    def week_u(first_weekday: int, base_year: int):
        jan1 = _js_date(base_year, 0, 1)
        js_day = jan1.isoweekday() % 7
        if first_weekday == 0:
            first = jan1 if js_day == 0 else jan1 + datetime.timedelta(days=7 - js_day)
        else:
            first = jan1 if js_day == 1 else jan1 + datetime.timedelta(days=1 if js_day == 0 else 7 - js_day + 1)
        end = _js_date(year, tm["mon"], tm["mday"])
        if first < end:
            feb_until_end = sum(_month_days(end.year)[:max(end.month - 1, 0)]) - 31
            days = (31 - first.day) + feb_until_end + end.day
            return f"{-(-days // 7):02d}"
        return "01" if first == jan1 else "00"

    def week_v():
        start = _first_week_start(_js_date(year, 0, 4))
        next_start = _first_week_start(_js_date(year + 1, 0, 4))
        end = this_date()
        if end < start:
            return "53"
        if next_start <= end:
            return "01"
        diff = tm["yday"] + 32 - start.day if start.year < year else tm["yday"] + 1 - start.day
        return f"{-(-diff // 7):02d}"

    def zone_offset():
        off = abs(tm["gmtoff"]) / 60
        off = (off / 60) * 100 + (off % 60)
        text = str(int(off)) if off == int(off) else repr(off)
        return ("+" if tm["gmtoff"] >= 0 else "-") + ("0000" + text)[-4:]

    hour12 = 12 if tm["hour"] == 0 else tm["hour"] - 12 if tm["hour"] > 12 else tm["hour"]
    rules = {
        "%a": lambda: _WEEKDAYS[tm["wday"] % 7][:3], "%A": lambda: _WEEKDAYS[tm["wday"] % 7],
        "%b": lambda: _MONTHS[tm["mon"] % 12][:3], "%B": lambda: _MONTHS[tm["mon"] % 12],
        "%C": lambda: f"{year // 100:02d}", "%d": lambda: f"{tm['mday']:02d}", "%e": lambda: f"{tm['mday']:2d}",
        "%g": lambda: str(week_based_year())[2:], "%G": lambda: str(week_based_year()),
        "%H": lambda: f"{tm['hour']:02d}", "%I": lambda: f"{hour12:02d}",
        "%j": lambda: f"{tm['mday'] + sum(_month_days(year)[:max(tm['mon'], 0)]):03d}",
        "%m": lambda: f"{tm['mon'] + 1:02d}", "%M": lambda: f"{tm['min']:02d}", "%n": lambda: "\n",
        "%p": lambda: "AM" if 0 <= tm["hour"] < 12 else "PM", "%S": lambda: f"{tm['sec']:02d}", "%t": lambda: "\t",
        "%u": lambda: str(tm["wday"] or 7), "%U": lambda: week_u(0, year), "%V": week_v, "%w": lambda: str(tm["wday"]),
        "%W": lambda: week_u(1, tm["year"]), "%y": lambda: str(year)[2:], "%Y": lambda: str(year),
        "%z": zone_offset, "%Z": lambda: tm["zone"], "%%": lambda: "%",
    }
    for rule, render in rules.items():
        if rule in pattern:
            pattern = pattern.replace(rule, render())
    return pattern


def _month_days(year: int) -> list[int]:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


@js("strftime", "iiiii", "strftime_l")
def _strftime_js(rt, s, maxsize, fmt, tm_ptr, *_locale):
    sec, minute, hour, mday, mon, year, wday, yday, isdst = _read_tm(rt, tm_ptr)
    gmtoff, zone = rt.i32(tm_ptr + 36), rt.i32(tm_ptr + 40)
    tm = {"sec": sec, "min": minute, "hour": hour, "mday": mday, "mon": mon, "year": year, "wday": wday,
          "yday": yday, "isdst": isdst, "gmtoff": gmtoff, "zone": rt.cstr(zone) if zone else ""}
    data = _strftime(tm, rt.cstr(fmt)).encode("utf-8") + b"\0"
    if len(data) > maxsize:
        return 0
    rt.write(s, data)
    return len(data) - 1


# -- WASI clocks (later emscripten versions call these instead of clock_gettime) -------------

@js("clock_time_get", "iiji")
def _clock_time_get(rt, clock_id, *args):
    """`clock_time_get(id, precision, *time)`: nanoseconds; the precision (an i64, or two i32
    halves in a legalized build) is ignored."""
    time_ptr = args[-1]
    if clock_id == 0:
        now = int(_now_ms()) * 1000000
    elif clock_id in (1, 2, 3):
        now = int(_get_now() * 1000000)
    else:
        return E.EINVAL
    rt.set_i64(time_ptr, now)
    return 0


@js("clock_res_get", "iii")
def _clock_res_get(rt, clock_id, res_ptr):
    if clock_id == 0:
        nsec = 1000 * 1000
    elif clock_id in (1, 2, 3):
        nsec = 1
    else:
        return E.EINVAL
    rt.set_i64(res_ptr, nsec)
    return 0
