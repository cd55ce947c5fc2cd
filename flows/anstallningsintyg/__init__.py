"""Employment certificates: anställningsintyg and arbetsgivarintyg (issue 14).

Not public authority: the employer's duty to certify. The robot writes what the HR and
payroll data settle; incomplete or contradictory data becomes a named exception for an HR
officer instead of a guess.
"""
