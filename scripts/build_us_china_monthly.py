#!/usr/bin/env python3
"""Build data/us_china_monthly.csv, the project's default real data set.

Python 3 standard library only (csv, math, os, argparse). No pandas, no numpy.

Usage
-----
    python3 scripts/build_us_china_monthly.py [--in DIR] [--out FILE]

    --in DIR    folder holding the raw files (default: data/real of this repository)
    --out FILE  CSV to write (default: data/us_china_monthly.csv of this repository)

The defaults are resolved from this script's location (the repository root is the
folder above scripts/), so the script can be run from any working directory; an
explicit --in/--out is taken relative to the current directory as usual.

What it reads (all in --in; origins, terms and caveats are in data/real/SOURCES.md)
-------------------------------------------------------------------------------
  fred_us_defense_monthly.csv  FRED: observation_date (YYYY-MM-01), IPB52300S, ADEFNO, ADAPNO
  gpr_monthly.csv              Caldara-Iacoviello GPR: month (DD/MM/YYYY, day always 01),
                               GPR, GPRT, GPRA, GPRC_CHN, GPRC_USA, ... The file starts with a
                               UTF-8 byte-order mark and ends each row with two data-dictionary
                               columns (var_name, var_label) that are not data; they are ignored.
  epu_all_country_monthly.csv  policyuncertainty.com EPU: Year, Month, ..., US, China, ...
  wgi_china_usa_annual.csv     World Bank WGI (Sept. 2023): one row per country x indicator,
                               one column per year (1996, 1998, 2000, 2002..2022). Starts with a
                               BOM; every row ends with a trailing comma (an empty, unnamed
                               column), which is ignored.

What it writes
--------------
  One CSV, 336 data rows (1996-01 .. 2023-12) plus a header, '\\n' line ends, UTF-8, no BOM.
  Column 1 is `date` as YYYY-MM. The other columns, in this order:

    IPB52300S  ADEFNO  ADAPNO             <- FRED file, same-named columns
    GPRC_CHN  GPRC_USA  GPR  GPRT  GPRA   <- GPR file, same-named columns
    EPU_US                                <- EPU file, column `US`
    EPU_CHINA                             <- EPU file, column `China` (NA in 1996: see below)
    WGI_CHN_GE WGI_CHN_RQ WGI_CHN_RL WGI_CHN_CC WGI_CHN_PV WGI_CHN_VA
                                          <- WGI file, Country Code CHN, Indicator Code
                                             GE.EST, RQ.EST, RL.EST, CC.EST, PV.EST, VA.EST,
                                             interpolated to months (rule below)

  Every value is written as repr(float(x)) -- Python's shortest string that reads back to
  the same double -- so the CSV holds exactly the doubles parsed from the raw files (or
  computed by the interpolation), with no rounding by the writer. The only other cell text
  is `NA`, in EPU_CHINA for 1996-01..1996-12 (the months the source does not cover) and
  nowhere else.

Choices
-------
  * Window: 1996-01 .. 2023-12, the sample of Islam (2025).
  * Completeness: every written column has a value in all 336 months, except EPU_CHINA,
    which has `NA` in 1996-01..1996-12 and a value in all of 1997-01..2023-12; this is
    asserted. A column is "required" or "optional". A required column with any gap in the
    window stops the script with an error (the raw files are known complete for these, so
    a gap means a damaged input). An optional column with a gap is reported on stderr and
    left out of the CSV; no value is ever invented to fill a gap in a monthly source.
    A required column may also name a span of months in which a missing source value is
    allowed and written as `NA`; only EPU_CHINA has one, 1996-01..1996-12. A gap outside
    that span (anywhere in 1997-01..2023-12) is still an error.
    Required: IPB52300S ADEFNO ADAPNO GPRC_CHN GPRC_USA GPR GPRT GPRA EPU_US EPU_CHINA
    (NA allowed in 1996 only) WGI_CHN_GE.
    Optional: the five other WGI_CHN_* columns.
  * Missing-value tokens in the raw files: an empty cell, or NA / NaN / nan (any case),
    or a number that parses to inf/nan. Anything else that is not a number is an error.
  * Dates: each source must give each month at most once (duplicates are an error). The
    FRED and GPR dates must name day 01.
  * China EPU. The EPU file has three China columns: `China` (the headline index on
    policyuncertainty.com; per the source's footnote a "Hybrid China", a smooth splice of
    the rescaled SCMP-based Baker-Bloom-Davis-Wang index and the Mainland-newspaper index
    of Davis-Liu-Sheng), `Mainland China`, and `SCMP China`. `China` is the standard one,
    so EPU_CHINA is taken from it. `Mainland China` equals `China` from 2000-01 on and
    differs only in 1997-01..1999-12; `SCMP China` ends in 2023-11. But none of the three
    covers 1996: all start in 1997-01. With the 1996 sample start, EPU_CHINA therefore
    has 12 missing months (1996-01..1996-12); they are written as `NA` (reported on
    stderr), never filled. EPU_CHINA starts in 1997-01, so an analysis that uses it needs
    `--from 1997-01`: cqboot rejects a missing value in a used column inside the analysed
    range (missing cells outside the range, or in columns not used, are fine). A
    differencing transform also reads the month before the range, so `diff`/`pct` need
    `--from 1997-02`. `China` is negative in 1997-12 (-7.58...), so `logdiff` of EPU_CHINA
    fails for 1997-12 and 1998-01 and needs `--from 1998-02` (or use `level`).
  * WGI annual -> monthly (WGI_CHN_*), exactly:
      - Each available annual estimate of year Y is an anchor placed at July of Y
        (mid-year), i.e. at month index t = 12*(Y-1996) + 6, where 1996-01 has t = 0.
        All years with a value in the file are anchors, including any outside 1996-2023.
      - A month t between two consecutive anchors (ta, va) and (tb, vb), ta < t < tb, gets
            v = va + (vb - va) * k / n,   k = t - ta,  n = tb - ta,
        evaluated in IEEE double precision as va + (((vb - va) * k) / n) (the order Python
        uses for that expression). An anchor month gets its annual value exactly.
        This is linear interpolation in month count. WGI was published every two years
        before 2002, so 1997, 1999 and 2001 have no estimate; the interpolation bridges
        them (1996-07 -> 1998-07 -> 2000-07 -> 2002-07, n = 24 months each).
      - Months before the first anchor (1996-01..1996-06 when the first year is 1996) take
        the first anchor's value.
      - Months after the last anchor take the last anchor's value: this is constant
        extrapolation. The September-2023 WGI release ends in 2022 (there is no 2023), so
        2022-08..2023-12 (17 months) all hold the 2022 estimate.
      - The script requires the first anchor to be no later than 1996 (it never extends a
        series backwards by more than the six months before the 1996 anchor).
  * Output is written to a temporary file next to FILE (FILE.tmp.<pid>), flushed, and then
    renamed over FILE (os.replace), so a reader never sees a half-written file. Nothing
    depends on the clock, the locale or dict/hash order, so reruns give identical bytes.
"""

import argparse
import csv
import math
import os
import sys

START = (1996, 1)
END = (2023, 12)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_IN = os.path.join(REPO, "data", "real")
DEFAULT_OUT = os.path.join(REPO, "data", "us_china_monthly.csv")

FRED_FILE = "fred_us_defense_monthly.csv"
GPR_FILE = "gpr_monthly.csv"
EPU_FILE = "epu_all_country_monthly.csv"
WGI_FILE = "wgi_china_usa_annual.csv"

# (output name, source file, source column, required, NA span)
# NA span: None, or ((y0, m0), (y1, m1)), the inclusive span of months in which a missing
# source value is allowed and written as NA; a gap outside it is handled by `required`.
MONTHLY_COLUMNS = [
    ("IPB52300S", FRED_FILE, "IPB52300S", True, None),
    ("ADEFNO", FRED_FILE, "ADEFNO", True, None),
    ("ADAPNO", FRED_FILE, "ADAPNO", True, None),
    ("GPRC_CHN", GPR_FILE, "GPRC_CHN", True, None),
    ("GPRC_USA", GPR_FILE, "GPRC_USA", True, None),
    ("GPR", GPR_FILE, "GPR", True, None),
    ("GPRT", GPR_FILE, "GPRT", True, None),
    ("GPRA", GPR_FILE, "GPRA", True, None),
    ("EPU_US", EPU_FILE, "US", True, None),
    ("EPU_CHINA", EPU_FILE, "China", True, ((1996, 1), (1996, 12))),
]

NA_TEXT = "NA"

# (output name, WGI Indicator Code, required); Country Code is always CHN.
WGI_COLUMNS = [
    ("WGI_CHN_GE", "GE.EST", True),
    ("WGI_CHN_RQ", "RQ.EST", False),
    ("WGI_CHN_RL", "RL.EST", False),
    ("WGI_CHN_CC", "CC.EST", False),
    ("WGI_CHN_PV", "PV.EST", False),
    ("WGI_CHN_VA", "VA.EST", False),
]

MISSING_TOKENS = {"", "na", "nan"}


class BuildError(Exception):
    pass


def months():
    """The window's months as (year, month) pairs, in order."""
    out = []
    y, m = START
    while (y, m) <= END:
        out.append((y, m))
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def parse_value(text, where):
    """A float, or None for a missing value; error on anything else."""
    s = text.strip()
    if s.lower() in MISSING_TOKENS:
        return None
    try:
        v = float(s)
    except ValueError:
        raise BuildError("%s: not a number: %r" % (where, text))
    if not math.isfinite(v):
        return None
    return v


def read_rows(path):
    """Header and rows of a CSV; utf-8-sig drops a leading byte-order mark."""
    if not os.path.isfile(path):
        raise BuildError("missing input file: %s" % path)
    with open(path, "r", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise BuildError("%s: empty file" % path)
    return rows[0], rows[1:]


def col_index(header, name, path):
    if header.count(name) != 1:
        raise BuildError("%s: expected exactly one column %r" % (path, name))
    return header.index(name)


def date_fred(text, where):
    """YYYY-MM-01 -> (year, month)."""
    p = text.strip().split("-")
    if len(p) != 3 or p[2] != "01":
        raise BuildError("%s: bad date %r (want YYYY-MM-01)" % (where, text))
    return int(p[0]), int(p[1])


def date_gpr(text, where):
    """DD/MM/YYYY with DD = 01 -> (year, month)."""
    p = text.strip().split("/")
    if len(p) != 3 or p[0] != "01":
        raise BuildError("%s: bad date %r (want 01/MM/YYYY)" % (where, text))
    return int(p[2]), int(p[1])


def date_epu(year_text, month_text, where):
    """Year and Month columns (integers, possibly written as 1996.0) -> (year, month)."""
    try:
        y, m = float(year_text), float(month_text)
    except ValueError:
        raise BuildError("%s: bad Year/Month %r/%r" % (where, year_text, month_text))
    if y != int(y) or m != int(m):
        raise BuildError("%s: bad Year/Month %r/%r" % (where, year_text, month_text))
    return int(y), int(m)


def read_monthly(path, date_cols, date_fn, wanted):
    """{source column: {(year, month): float or None}} for the wanted columns."""
    header, rows = read_rows(path)
    di = [col_index(header, c, path) for c in date_cols]
    ci = {c: col_index(header, c, path) for c in wanted}
    out = {c: {} for c in wanted}
    seen = set()
    for n, row in enumerate(rows, start=2):
        where = "%s line %d" % (path, n)
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        key = date_fn(*[row[i] for i in di], where=where)
        if not 1 <= key[1] <= 12:
            raise BuildError("%s: month out of range" % where)
        if key in seen:
            raise BuildError("%s: month %04d-%02d repeated" % ((where,) + key))
        seen.add(key)
        for c, i in ci.items():
            out[c][key] = parse_value(row[i] if i < len(row) else "", where + " " + c)
    return out


def read_wgi(path, country, codes):
    """{indicator code: {year: float}} (years with a value only)."""
    header, rows = read_rows(path)
    cc = col_index(header, "Country Code", path)
    ic = col_index(header, "Indicator Code", path)
    years = [(i, int(h)) for i, h in enumerate(header) if h.strip().isdigit()]
    out = {}
    for n, row in enumerate(rows, start=2):
        if len(row) <= max(cc, ic) or row[cc] != country or row[ic] not in codes:
            continue
        code = row[ic]
        if code in out:
            raise BuildError("%s line %d: %s %s repeated" % (path, n, country, code))
        vals = {}
        for i, y in years:
            v = parse_value(row[i] if i < len(row) else "", "%s line %d %s" % (path, n, y))
            if v is not None:
                vals[y] = v
        out[code] = vals
    return out


def annual_to_monthly(anchors_by_year, grid):
    """Place each year's value at July, interpolate linearly in months, hold the ends.

    Returns (values, n_held_before, n_held_after). The exact rule is in the module doc.
    """
    if not anchors_by_year:
        raise BuildError("no annual values")
    y0 = START[0]
    anchors = sorted((12 * (y - y0) + 6, v) for y, v in anchors_by_year.items())
    if min(anchors_by_year) > START[0]:
        raise BuildError("first annual value is %d, after %d" % (min(anchors_by_year), START[0]))
    values = []
    before = after = 0
    j = 0  # anchors[j] is the last anchor at or before t, once t reaches anchors[0]
    for t in range(len(grid)):
        if t < anchors[0][0]:
            values.append(anchors[0][1])
            before += 1
            continue
        while j + 1 < len(anchors) and anchors[j + 1][0] <= t:
            j += 1
        ta, va = anchors[j]
        if t == ta:
            values.append(va)
        elif j + 1 < len(anchors):
            tb, vb = anchors[j + 1]
            k, n = t - ta, tb - ta
            values.append(va + (vb - va) * k / n)
        else:
            values.append(va)  # constant extrapolation after the last anchor
            after += 1
    return values, before, after


def fmt_month(key):
    return "%04d-%02d" % key


def build(in_dir):
    """(header, rows, notes): the table and human-readable notes for stderr."""
    grid = months()
    notes = []
    columns = []  # (name, [336 floats or None], NA span or None)

    by_file = {}
    for name, fname, src, _, _ in MONTHLY_COLUMNS:
        by_file.setdefault(fname, []).append(src)
    parsed = {
        FRED_FILE: read_monthly(os.path.join(in_dir, FRED_FILE), ["observation_date"],
                                date_fred, by_file[FRED_FILE]),
        GPR_FILE: read_monthly(os.path.join(in_dir, GPR_FILE), ["month"],
                               date_gpr, by_file[GPR_FILE]),
        EPU_FILE: read_monthly(os.path.join(in_dir, EPU_FILE), ["Year", "Month"],
                               date_epu, by_file[EPU_FILE]),
    }

    for name, fname, src, required, na_span in MONTHLY_COLUMNS:
        series = parsed[fname][src]
        vals = [series.get(k) for k in grid]
        na = [fmt_month(k) for k, v in zip(grid, vals)
              if v is None and na_span is not None and na_span[0] <= k <= na_span[1]]
        gaps = [fmt_month(k) for k, v in zip(grid, vals)
                if v is None and not (na_span is not None and na_span[0] <= k <= na_span[1])]
        if na:
            notes.append("%s (%s, column %r): %d month(s) without a source value, written "
                         "as %s: %s" % (name, fname, src, len(na), NA_TEXT, describe_gaps(na)))
        if gaps:
            msg = "%s (%s, column %r): %d missing month(s) in %s..%s: %s" % (
                name, fname, src, len(gaps), fmt_month(START), fmt_month(END),
                describe_gaps(gaps))
            if required:
                raise BuildError(msg)
            notes.append(msg + " -> column left out")
            continue
        columns.append((name, vals, na_span))

    wgi = read_wgi(os.path.join(in_dir, WGI_FILE), "CHN", {c for _, c, _ in WGI_COLUMNS})
    for name, code, required in WGI_COLUMNS:
        if code not in wgi or not wgi[code]:
            msg = "%s: no CHN %s values in %s" % (name, code, WGI_FILE)
            if required:
                raise BuildError(msg)
            notes.append(msg + " -> column left out")
            continue
        years = sorted(wgi[code])
        vals, before, after = annual_to_monthly(wgi[code], grid)
        absent = [y for y in range(years[0], years[-1] + 1) if y not in wgi[code]]
        notes.append("%s (CHN %s): annual %d..%d, years without a value bridged: %s; "
                     "held constant: %d month(s) before the first anchor, %d after the last"
                     % (name, code, years[0], years[-1],
                        ", ".join(map(str, absent)) or "none", before, after))
        columns.append((name, vals, None))

    header = ["date"] + [name for name, _, _ in columns]
    rows = []
    for i, k in enumerate(grid):
        row = [fmt_month(k)]
        for name, vals, na_span in columns:
            v = vals[i]
            if v is None:
                assert na_span is not None and na_span[0] <= k <= na_span[1], (name, k)
                row.append(NA_TEXT)
                continue
            assert math.isfinite(v), (name, k)
            row.append(repr(float(v)))
        rows.append(row)
    assert len(rows) == 336
    assert all(len(r) == len(header) for r in rows)
    return header, rows, notes


def describe_gaps(gaps):
    """'A..B' when the missing YYYY-MM months are one run, else the full list."""
    y0, m0 = map(int, gaps[0].split("-"))
    y1, m1 = map(int, gaps[-1].split("-"))
    if len(gaps) == 1:
        return gaps[0]
    if len(gaps) == 12 * (y1 - y0) + (m1 - m0) + 1:
        return "%s..%s" % (gaps[0], gaps[-1])
    return ", ".join(gaps)


def write_atomic(path, header, rows):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp.%d" % (os.path.abspath(path), os.getpid())
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in", dest="in_dir", default=DEFAULT_IN,
                    help="folder with the raw files (default: %(default)s)")
    ap.add_argument("--out", dest="out", default=DEFAULT_OUT,
                    help="CSV to write (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        header, rows, notes = build(args.in_dir)
        write_atomic(args.out, header, rows)
    except BuildError as e:
        print("build_us_china_monthly: error: %s" % e, file=sys.stderr)
        return 1
    for n in notes:
        print("build_us_china_monthly: %s" % n, file=sys.stderr)
    print("build_us_china_monthly: wrote %s: %d rows (%s..%s), %d columns: %s" % (
        args.out, len(rows), rows[0][0], rows[-1][0], len(header), " ".join(header)),
        file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
