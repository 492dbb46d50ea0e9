"""Word adapter: fill the practice's .docx templates (docxtpl) and write them atomically.

The content of each document is built by the core (``toolkit.appeals``, ``toolkit.checklists``)
as plain dicts; this package only finds the template, renders it and saves the file.
"""
