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
    # voicemail (firmware/pbx/voicemail.py)
    "vm_extension",
    "vm_unavailable",
    "vm_enter_pin",
    "vm_new",
    "vm_old",
    "vm_menu",
    "vm_after",
    "vm_deleted",
    "vm_no_more",
    "vm_record_greeting",
    "vm_new_pin",
)
"""Spoken builtins; ``digit_0`` ... ``digit_9`` and ``music`` come on top. Names take
``_`` or ``-`` alike (``builtin:please-hold`` is ``builtin:please_hold``)."""

DIGIT_NAMES = tuple(f"digit_{d}" for d in range(10))

MUSIC = "music"
"""The box's own hold and queue music: a tune synthesized by firmware/media/music.py."""
SYNTHS = (MUSIC, "beep", "ringback")
"""Builtins made, not spoken (firmware/media/music.py): the tune, the beep before a
recording (1 kHz, 300 ms), and one cycle of the country's ringback (for a caller the box
has answered while an extension rings; play it in a loop)."""

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
        "vm_extension": "The person at extension",
        "vm_unavailable": "is not available. Please leave a message after the tone.",
        "vm_enter_pin": "Please enter your mailbox PIN, then press pound.",
        "vm_new": "new messages.",
        "vm_old": "saved messages.",
        "vm_menu": ("Press one to listen, zero to record your greeting, eight to change "
                    "your PIN."),
        "vm_after": ("Press one to repeat, two for the next message, seven to delete, nine to "
                     "save, star to go back."),
        "vm_deleted": "Message deleted.",
        "vm_no_more": "No more messages.",
        "vm_record_greeting": "Record your greeting after the tone, then press pound.",
        "vm_new_pin": "Enter your new PIN, four to twelve digits, then press pound.",
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
        "vm_extension": "በቅጥያ ቁጥር",
        "vm_unavailable": "ያለው ሰው አሁን የለም። እባክዎ ከድምፁ በኋላ መልእክት ይተዉ።",
        "vm_enter_pin": "እባክዎ የሳጥንዎን ሚስጥር ቁጥር ያስገቡ፣ ከዚያ ፓውንድ ይጫኑ።",
        "vm_new": "አዲስ መልእክቶች።",
        "vm_old": "የተቀመጡ መልእክቶች።",
        "vm_menu": "ለማዳመጥ አንድን፣ ሰላምታዎን ለመቅረጽ ዜሮን ይጫኑ።",
        "vm_after": "ለመድገም አንድን፣ ለቀጣዩ ሁለትን፣ ለማጥፋት ሰባትን፣ ለማስቀመጥ ዘጠኝን፣ ለመመለስ ኮከብን ይጫኑ።",
        "vm_deleted": "መልእክቱ ጠፍቷል።",
        "vm_no_more": "ሌላ መልእክት የለም።",
        "vm_record_greeting": "ከድምፁ በኋላ ሰላምታዎን ይቅረጹ፣ ከዚያ ፓውንድ ይጫኑ።",
        "vm_new_pin": "አዲሱን ሚስጥር ቁጥርዎን ያስገቡ፣ ከዚያ ፓውንድ ይጫኑ።",
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
        "vm_extension": "Абонент номера",
        "vm_unavailable": "сейчас недоступен. Оставьте сообщение после сигнала.",
        "vm_enter_pin": "Введите ПИН-код почтового ящика и нажмите решётку.",
        "vm_new": "новых сообщений.",
        "vm_old": "сохранённых сообщений.",
        "vm_menu": ("Нажмите один для прослушивания, ноль для записи приветствия, "
                    "восемь для смены ПИН-кода."),
        "vm_after": ("Один повторить, два следующее, семь удалить, девять сохранить, звёздочка "
                     "назад."),
        "vm_deleted": "Сообщение удалено.",
        "vm_no_more": "Больше сообщений нет.",
        "vm_record_greeting": "Запишите приветствие после сигнала и нажмите решётку.",
        "vm_new_pin": "Введите новый ПИН-код, от четырёх до двенадцати цифр, и нажмите решётку.",
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
        "vm_extension": "Le correspondant du poste",
        "vm_unavailable": "n'est pas disponible. Laissez un message après le bip.",
        "vm_enter_pin": "Entrez le code de votre messagerie, puis dièse.",
        "vm_new": "nouveaux messages.",
        "vm_old": "messages enregistrés.",
        "vm_menu": ("Appuyez sur un pour écouter, zéro pour enregistrer votre annonce, "
                    "huit pour changer votre code."),
        "vm_after": ("Un pour réécouter, deux pour le message suivant, sept pour effacer, neuf "
                     "pour garder, étoile pour revenir."),
        "vm_deleted": "Message effacé.",
        "vm_no_more": "Plus de messages.",
        "vm_record_greeting": "Enregistrez votre annonce après le bip, puis appuyez sur dièse.",
        "vm_new_pin": "Entrez votre nouveau code, de quatre à douze chiffres, puis dièse.",
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
        "vm_extension": "Der Teilnehmer mit der Durchwahl",
        "vm_unavailable": "ist nicht erreichbar. Bitte sprechen Sie nach dem Ton.",
        "vm_enter_pin": "Bitte geben Sie die PIN Ihrer Mailbox ein, dann die Raute.",
        "vm_new": "neue Nachrichten.",
        "vm_old": "gespeicherte Nachrichten.",
        "vm_menu": ("Drücken Sie die Eins zum Abhören, die Null für Ihre Ansage, die Acht "
                    "für eine neue PIN."),
        "vm_after": ("Eins wiederholen, zwei nächste Nachricht, sieben löschen, neun "
                     "speichern, Stern zurück."),
        "vm_deleted": "Nachricht gelöscht.",
        "vm_no_more": "Keine weiteren Nachrichten.",
        "vm_record_greeting": "Sprechen Sie Ihre Ansage nach dem Ton, dann drücken Sie die Raute.",
        "vm_new_pin": "Geben Sie die neue PIN ein, vier bis zwölf Ziffern, dann die Raute.",
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
        "vm_extension": "एक्सटेंशन",
        "vm_unavailable": "पर व्यक्ति अभी उपलब्ध नहीं है। कृपया टोन के बाद संदेश छोड़ें।",
        "vm_enter_pin": "कृपया अपना मेलबॉक्स पिन डालें, फिर हैश दबाएँ।",
        "vm_new": "नए संदेश।",
        "vm_old": "सहेजे गए संदेश।",
        "vm_menu": "सुनने के लिए एक, अपना अभिवादन रिकॉर्ड करने के लिए शून्य दबाएँ।",
        "vm_after": ("दोहराने के लिए एक, अगले संदेश के लिए दो, मिटाने के लिए सात, सहेजने के "
                     "लिए नौ, वापस जाने के लिए स्टार दबाएँ।"),
        "vm_deleted": "संदेश मिटा दिया गया।",
        "vm_no_more": "और कोई संदेश नहीं।",
        "vm_record_greeting": "टोन के बाद अपना अभिवादन रिकॉर्ड करें, फिर हैश दबाएँ।",
        "vm_new_pin": "अपना नया पिन डालें, चार से बारह अंक, फिर हैश दबाएँ।",
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
        "vm_extension": "ないせん",
        "vm_unavailable": ("の かたは ただいま でられません。"
                           "はっしんおんの あとに メッセージを どうぞ。"),
        "vm_enter_pin": "あんしょうばんごうを にゅうりょくして、シャープを おしてください。",
        "vm_new": "けんの あたらしい メッセージ。",
        "vm_old": "けんの ほぞんされた メッセージ。",
        "vm_menu": "きくには いち、おうとうメッセージの ろくおんは ぜろを おしてください。",
        "vm_after": ("くりかえしは いち、"
                     "つぎは に、さくじょは なな、ほぞんは きゅう、もどるには こめじるし。"),
        "vm_deleted": "さくじょしました。",
        "vm_no_more": "メッセージは もう ありません。",
        "vm_record_greeting": ("はっしんおんの あとに おうとうメッセージを ろくおんして、"
                               "シャープを おしてください。"),
        "vm_new_pin": ("あたらしい あんしょうばんごうを にゅうりょくして、"
                       "シャープを おしてください。"),
        "digits": "ぜろ いち に さん よん ご ろく なな はち きゅう",
    },
}


def builtin_text(language: str, name: str) -> str:
    """The words of builtin ``name`` in ``language`` (KeyError if there are none)."""
    table = TEXTS[language]
    if name.startswith("digit_"):
        return table["digits"].split()[int(name[len("digit_"):])]
    return table[name]
