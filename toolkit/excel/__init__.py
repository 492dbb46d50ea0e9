"""The Excel front end: the live-Excel half of the workbook seam and the button entry points."""
