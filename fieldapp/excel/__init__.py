"""Excel in and out: reading supervisors' real task lists, writing ledgers (台账) and templates.

Reading is isolated in a child process (`reader`); the rest is plain Python over plain data:
`normalize` (full-width forms, stray blanks), `header` (finding the header row and mapping
columns by Chinese synonyms), `deadlines`, `units`, `tasklist` (a sheet into task rows).
Writing uses openpyxl (`template`, `ledger`). The import itself, with its one transaction, is
`fieldapp.services.task_import`.
"""
