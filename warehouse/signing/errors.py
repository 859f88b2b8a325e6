"""`SigningError` and the words for every reason a signature is refused or flagged, in ru, kk and en.

Reasons are stable identifiers: the CLI prints them, the web layer maps them to messages, and
`Verification.problems` / `.warnings` carry them. Add a reason here before raising it anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from warehouse.signing.certs import CertificateInfo

__all__ = ["MESSAGES", "SigningError", "message"]

MESSAGES: Final[dict[str, dict[str, str]]] = {
    # loading a key
    "wrong_password": {
        "ru": "Неверный пароль к файлу ключа. Проверьте раскладку клавиатуры и Caps Lock.",
        "kk": "Кілт файлының құпиясөзі қате. Пернетақта тілін және Caps Lock пернесін тексеріңіз.",
        "en": "Wrong password for the key file. Check the keyboard layout and Caps Lock.",
    },
    "gost_key": {
        "ru": "Это ключ ГОСТ: им можно подписать только через NCALayer. "
        "Выберите «Подписать через NCALayer» и укажите этот файл в окне NCALayer.",
        "kk": "Бұл ГОСТ кілті: онымен тек NCALayer арқылы қол қоюға болады. "
        "«NCALayer арқылы қол қою» тармағын таңдап, осы файлды NCALayer терезесінде көрсетіңіз.",
        "en": "This is a GOST key: it can only sign through NCALayer. "
        "Choose “Sign with NCALayer” and pick this file in the NCALayer window.",
    },
    "auth_key": {
        "ru": "Это ключ для входа (AUTH_…), им нельзя подписывать документы. "
        "Выберите ключ для подписи (RSA256_… или GOSTKNCA_…).",
        "kk": "Бұл жүйеге кіруге арналған кілт (AUTH_…), онымен құжаттарға қол қоюға болмайды. "
        "Қол қоюға арналған кілтті таңдаңыз (RSA256_… немесе GOSTKNCA_…).",
        "en": "This is a login key (AUTH_…); it cannot sign documents. Choose a signing key (RSA256_… or GOSTKNCA_…).",
    },
    "not_a_key_file": {
        "ru": "Файл не является ключом PKCS#12 (.p12).",
        "kk": "Бұл файл PKCS#12 (.p12) кілті емес.",
        "en": "The file is not a PKCS#12 (.p12) key.",
    },
    "no_key": {
        "ru": "В файле нет закрытого ключа вместе с его сертификатом.",
        "kk": "Файлда жабық кілт пен оның сертификаты жоқ.",
        "en": "The file holds no private key together with its certificate.",
    },
    "unsupported_key": {
        "ru": "Этот тип ключа здесь не поддерживается; подпишите через NCALayer.",
        "kk": "Бұл кілт түріне мұнда қолдау көрсетілмейді; NCALayer арқылы қол қойыңыз.",
        "en": "This kind of key is not supported here; sign through NCALayer.",
    },
    # the certificate
    "expired": {
        "ru": "Срок действия сертификата истёк.",
        "kk": "Сертификаттың қолданылу мерзімі өтіп кеткен.",
        "en": "The certificate has expired.",
    },
    "not_yet_valid": {
        "ru": "Сертификат ещё не вступил в действие.",
        "kk": "Сертификат әлі күшіне енген жоқ.",
        "en": "The certificate is not valid yet.",
    },
    "revoked": {
        "ru": "Сертификат отозван удостоверяющим центром.",
        "kk": "Сертификатты куәландырушы орталық кері шақырып алған.",
        "en": "The certificate has been revoked by the certification authority.",
    },
    "untrusted": {
        "ru": "Сертификат подписанта выдан не доверенным удостоверяющим центром.",
        "kk": "Қол қоюшының сертификатын сенімді куәландырушы орталық бермеген.",
        "en": "The signer's certificate was not issued by a trusted certification authority.",
    },
    "no_trusted_ca": {
        "ru": "Не задан ни один доверенный сертификат УЦ (--ca или WAREHOUSE_TRUSTED_CA).",
        "kk": "Бірде-бір сенімді КО сертификаты көрсетілмеген (--ca немесе WAREHOUSE_TRUSTED_CA).",
        "en": "No trusted CA certificate is configured (--ca or WAREHOUSE_TRUSTED_CA).",
    },
    "revocation_unchecked": {
        "ru": "Отзыв сертификата не проверен: нет списка отозванных сертификатов (CRL) этого УЦ.",
        "kk": "Сертификаттың кері шақырылуы тексерілмеді: осы КО-ның кері шақырылған сертификаттар тізімі (CRL) жоқ.",
        "en": "Revocation was not checked: no CRL of this certification authority was given.",
    },
    "crl_outdated": {
        "ru": "Список отозванных сертификатов (CRL) устарел.",
        "kk": "Кері шақырылған сертификаттар тізімі (CRL) ескірген.",
        "en": "The certificate revocation list (CRL) is out of date.",
    },
    "crl_invalid": {
        "ru": "Подпись списка отозванных сертификатов (CRL) не прошла проверку; список не использован.",
        "kk": "Кері шақырылған сертификаттар тізімінің (CRL) қолтаңбасы тексеруден өтпеді; тізім қолданылмады.",
        "en": "The CRL's own signature did not verify; the list was ignored.",
    },
    # the signature
    "bad_signature": {
        "ru": "Подпись недействительна: документ или подпись были изменены.",
        "kk": "Қолтаңба жарамсыз: құжат немесе қолтаңба өзгертілген.",
        "en": "The signature is invalid: the document or the signature was altered.",
    },
    "content_mismatch": {
        "ru": "Подпись относится к другому документу: содержимое не совпадает.",
        "kk": "Қолтаңба басқа құжатқа қойылған: мазмұны сәйкес келмейді.",
        "en": "The signature belongs to another document: the content does not match.",
    },
    "not_cms": {
        "ru": "Файл подписи повреждён или не является подписью CMS (.p7s).",
        "kk": "Қолтаңба файлы бүлінген немесе CMS (.p7s) қолтаңбасы емес.",
        "en": "The signature file is damaged or is not a CMS (.p7s) signature.",
    },
    "signer_not_found": {
        "ru": "В подписи нет сертификата подписанта.",
        "kk": "Қолтаңбада қол қоюшының сертификаты жоқ.",
        "en": "The signature does not contain the signer's certificate.",
    },
    "multiple_signers": {
        "ru": "В подписи несколько подписантов, а ожидается один.",
        "kk": "Қолтаңбада бірнеше қол қоюшы бар, ал біреу болуы керек.",
        "en": "The signature has several signers; exactly one is expected.",
    },
    "unsupported_algorithm": {
        "ru": "Алгоритм подписи не поддерживается.",
        "kk": "Қолтаңба алгоритміне қолдау көрсетілмейді.",
        "en": "The signature algorithm is not supported.",
    },
    "gost_unsupported": {
        "ru": "Подпись ГОСТ нельзя проверить без NCANode: настройте NCANode для проверки таких подписей.",
        "kk": "ГОСТ қолтаңбасын NCANode-сыз тексеру мүмкін емес: мұндай қолтаңбаларды тексеру үшін "
        "NCANode-ты баптаңыз.",
        "en": "A GOST signature cannot be checked without NCANode: configure NCANode to verify it.",
    },
    "chain_unchecked": {
        "ru": "Цепочку сертификата ГОСТ здесь проверить нельзя; её проверит NCANode или оператор.",
        "kk": "ГОСТ сертификатының тізбегін мұнда тексеру мүмкін емес; оны NCANode немесе оператор тексереді.",
        "en": "The GOST certificate chain cannot be checked here; NCANode or the operator will check it.",
    },
    "signer_mismatch": {
        "ru": "Документ назван подписанным другим сертификатом, чем тот, которым он подписан.",
        "kk": "Құжатта көрсетілген сертификат оған қол қойылған сертификатпен сәйкес келмейді.",
        "en": "The document names another certificate than the one that signed it.",
    },
    "verified_by_ncanode": {
        "ru": "Подпись ГОСТ проверена сервисом NCANode.",
        "kk": "ГОСТ қолтаңбасын NCANode қызметі тексерді.",
        "en": "The GOST signature was checked by NCANode.",
    },
    "trust_file": {
        "ru": "Не удалось прочитать файл сертификата УЦ или списка отзыва (CRL) из настроек.",
        "kk": "Баптаулардағы КО сертификатының немесе кері шақыру тізімінің (CRL) файлын оқу мүмкін болмады.",
        "en": "A configured CA certificate or CRL file could not be read.",
    },
    # the act and the signing session
    "no_act": {
        "ru": "Акт не найден.",
        "kk": "Акт табылмады.",
        "en": "Act not found.",
    },
    "act_not_decided": {
        "ru": "Подписать можно только принятое решение: сначала завершите приёмку и примите решение.",
        "kk": "Тек қабылданған шешімге қол қоюға болады: алдымен қабылдауды аяқтап, шешім қабылдаңыз.",
        "en": "Only a recorded decision can be signed: end receiving and record the decision first.",
    },
    "already_signed": {
        "ru": "Решение по этому акту уже подписано.",
        "kk": "Бұл акт бойынша шешімге қол қойылған.",
        "en": "The decision on this act is already signed.",
    },
    "signature_count": {
        "ru": "Подписаны не все части документа. Подпишите заново.",
        "kk": "Құжаттың барлық бөліктеріне қол қойылмаған. Қайта қол қойыңыз.",
        "en": "Not every part of the document was signed. Sign again.",
    },
    "stale_document": {
        "ru": "Документ для подписи устарел. Откройте страницу подписи заново.",
        "kk": "Қол қоюға арналған құжат ескірген. Қол қою бетін қайта ашыңыз.",
        "en": "The document to sign is out of date. Open the signing page again.",
    },
    "certificate_not_shown": {
        "ru": "Проверьте сертификат перед подписью: нажмите «Показать сертификат».",
        "kk": "Қол қоймас бұрын сертификатты тексеріңіз: «Сертификатты көрсету» батырмасын басыңыз.",
        "en": "Check the certificate before signing: press “Show the certificate”.",
    },
    "no_key_file": {
        "ru": "Выберите файл ключа (.p12).",
        "kk": "Кілт файлын (.p12) таңдаңыз.",
        "en": "Choose the key file (.p12).",
    },
    "password_file": {
        "ru": "Не удалось прочитать файл с паролем.",
        "kk": "Құпиясөз файлын оқу мүмкін болмады.",
        "en": "The password file could not be read.",
    },
    "output_exists": {
        "ru": "Файлы с таким именем уже есть; укажите другой --out или --force.",
        "kk": "Мұндай атаулы файлдар бар; басқа --out немесе --force көрсетіңіз.",
        "en": "Files with that name already exist; choose another --out or pass --force.",
    },
    "not_acceptance": {
        "ru": "Файл документа не является документом приёмки transfer-act-acceptance/1.",
        "kk": "Құжат файлы transfer-act-acceptance/1 қабылдау құжаты емес.",
        "en": "The document file is not a transfer-act-acceptance/1 document.",
    },
    # NCANode
    "ncanode_unavailable": {
        "ru": "Сервис NCANode недоступен.",
        "kk": "NCANode қызметі қолжетімсіз.",
        "en": "The NCANode service is not reachable.",
    },
    "ncanode_error": {
        "ru": "Сервис NCANode вернул ошибку.",
        "kk": "NCANode қызметі қате қайтарды.",
        "en": "The NCANode service returned an error.",
    },
}

_LANGS: Final = ("ru", "kk", "en")


def message(reason: str, lang: str = "en") -> str:
    """The sentence a person reads for `reason`; unknown reasons fall back to the reason itself."""
    words = MESSAGES.get(reason)
    if words is None:
        return reason
    return words[lang if lang in _LANGS else "en"]


class SigningError(Exception):
    """A key cannot sign, or a signature cannot be checked, for a stable `reason` (see MESSAGES).

    `detail` is technical text for logs (never a password); `certificate` is set when the
    certificate was readable, so the page can still say whose key it was.
    """

    def __init__(self, reason: str, detail: str | None = None, *, certificate: CertificateInfo | None = None) -> None:
        if reason not in MESSAGES:
            raise ValueError(f"unknown signing reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.certificate = certificate

    def message(self, lang: str = "en") -> str:
        return message(self.reason, lang)
