"""Qt translations: our .qm from resources/translations plus Qt's own qtbase catalogue.

Source strings are English; zh_CN is the default language. `current_lang()` is what core
error messages (which carry both languages) are shown in.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from fieldapp.paths import resources_dir

LANGUAGES = {"zh_CN": "中文（简体）", "en": "English"}
DEFAULT_LANG = "zh_CN"

_state: dict[str, object] = {"lang": DEFAULT_LANG, "translators": []}


def current_lang() -> str:
    return str(_state["lang"])


def install(lang: str) -> None:
    """Switch the application's language; widgets retranslate on LanguageChange."""
    app = QCoreApplication.instance()
    assert app is not None
    for old in _state["translators"]:  # type: ignore[union-attr]
        app.removeTranslator(old)
    installed: list[QTranslator] = []
    lang = lang if lang in LANGUAGES else DEFAULT_LANG
    if lang != "en":
        ours = QTranslator(app)
        if ours.load(str(resources_dir() / "translations" / f"fieldapp_{lang}.qm")):
            installed.append(ours)
        qt = QTranslator(app)
        if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            installed.append(qt)
    for t in installed:
        app.installTranslator(t)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese if lang == "zh_CN" else QLocale.Language.English,
                               QLocale.Country.China if lang == "zh_CN" else QLocale.Country.UnitedStates))
    _state["lang"] = lang
    _state["translators"] = installed
