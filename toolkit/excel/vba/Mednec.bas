Attribute VB_Name = "Mednec"
' The buttons of the medical-necessity workbook.
' Each button runs one function of the mednec toolkit in Python through xlwings' RunPython
' (the module "xlwings" in this project).  The Python side reads and writes the sheets;
' nothing here touches claim data.  Python's interpreter path comes from the hidden
' "xlwings.conf" sheet (set it with: mednec excel-setup --workbook THIS-FILE).
Option Explicit

Private Const ENTRY As String = "import toolkit.excel.entry as e; e."

Public Sub ValidateClaims()
    RunPython ENTRY & "validate()"
End Sub

Public Sub Import835Files()
    Dim picked As Variant, i As Long, paths As String
    picked = Application.GetOpenFilename( _
        "835 remittance files (*.835;*.txt;*.edi;*.x12),*.835;*.txt;*.edi;*.x12,All files (*.*),*.*", _
        1, "Choose the 835 remittance files to import", , True)
    If Not IsArray(picked) Then Exit Sub
    For i = LBound(picked) To UBound(picked)
        If Len(paths) > 0 Then paths = paths & ", "
        paths = paths & PyText(CStr(picked(i)))
    Next i
    RunPython ENTRY & "import_835([" & paths & "])"
End Sub

Public Sub Import837Files()
    Dim picked As Variant, i As Long, paths As String
    picked = Application.GetOpenFilename( _
        "837P claim files (*.837;*.txt;*.edi;*.x12),*.837;*.txt;*.edi;*.x12,All files (*.*),*.*", _
        1, "Choose the 837P claim files to import", , True)
    If Not IsArray(picked) Then Exit Sub
    For i = LBound(picked) To UBound(picked)
        If Len(paths) > 0 Then paths = paths & ", "
        paths = paths & PyText(CStr(picked(i)))
    Next i
    RunPython ENTRY & "import_837([" & paths & "])"
End Sub

Public Sub AppealLetterForSelectedDenial()
    If ActiveSheet.Name <> "Denials" Then
        MsgBox "Go to the Denials sheet, click any cell in the denial's row, then press the button again.", _
            vbInformation, "Appeal letter"
        Exit Sub
    End If
    RunPython ENTRY & "appeal_selected(" & CStr(ActiveCell.Row) & ")"
End Sub

Public Sub BuildChecklists()
    RunPython ENTRY & "checklists()"
End Sub

Public Sub RefreshDashboard()
    RunPython ENTRY & "dashboard()"
End Sub

Public Sub MonthlyDigest()
    RunPython ENTRY & "digest()"
End Sub

Public Sub SuggestRuleChanges()
    RunPython ENTRY & "suggest_rules()"
End Sub

Private Function PyText(ByVal s As String) As String
    ' A file path as a Python string literal: backslashes and single quotes escaped.
    PyText = "'" & Replace(Replace(s, "\", "\\"), "'", "\'") & "'"
End Function
