"""Workbook access: the seam between the jobs and where the tables live.

Two implementations with the same methods (``read_table``, ``write_columns``,
``append_rows``, ``settings``, ``save``, ``write_cells``):
``toolkit.workbook.files.WorkbookFile`` (a file on disk, openpyxl/calamine) and
``toolkit.excel.live.LiveBook`` (the workbook open in Excel, through xlwings).
"""
