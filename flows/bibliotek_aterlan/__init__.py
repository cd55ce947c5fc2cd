"""Återlån på biblioteket: nightly loan renewals over SIP2 (3M Standard Interchange Protocol 2.00).

Not public authority: a renewal the library system grants is the robot's recorded act; a
refusal (reserved, limit reached, patron blocked, item type not renewable) is an exception
for a librarian. Nothing here creates a Decision.
"""
