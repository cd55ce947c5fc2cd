"""Schemaläggning av vårdpersonal: a care unit's roster, proposed by a solver, checked by law.

Not public authority: the unit manager (*enhetschef*) approves the roster. The rules are
Arbetstidslagen (1982:673) as the floor, with the collective agreement's choices (reference
periods, how the 24-hour period is counted) as configuration in ``rulesets.py``.

Times are local Europe/Stockholm wall-clock times; every duration is real elapsed time, so
the night into the last Sunday of March is one hour shorter and that of October one longer.
"""
