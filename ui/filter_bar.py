"""The filter bar above the task table: status, category, region, overdue, search, and counts."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from fieldapp import regions
from fieldapp.domain import CATEGORIES, TaskStatus, category_label
from fieldapp.task_list import TaskCounts, TaskFilter
from ui.i18n import current_lang


def city_name(code: str) -> str:
    region = regions.lookup(code)
    return region.name if region else code


class FilterBar(QWidget):
    filter_changed = Signal(object)  # TaskFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._regions: list[tuple[str, str]] = []
        self._categories = list(CATEGORIES)
        self.status = QComboBox(objectName="statusFilter")
        self.category = QComboBox(objectName="categoryFilter")
        self.region = QComboBox(objectName="regionFilter")
        self.region.setMinimumContentsLength(10)
        self.overdue = QCheckBox(objectName="overdueFilter")
        self.search = QLineEdit(objectName="searchBox")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
        self.counts = QLabel(objectName="countsLabel")
        self.clear = QPushButton(objectName="clearFilters", flat=True)
        self.clear.clicked.connect(self.reset)
        self._labels = [QLabel(), QLabel(), QLabel()]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 2)
        outer.setSpacing(2)
        layout = QHBoxLayout()
        outer.addLayout(layout)
        for label, combo in zip(self._labels, (self.status, self.category, self.region)):
            layout.addWidget(label)
            layout.addWidget(combo)
        layout.addWidget(self.overdue)
        layout.addWidget(self.search, 1)
        counts_row = QHBoxLayout()
        counts_row.addWidget(self.counts)
        counts_row.addWidget(self.clear)
        counts_row.addStretch(1)
        outer.addLayout(counts_row)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self._emit)
        self.retranslate()
        for combo in (self.status, self.category, self.region):
            combo.currentIndexChanged.connect(self._emit)
        self.overdue.toggled.connect(self._emit)
        self.search.textChanged.connect(self._debounce.start)

    def set_choices(self, regions: list[tuple[str, str]], categories: list[str]) -> None:
        """Offer the counties (grouped under their cities) and categories the tasks use."""
        before = self.current()
        self._regions = regions
        self._categories = list(dict.fromkeys([*CATEGORIES, *categories]))
        self.retranslate()
        if self.current() != before:  # a chosen region or category is gone: say so to the table
            self._emit()

    def retranslate(self) -> None:
        lang = current_lang()
        widgets = (self.status, self.category, self.region)
        keep = [w.currentData() for w in widgets]
        for w in widgets:
            w.blockSignals(True)
            w.clear()
        self._labels[0].setText(self.tr("Status"))
        self._labels[1].setText(self.tr("Category"))
        self._labels[2].setText(self.tr("Region"))
        self.status.addItem(self.tr("All"), None)
        for st in TaskStatus:
            self.status.addItem(st.label(lang), st.value)
        self.category.addItem(self.tr("All"), None)
        for c in self._categories:
            self.category.addItem(category_label(c, lang), c)
        self.region.addItem(self.tr("All"), None)
        city = None
        for code, name in self._regions:
            if code[:4] != city:
                city = code[:4]
                self.region.addItem(city_name(city + "00"), city + "00")
            self.region.addItem("\u3000" + name, code)
        self.overdue.setText(self.tr("Overdue only"))
        self.clear.setText(self.tr("Clear filters"))
        self.search.setPlaceholderText(self.tr("Search code, title, unit, address…"))
        for w, data in zip(widgets, keep):
            w.setCurrentIndex(max(w.findData(data), 0))
            w.blockSignals(False)

    def current(self) -> TaskFilter:
        status = self.status.currentData()
        category = self.category.currentData()
        region = self.region.currentData()
        return TaskFilter(
            statuses=(status,) if status else (),
            categories=(category,) if category else (),
            region_prefix=region or "",
            overdue_only=self.overdue.isChecked(),
            search=self.search.text(),
        )

    def reset(self) -> None:
        for w in (self.status, self.category, self.region, self.overdue, self.search):
            w.blockSignals(True)
        self.status.setCurrentIndex(0)
        self.category.setCurrentIndex(0)
        self.region.setCurrentIndex(0)
        self.overdue.setChecked(False)
        self.search.clear()
        for w in (self.status, self.category, self.region, self.overdue, self.search):
            w.blockSignals(False)
        self._emit()

    def _emit(self) -> None:
        self.filter_changed.emit(self.current())

    def show_counts(self, counts: TaskCounts, shown: int) -> None:
        lang = current_lang()
        parts = [self.tr("Tasks: %1").replace("%1", str(shown))]
        if counts.overdue:
            parts.append(self.tr("overdue: %1").replace("%1", str(counts.overdue)))
        for st in TaskStatus:
            if counts.by_status.get(st.value):
                parts.append(f"{st.label(lang)} {counts.by_status[st.value]}")
        filtered = self.current() != TaskFilter()
        if filtered and shown == 0:
            parts.append(self.tr("no task matches these filters"))
        self.counts.setText(" · ".join(parts))
        self.clear.setVisible(filtered)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
