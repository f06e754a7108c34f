"""Preferences: language and the inspector's name (the author of what they record)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from ui.i18n import LANGUAGES


class SettingsDialog(QDialog):
    def __init__(self, language: str, inspector: str, parent: QWidget | None = None, intro: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.language = QComboBox(objectName="languageCombo")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(self.language.findData(language), 0))
        self.inspector = QLineEdit(inspector, objectName="inspectorName")
        self.inspector.setPlaceholderText(self.tr("Your name, recorded as the author of visits, findings and checks"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        if intro:
            note = QLabel(intro, wordWrap=True, objectName="settingsIntro")
            form.addRow(note)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Inspector name"), self.inspector)
        form.addRow(buttons)
        self.setMinimumWidth(460)
