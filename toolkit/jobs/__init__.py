"""Jobs: one function per thing a user can ask for, taking a workbook-access object.

The CLI (``toolkit.cli``) and the Excel buttons (``toolkit.excel.entry``) both call these, so
each job has exactly one code path.
"""
