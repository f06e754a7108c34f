"""Why a workbook was refused, in both UI languages.

Every refusal leaves the database untouched: reading happens before the import's one
transaction begins, in a child process that can die without harming the window.
"""

from __future__ import annotations

from fieldapp.errors import FieldAppError


class WorkbookRejected(FieldAppError):
    """A file that cannot be imported at all; `code` says which case (for tests and logs)."""

    code = "rejected"
    zh = "无法导入“{name}”：{reason}"
    en = "Cannot import “{name}”: {reason}"


class NotASpreadsheet(WorkbookRejected):
    code = "not_spreadsheet"
    zh = "“{name}”不是电子表格文件（支持 .xlsx、.xlsm、.xls、.ods 和 UTF-8 或 GBK 编码的 .csv）。"
    en = "“{name}” is not a spreadsheet (FieldApp reads .xlsx, .xlsm, .xls, .ods, and .csv in UTF-8 or GBK)."


class WorkbookEncrypted(WorkbookRejected):
    code = "encrypted"
    zh = "“{name}”设置了打开密码，FieldApp 无法读取。请在 Excel 中打开并取消密码（文件 → 信息 → 保护工作簿），另存后再导入。"
    en = ("“{name}” is protected with a password, so FieldApp cannot read it. Open it in Excel, remove the "
          "password (File → Info → Protect Workbook), save, and import again.")


class WorkbookDamaged(WorkbookRejected):
    code = "damaged"
    zh = "“{name}”已损坏或不完整（可能下载或复制时中断），无法读取。请用 Excel 或 WPS 打开并另存为 .xlsx 后再导入。"
    en = ("“{name}” is damaged or incomplete (perhaps a download or copy was cut short) and cannot be read. "
          "Open it in Excel or WPS, save it as .xlsx and import again.")


class WorkbookTooLarge(WorkbookRejected):
    code = "too_large"
    zh = "“{name}”过大：{reason}。请删去不需要的行、列或工作表，或拆分为多个文件后再导入。"
    en = "“{name}” is too large: {reason}. Delete rows, columns or sheets that are not needed, or split it, and import again."


class WorkbookTimeout(WorkbookRejected):
    code = "timeout"
    zh = "读取“{name}”超过 {seconds} 秒仍未完成，已停止。文件可能异常或过于复杂，请另存为 .xlsx 或拆分后再试。"
    en = ("Reading “{name}” took longer than {seconds} seconds and was stopped. The file may be malformed or "
          "too complex; save it again as .xlsx or split it, and retry.")


class WorkbookEncoding(WorkbookRejected):
    code = "encoding"
    zh = "“{name}”的文字编码无法识别。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入。"
    en = "The text encoding of “{name}” is not recognised. Save it from Excel as “CSV UTF-8” or .xlsx and import again."


class SheetNotFound(WorkbookRejected):
    code = "sheet_not_found"
    zh = "“{name}”中没有名为“{sheet}”的工作表。现有工作表：{sheets}"
    en = "“{name}” has no sheet named “{sheet}”. Its sheets are: {sheets}"


class NothingToImport(WorkbookRejected):
    code = "nothing"
    zh = "“{name}”中没有可导入的任务：{reason}"
    en = "“{name}” holds no tasks to import: {reason}"


class ImportRefused(FieldAppError):
    """The preview found errors; nothing was written."""

    code = "has_errors"
    zh = "导入未执行：{count} 行有错误（例如 {first}）。请修改表格后重新导入，数据库未作任何修改。"
    en = "Nothing was imported: {count} rows have errors (e.g. {first}). Correct the sheet and import again; the database was not changed."
