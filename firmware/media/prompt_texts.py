"""The words of the box's own prompts (``builtin:NAME``), in each language it speaks.

espeak-ng speaks them at start-up or at commit into the prompt cache
(firmware/app/promptcache.py), never in the call path. Japanese is written in kana: the
espeak-ng 1.51 voice spells kanji out character by character. Digits are single words, so
``digits:NNN`` is a list of ``digit_N`` prompts spoken one by one.

To add a language: one more entry in TEXTS with every name of BUILTIN_NAMES and every
digit, and its espeak-ng voice in VOICES; the unit tests check both.
"""

from __future__ import annotations

BUILTIN_NAMES = (
    "welcome",
    "invalid",
    "please_hold",
    "all_busy",
    "closed",
    "goodbye",
    "callback_request",
    "position",
    "announcement",
    "press_1_to_confirm",
    "confirmed",
    "recording_notice",
)
"""Spoken builtins; ``digit_0`` ... ``digit_9`` and ``music`` come on top. Names take
``_`` or ``-`` alike (``builtin:please-hold`` is ``builtin:please_hold``)."""

DIGIT_NAMES = tuple(f"digit_{d}" for d in range(10))

MUSIC = "music"
"""The box's own hold and queue music: a tune synthesized by firmware/media/music.py."""

# Language code -> the espeak-ng voice that speaks it.
VOICES: dict[str, str] = {
    "en": "en", "am": "am", "ru": "ru", "fr": "fr", "de": "de", "hi": "hi", "ja": "ja",
}

# The main language of each country profile (firmware/dsp/countries/*.toml).
COUNTRY_LANGUAGE: dict[str, str] = {
    "us": "en", "uk": "en", "au": "en", "in": "hi", "de": "de", "fr": "fr", "ru": "ru",
    "jp": "ja", "et": "am",
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Welcome.",
        "invalid": "That choice is not valid.",
        "please_hold": "Please hold.",
        "all_busy": "All our lines are busy.",
        "closed": "Our office is closed now.",
        "goodbye": "Goodbye.",
        "callback_request": "Call-back request from",
        "position": "You are caller number",
        "announcement": "You have a message.",
        "press_1_to_confirm": "Press one to confirm.",
        "confirmed": "Thank you. Confirmed.",
        "recording_notice": "This call may be recorded.",
        "digits": "zero one two three four five six seven eight nine",
    },
    "am": {
        "welcome": "እንኳን ደህና መጡ።",
        "invalid": "ያቀረቡት ምርጫ ትክክል አይደለም።",
        "please_hold": "እባክዎ ይጠብቁ።",
        "all_busy": "ሁሉም መስመሮቻችን ተይዘዋል።",
        "closed": "ቢሮአችን አሁን ዝግ ነው።",
        "goodbye": "ደህና ይሁኑ።",
        "callback_request": "የመልሶ ጥሪ ጥያቄ ከ",
        "position": "የእርስዎ ተራ ቁጥር",
        "announcement": "መልእክት አለዎት።",
        "press_1_to_confirm": "ለማረጋገጥ አንድን ይጫኑ።",
        "confirmed": "እናመሰግናለን። ተረጋግጧል።",
        "recording_notice": "ይህ ጥሪ ሊቀረጽ ይችላል።",
        "digits": "ዜሮ አንድ ሁለት ሶስት አራት አምስት ስድስት ሰባት ስምንት ዘጠኝ",
    },
    "ru": {
        "welcome": "Добро пожаловать.",
        "invalid": "Неверный выбор.",
        "please_hold": "Пожалуйста, подождите.",
        "all_busy": "Все линии заняты.",
        "closed": "Офис сейчас закрыт.",
        "goodbye": "До свидания.",
        "callback_request": "Запрос обратного звонка с номера",
        "position": "Ваш номер в очереди",
        "announcement": "Для вас сообщение.",
        "press_1_to_confirm": "Нажмите один для подтверждения.",
        "confirmed": "Спасибо, подтверждено.",
        "recording_notice": "Этот разговор может быть записан.",
        "digits": "ноль один два три четыре пять шесть семь восемь девять",
    },
    "fr": {
        "welcome": "Bienvenue.",
        "invalid": "Ce choix n'est pas valide.",
        "please_hold": "Veuillez patienter.",
        "all_busy": "Toutes nos lignes sont occupées.",
        "closed": "Nos bureaux sont fermés.",
        "goodbye": "Au revoir.",
        "callback_request": "Demande de rappel du",
        "position": "Vous êtes l'appelant numéro",
        "announcement": "Vous avez un message.",
        "press_1_to_confirm": "Appuyez sur un pour confirmer.",
        "confirmed": "Merci, c'est confirmé.",
        "recording_notice": "Cet appel peut être enregistré.",
        "digits": "zéro un deux trois quatre cinq six sept huit neuf",
    },
    "de": {
        "welcome": "Willkommen.",
        "invalid": "Ungültige Auswahl.",
        "please_hold": "Bitte warten Sie.",
        "all_busy": "Alle Leitungen sind besetzt.",
        "closed": "Unser Büro ist jetzt geschlossen.",
        "goodbye": "Auf Wiederhören.",
        "callback_request": "Rückrufwunsch von",
        "position": "Sie sind Anrufer Nummer",
        "announcement": "Sie haben eine Nachricht.",
        "press_1_to_confirm": "Drücken Sie die Eins zur Bestätigung.",
        "confirmed": "Danke, bestätigt.",
        "recording_notice": "Dieses Gespräch kann aufgezeichnet werden.",
        "digits": "null eins zwei drei vier fünf sechs sieben acht neun",
    },
    "hi": {
        "welcome": "स्वागत है।",
        "invalid": "यह विकल्प मान्य नहीं है।",
        "please_hold": "कृपया प्रतीक्षा करें।",
        "all_busy": "हमारी सभी लाइनें व्यस्त हैं।",
        "closed": "हमारा कार्यालय अभी बंद है।",
        "goodbye": "धन्यवाद, नमस्ते।",
        "callback_request": "इस नंबर से कॉल बैक अनुरोध",
        "position": "आपका क्रमांक है",
        "announcement": "आपके लिए एक संदेश है।",
        "press_1_to_confirm": "पुष्टि के लिए एक दबाएँ।",
        "confirmed": "धन्यवाद, पुष्टि हो गई।",
        "recording_notice": "यह कॉल रिकॉर्ड की जा सकती है।",
        "digits": "शून्य एक दो तीन चार पाँच छह सात आठ नौ",
    },
    "ja": {
        "welcome": "ようこそ。",
        "invalid": "むこうな せんたくです。",
        "please_hold": "しょうしょう おまちください。",
        "all_busy": "ただいま かいせんが こみあっております。",
        "closed": "ただいま えいぎょうじかんがいです。",
        "goodbye": "しつれいいたします。",
        "callback_request": "おりかえし でんわの いらい、ばんごう",
        "position": "あなたの じゅんばんは",
        "announcement": "おしらせが あります。",
        "press_1_to_confirm": "かくにんするには いちを おしてください。",
        "confirmed": "ありがとうございます。かくにんしました。",
        "recording_notice": "この つうわは ろくおん される ことが あります。",
        "digits": "ぜろ いち に さん よん ご ろく なな はち きゅう",
    },
}


def builtin_text(language: str, name: str) -> str:
    """The words of builtin ``name`` in ``language`` (KeyError if there are none)."""
    table = TEXTS[language]
    if name.startswith("digit_"):
        return table["digits"].split()[int(name[len("digit_"):])]
    return table[name]
