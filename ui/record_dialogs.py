"""The forms an inspector fills in: a visit (实地督查), a finding (发现问题), a check (整改核查).

Each dialog only collects values; the caller hands them to the service, off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDateTimeEdit, QDialog, QDialogButtonBox, QFileDialog,
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit,
    QPushButton, QVBoxLayout, QWidget,
)

from fieldapp.domain import CATEGORIES, CheckResult, PhotoKind, Severity
from ui.i18n import current_lang
from ui.files import IMAGE_SUFFIXES, dropped_files, file_filter


def image_filter() -> str:
    return (file_filter(QCoreApplication.translate("PhotoFiles", "Images"), IMAGE_SUFFIXES) + ";;"
            + QCoreApplication.translate("PhotoFiles", "All files (*)"))


class _Form(QDialog):
    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = QLabel(objectName="formError")
        self.error.setStyleSheet("color: #b3261e")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def problem(self) -> str:
        """Why the form cannot be accepted yet, or ''."""
        return ""

    def _try_accept(self) -> None:
        why = self.problem()
        if why:
            self.error.setText(why)
            self.error.show()
            return
        self.accept()


class VisitDialog(_Form):
    def __init__(self, parent: QWidget | None = None, place: str = "") -> None:
        super().__init__(self.tr("Record a visit"), parent)
        self.setObjectName("visitDialog")
        self.when = QDateTimeEdit(QDateTime.currentDateTime(), calendarPopup=True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.place = QLineEdit(place)
        self.latitude = QLineEdit(placeholderText=self.tr("e.g. 30.274"))
        self.longitude = QLineEdit(placeholderText=self.tr("e.g. 120.155"))
        self.latitude.setValidator(QDoubleValidator(-90, 90, 7))
        self.longitude.setValidator(QDoubleValidator(-180, 180, 7))
        coords = QHBoxLayout()
        coords.addWidget(self.latitude)
        coords.addWidget(self.longitude)
        self.summary = QPlainTextEdit()
        self.form.addRow(self.tr("When"), self.when)
        self.form.addRow(self.tr("Where"), self.place)
        self.form.addRow(self.tr("Coordinates (optional)"), coords)
        self.form.addRow(self.tr("Summary"), self.summary)

    def _coords(self) -> tuple[float | None, float | None]:
        lat, lon = self.latitude.text().strip(), self.longitude.text().strip()
        return (float(lat) if lat else None, float(lon) if lon else None)

    def problem(self) -> str:
        try:
            lat, lon = self._coords()
        except ValueError:
            return self.tr("Coordinates must be numbers, e.g. 30.274 and 120.155.")
        if (lat is None) != (lon is None):
            return self.tr("Give both latitude and longitude, or neither.")
        if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
            return self.tr("Latitude must be between -90 and 90, longitude between -180 and 180.")
        if not self.place.text().strip():
            return self.tr("Say where the visit took place.")
        return ""

    def values(self) -> dict[str, Any]:
        lat, lon = self._coords()
        return {"visited_at": self.when.dateTime().toPython(), "place": self.place.text(),
                "latitude": lat, "longitude": lon, "summary": self.summary.toPlainText()}


class FindingDialog(_Form):
    def __init__(self, units: Sequence[str], category: str, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Record a finding"), parent)
        self.setObjectName("findingDialog")
        lang = current_lang()
        self.description = QPlainTextEdit()
        self.category = QComboBox(editable=True)
        self.category.addItems(list(dict.fromkeys([category, *CATEGORIES])))
        self.severity = QComboBox()
        for s in Severity:
            self.severity.addItem(s.label(lang), s.value)
        self.unit = QComboBox(editable=True)
        self.unit.addItems(list(units))
        self.requirement = QPlainTextEdit()
        self.requirement.setFixedHeight(70)
        self.has_due = QCheckBox(self.tr("Set a deadline"))
        self.due = QDateEdit(QDate.currentDate().addDays(30), calendarPopup=True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        self.due.setEnabled(False)
        self.has_due.toggled.connect(self.due.setEnabled)
        self.has_due.setChecked(True)
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due, 1)
        self.form.addRow(self.tr("Description"), self.description)
        self.form.addRow(self.tr("Category"), self.category)
        self.form.addRow(self.tr("Severity"), self.severity)
        self.form.addRow(self.tr("Responsible unit"), self.unit)
        self.form.addRow(self.tr("Rectification requirement"), self.requirement)
        self.form.addRow(self.tr("Rectification deadline"), due_row)

    def problem(self) -> str:
        return "" if self.description.toPlainText().strip() else self.tr("Describe the problem found.")

    def values(self) -> dict[str, Any]:
        return {
            "description": self.description.toPlainText(), "category": self.category.currentText(),
            "severity": self.severity.currentData(), "responsible_unit": self.unit.currentText(),
            "requirement": self.requirement.toPlainText(),
            "due_date": self.due.date().toPython() if self.has_due.isChecked() else None,
        }


class PhotoPicker(QListWidget):
    """The photos chosen for a check, each with its kind; accepts dropped files."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkPhotos")
        self.setAcceptDrops(True)
        self.setMinimumHeight(110)

    def add_files(self, paths: Sequence[Path], kind: PhotoKind = PhotoKind.AFTER) -> None:
        lang = current_lang()
        for p in paths:
            item = QListWidgetItem(f"[{kind.label(lang)}] {p.name}")
            item.setData(Qt.ItemDataRole.UserRole, (p, kind.value))
            item.setToolTip(str(p))
            self.addItem(item)

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))

    def chosen(self) -> list[tuple[Path, str]]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001
        if dropped_files(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001
        event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        files = dropped_files(event)
        if files:
            event.acceptProposedAction()
            self.add_files(files)


class CheckDialog(_Form):
    """`evidence`: 整改后 photos already on the finding since its last check; they count."""

    def __init__(self, parent: QWidget | None = None, evidence: int = 0) -> None:
        super().__init__(self.tr("Rectification check"), parent)
        self.setObjectName("checkDialog")
        self.evidence = evidence
        lang = current_lang()
        self.result = QComboBox()
        for r in CheckResult:
            self.result.addItem(r.label(lang), r.value)
        self.when = QDateTimeEdit(QDateTime.currentDateTime(), calendarPopup=True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(80)
        self.photos = PhotoPicker()
        add = QPushButton(self.tr("Add “after” photos…"))
        add.clicked.connect(self._choose)
        remove = QPushButton(self.tr("Remove"))
        remove.clicked.connect(self.photos.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        photo_box = QVBoxLayout()
        photo_box.addWidget(self.photos)
        photo_box.addLayout(buttons)
        self.hint = QLabel(self.tr("A passing check closes the finding (销号) and needs at least one "
                                   "“after” photo. 未整改 sends it back for rectification."))
        if evidence:
            self.hint.setText(self.hint.text() + " " + self.tr(
                "%n “after” photo(s) already on the finding count as evidence.", "", evidence))
        self.result.currentIndexChanged.connect(self.error.hide)
        self.photos.model().rowsInserted.connect(self.error.hide)
        self.hint.setWordWrap(True)
        self.form.addRow(self.tr("Result"), self.result)
        self.form.addRow(self.tr("Checked at"), self.when)
        self.form.addRow(self.tr("Note"), self.note)
        self.form.addRow(self.tr("Photos"), photo_box)
        self.form.addRow(self.hint)

    def _choose(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose photos"), "", image_filter())
        self.photos.add_files([Path(f) for f in files])

    def problem(self) -> str:
        passes = CheckResult(self.result.currentData()).passes
        if passes and not self.evidence and not any(k == PhotoKind.AFTER for _p, k in self.photos.chosen()):
            return self.tr("Closing needs at least one “after” photo as evidence. Add one, "
                           "or choose 未整改 to send the finding back.")
        return ""

    def values(self) -> dict[str, Any]:
        return {"result": self.result.currentData(), "note": self.note.toPlainText(),
                "photos": self.photos.chosen(), "checked_at": self.when.dateTime().toPython()}
