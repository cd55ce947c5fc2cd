"""Connectors of the school-attendance robot: SS 12000 (school data) and the population
register's children (folkbokföring)."""
