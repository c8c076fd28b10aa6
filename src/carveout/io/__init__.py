"""Reading and writing ledgers: every row in comes out, decided or rejected with its line number."""
