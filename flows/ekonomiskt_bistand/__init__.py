"""Återansökan av ekonomiskt bistånd (SoL 2025:400 12 kap.): the robot proposes, a human decides."""
