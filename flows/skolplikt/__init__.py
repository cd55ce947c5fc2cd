"""Bevakning av skolplikten: the home municipality's monthly check that every child of
compulsory-school age registered here is enrolled somewhere and attends (Skollag 2010:800
7 kap. 20–23 §§)."""
