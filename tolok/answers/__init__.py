"""What every surface answers from: the terminal, the pages, the JSON API, alerts and reports
read a KPI's series, its verdicts, its open period and why it moved from here, so that they
never disagree.

    views.py        a KPI's series as asked (from the store, else computed), with targets,
                    verdicts and anomalies, as plain data
    verdicts.py     each period judged once, on the one clock, with what the judgement needs
    outlook.py      the open period: so far, where it heads, the forecast of its end
    explanation.py  why a KPI moved, by dimension or by formula input, and the words for it
    export.py       a series as CSV or Excel, cells that never run as formulas

The decisions themselves are pure functions in `tolok.track`; this package gathers what they
need from the store and the warehouse. Numbers are written by `tolok.display`, which every
layer uses.
"""
