"""Photo widgets: a thumbnail strip that accepts dropped files, and a large viewer with EXIF."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QListWidget, QListWidgetItem, QSizePolicy, QVBoxLayout,
    QWidget,
)

from fieldapp.domain import PhotoKind
from fieldapp.models import Photo
from fieldapp.photos import PhotoStore
from ui.files import dropped_files
from ui.i18n import current_lang

class PhotoStrip(QListWidget):
    """Thumbnails of a finding's photos; drop image files on it to add them."""

    files_dropped = Signal(list)  # list[Path]
    photo_opened = Signal(object)  # Photo

    def __init__(self, photo_store: PhotoStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoStrip")
        self._store = photo_store
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(128, 128))
        self.setGridSize(QSize(150, 156))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWrapping(True)
        self.setWordWrap(True)
        self.setMinimumHeight(190)
        self.setAcceptDrops(True)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.itemActivated.connect(self._activated)
        self._photos: list[Photo] = []
        self._empty_text = ""

    def _activated(self, item: QListWidgetItem) -> None:
        self.photo_opened.emit(item.data(Qt.ItemDataRole.UserRole))

    def set_photos(self, photos: Sequence[Photo]) -> None:
        self._photos = list(photos)
        self.clear()
        lang = current_lang()
        for p in self._photos:
            try:
                icon = QIcon(QPixmap(str(self._store.thumbnail(p.sha256))))
            except Exception:  # a missing or damaged file must not hide the others
                icon = QIcon()
            when = p.taken_at.strftime("%m-%d %H:%M") if p.taken_at else ""
            item = QListWidgetItem(icon, f"{PhotoKind.label_of(p.kind, lang)} {when}".strip())
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p.original_name)
            self.addItem(item)

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.viewport().update()

    def paintEvent(self, event) -> None:  # noqa: ANN001
        super().paintEvent(event)
        if self.count() == 0 and self._empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._empty_text)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_files(event)
        if files:
            event.acceptProposedAction()
            self.files_dropped.emit(files)


VIEW_MAX = QSize(2000, 1500)  # larger than any screen area the viewer gets; decoding more is waste


class PhotoViewer(QDialog):
    """One photo large (EXIF orientation applied), with its time, GPS and origin."""

    def __init__(self, photo: Photo, photo_store: PhotoStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self.setWindowTitle(self.tr("Photo — %s") % photo.original_name)
        reader = QImageReader(str(photo_store.path(photo.sha256)))
        reader.setAutoTransform(True)  # EXIF orientation, without touching the original
        full = reader.size()
        if full.isValid() and (full.width() > VIEW_MAX.width() or full.height() > VIEW_MAX.height()):
            reader.setScaledSize(full.scaled(VIEW_MAX, Qt.AspectRatioMode.KeepAspectRatio))  # decode small
        image = reader.read()
        self._pixmap: QPixmap | None = None
        self.image_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        if image.isNull():
            self.image_label.setText(self.tr("The photo file cannot be shown: %s") % reader.errorString())
        else:
            self._pixmap = QPixmap.fromImage(image)
        self.image_label.setMinimumSize(320, 240)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        lang = current_lang()
        form = QFormLayout()
        none = self.tr("not recorded")
        self.time_value = QLabel(photo.taken_at.strftime("%Y-%m-%d %H:%M:%S") if photo.taken_at else none)
        self.gps_value = QLabel(f"{photo.latitude:.6f}, {photo.longitude:.6f}" if photo.latitude is not None else none)
        form.addRow(self.tr("Taken at (EXIF)"), self.time_value)
        form.addRow(self.tr("GPS (EXIF)"), self.gps_value)
        form.addRow(self.tr("Kind"), QLabel(PhotoKind.label_of(photo.kind, lang)))
        form.addRow(self.tr("Size"), QLabel(f"{photo.width} × {photo.height} · {photo.size / 1024:.0f} KB"))
        form.addRow(self.tr("File"), QLabel(photo.original_name))
        sha = QLabel(photo.sha256)
        sha.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("SHA-256", sha)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image_label, 1)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(1040, 860)

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - fit the whole photo, never enlarge it
        super().resizeEvent(event)
        pix = self._pixmap
        if pix is not None:
            box = self.image_label.size()
            if pix.width() > box.width() or pix.height() > box.height():
                pix = pix.scaled(box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            self.image_label.setPixmap(pix)
