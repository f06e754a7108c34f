"""Photo evidence on disk: content-addressed, immutable, written crash-safely.

A photo's bytes are never changed. They are hashed (SHA-256), checked to be a decodable image
of sane size, written to tmp/, flushed, fsynced and renamed to `ab/abcdef…` — all before the
database row that points at them is committed. A crash therefore leaves at most an orphan
file (harmless, found by `fieldapp verify`), never a row without its file or a half file
under a real name. EXIF time, GPS and orientation are read; thumbnails are a cache.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from fieldapp.errors import DataDirUnwritable, FieldAppError, PhotoRejected, StorageFull, Text

MAX_FILE_BYTES = 64 * 1024 * 1024
# Phones reach 50 MP; beyond this a file is treated as a decompression bomb, not evidence.
MAX_PIXELS = 64_000_000
THUMB_SIZE = 256
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg",  # MPO: phone JPEGs with a depth/preview image
                     "PNG": "image/png", "WEBP": "image/webp",
                    "HEIF": "image/heif", "TIFF": "image/tiff", "BMP": "image/bmp"}

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
_ORIENTATION = 274


@dataclass(frozen=True)
class PhotoInfo:
    sha256: str
    size: int
    width: int
    height: int
    mime: str
    taken_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    orientation: int


def _rejected(name: str, zh: str, en: str) -> PhotoRejected:
    return PhotoRejected(en, name=name, reason=Text(zh, en))


def _ratio(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps(gps: dict) -> tuple[float | None, float | None]:
    try:
        lat = sum(_ratio(v) / 60**i for i, v in enumerate(gps[2]))
        lon = sum(_ratio(v) / 60**i for i, v in enumerate(gps[4]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return round(lat, 7), round(lon, 7)


def _exif_time(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(text).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def size_refusal(size: int, name: str, limit: int = MAX_FILE_BYTES) -> PhotoRejected | None:
    """Files above `limit` (ours, or the platform's when it accepts less) are refused, best
    before they are read."""
    limit = min(limit, MAX_FILE_BYTES)
    if size <= limit:
        return None
    mb, limit_mb = size / 1048576, limit / 1048576
    return _rejected(name, f"文件过大（{mb:.3g} MB），上限 {limit_mb:.3g} MB",
                     f"the file is too large ({mb:.3g} MB, limit {limit_mb:.3g} MB)")


def inspect_image(data: bytes, name: str) -> tuple[PhotoInfo, Image.Image]:
    """Check that `data` is a sane, decodable image; return its facts and a thumbnail."""
    refusal = size_refusal(len(data), name)
    if refusal:
        raise refusal
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or ""
            width, height = img.size
            if width * height > MAX_PIXELS:
                mp = width * height / 1e6
                raise _rejected(
                    name,
                    f"像素过大（{width}×{height}，约 {mp:.0f} 百万像素），上限 {MAX_PIXELS // 1_000_000} 百万像素。请降低分辨率后重新添加",
                    f"the image is too large ({width}×{height}, {mp:.0f} MP; limit {MAX_PIXELS // 1_000_000} MP). Reduce its resolution and add it again",
                )
            if fmt not in ACCEPTED_FORMATS:
                raise _rejected(name, f"不支持的图片格式 {fmt}", f"unsupported image format {fmt}")
            exif = img.getexif()
            if fmt in ("JPEG", "MPO"):
                img.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))
            thumb = ImageOps.exif_transpose(img)
            thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
            thumb = thumb.convert("RGB")
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own bomb check fires before ours above ~89 MP: say the same actionable thing.
        raise _rejected(
            name,
            f"像素过大（超过 {MAX_PIXELS // 1_000_000} 百万像素上限，或尺寸异常）。请降低分辨率后重新添加",
            f"the image is too large (over the {MAX_PIXELS // 1_000_000} MP limit, or its dimensions are absurd). Reduce its resolution and add it again",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise _rejected(name, "文件不是可识别的图片，或已损坏", "the file is not a readable image, or it is damaged") from exc

    exif_ifd = exif.get_ifd(_EXIF_IFD) if exif else {}
    taken = _exif_time(exif_ifd.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)) if exif else None
    lat, lon = _gps(exif.get_ifd(_GPS_IFD)) if exif else (None, None)
    orientation = int(exif.get(_ORIENTATION, 1)) if exif else 1
    info = PhotoInfo(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), width=width, height=height,
        mime=ACCEPTED_FORMATS[fmt], taken_at=taken, latitude=lat, longitude=lon,
        orientation=orientation if 1 <= orientation <= 8 else 1,
    )
    return info, thumb


def storage_error(exc: OSError, where: Path) -> FieldAppError:
    """A failed write, said as what the person can do about it."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DataDirUnwritable(str(exc), path=where, reason=exc.strerror or exc)
    return StorageFull(str(exc))  # ENOSPC, EDQUOT, EFBIG, and I/O errors of a failing disk


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PhotoStore:
    """The photos/ folder: originals by hash, thumbnails, and a tmp/ for writes in flight."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.thumbs = root / "thumbs"
        for d in (self.root, self.tmp, self.thumbs):
            d.mkdir(parents=True, exist_ok=True)
        self.clean_tmp()

    def clean_tmp(self) -> int:
        """Remove writes a crash left half done; they were never referenced."""
        removed = 0
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def thumb_path(self, sha256: str) -> Path:
        return self.thumbs / f"{sha256}-{THUMB_SIZE}.jpg"

    def _atomic_write(self, target: Path, data: bytes) -> None:
        tmp = self.tmp / f"{uuid.uuid4().hex}.part"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if not target.parent.exists():
                target.parent.mkdir()
                _fsync_dir(target.parent.parent)  # the new folder's entry must be durable too
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise storage_error(exc, self.root) from exc

    def put(self, data: bytes, name: str) -> PhotoInfo:
        """Validate and store `data`; the file is durable when this returns."""
        info, thumb = inspect_image(data, name)
        target = self.path(info.sha256)
        if self.verify_file(info.sha256) is not None:  # absent, or damaged: (re)write it
            self._atomic_write(target, data)
        thumb_target = self.thumb_path(info.sha256)
        if not thumb_target.exists():
            buf = io.BytesIO()
            thumb.save(buf, "JPEG", quality=85)
            self._atomic_write(thumb_target, buf.getvalue())
        return info

    def thumbnail(self, sha256: str) -> Path:
        """The cached thumbnail, made again if the cache was cleared."""
        target = self.thumb_path(sha256)
        if not target.exists():
            data = self.path(sha256).read_bytes()
            _info, thumb = inspect_image(data, sha256)
            buf = io.BytesIO()
            thumb.save(buf, "JPEG", quality=85)
            self._atomic_write(target, buf.getvalue())
        return target

    def verify_file(self, sha256: str) -> str | None:
        """None when the file is there and intact, else what is wrong."""
        path = self.path(sha256)
        if not path.exists():
            return "missing"
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return None if h.hexdigest() == sha256 else "content does not match its hash"

    def stored_hashes(self) -> set[str]:
        return {p.name for p in self.root.glob("[0-9a-f][0-9a-f]/*") if len(p.name) == 64}
