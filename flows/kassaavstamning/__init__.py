"""Kassaavstämning: the day's till takings matched against the bank statement and the ledger.

See README.md in this package for the file formats and the matching rules.
"""
