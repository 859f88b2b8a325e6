"""Why an outgoing act refused an action, in the words of the catalogs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from warehouse.services import stock


class ShippingError(Exception):
    """The action was refused and nothing was written; `reason` keys the message."""

    def __init__(self, reason: str, **args: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args

    def message(self, lang: str = "ru") -> str:
        return _say(self.reason, lang, self.args_)


def _say(reason: str, lang: str, args: Mapping[str, str]) -> str:
    return stock.say(MESSAGES.get(reason) or stock.MESSAGES.get(reason), reason, lang, args)


MESSAGES: Final[dict[str, dict[str, str]]] = {
    # the act
    "no_act": {"ru": "Акт не найден", "kk": "Акт табылмады", "en": "Act not found"},
    "not_outgoing": {"ru": "Это не акт отгрузки", "kk": "Бұл жөнелту актісі емес", "en": "This is not an outgoing act"},
    "not_draft": {
        "ru": "Акт уже подписан: менять его состав нельзя",
        "kk": "Актіге қол қойылған: құрамын өзгертуге болмайды",
        "en": "The act is signed: what it holds can no longer change",
    },
    "bad_bin": {
        "ru": "БИН/ИИН {bin} неверен: нужно 12 цифр с верной контрольной цифрой",
        "kk": "БСН/ЖСН {bin} қате: бақылау цифры дұрыс 12 цифр керек",
        "en": "БИН/ИИН {bin} is not valid: 12 digits with a correct check digit are needed",
    },
    "no_name": {
        "ru": "Укажите наименование получателя",
        "kk": "Алушының атауын көрсетіңіз",
        "en": "Enter the receiver's name",
    },
    "own_bin": {
        "ru": "Получатель — сама компания: укажите БИН/ИИН получателя",
        "kk": "Алушы — компанияның өзі: алушының БСН/ЖСН көрсетіңіз",
        "en": "The receiver is our own company: enter the receiver's БИН/ИИН",
    },
    "no_company": {
        "ru": "Не заданы наименование и БИН компании-отправителя (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
        "kk": "Жөнелтуші компанияның атауы мен БСН көрсетілмеген (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
        "en": "The sending company's name and БИН are not configured (WAREHOUSE_COMPANY_NAME, WAREHOUSE_COMPANY_BIN)",
    },
    "bad_company_bin": {
        "ru": "БИН компании-отправителя {bin} неверен: проверьте WAREHOUSE_COMPANY_BIN",
        "kk": "Жөнелтуші компанияның БСН {bin} қате: WAREHOUSE_COMPANY_BIN тексеріңіз",
        "en": "The sending company's БИН {bin} is not valid: check WAREHOUSE_COMPANY_BIN",
    },
    "bad_basis": {
        "ru": "Документ-основание: нужны тип, номер и дата ГГГГ-ММ-ДД ({value})",
        "kk": "Негіздеме құжаты: түрі, нөмірі және ЖЖЖЖ-АА-КК күні керек ({value})",
        "en": "Basis document: a type, a number and a YYYY-MM-DD date are needed ({value})",
    },
    "bad_turnover": {
        "ru": "Неизвестный вид оборота: {value}",
        "kk": "Белгісіз айналым түрі: {value}",
        "en": "Unknown turnover type: {value}",
    },
    "bad_price": {
        "ru": "Цена — целое число тиынов не меньше нуля, для блока или пачки с GTIN из 14 цифр",
        "kk": "Баға — нөлден кем емес тиынның бүтін саны, 14 цифрлы GTIN бар блок не қорап үшін",
        "en": "A price is a whole number of tiyn, not negative, for a block or a pack of a 14-digit GTIN",
    },
    "empty_act": {
        "ru": "В акте нет ни одного кода: подписывать нечего",
        "kk": "Актіде бірде-бір код жоқ: қол қоятын ештеңе жоқ",
        "en": "The act holds no code: there is nothing to sign",
    },
    "too_big": {
        "ru": "{level} {code} содержит {count} кодов, а в документ входит не больше {max}: вскройте его",
        "kk": "{level} {code} ішінде {count} код, ал құжатқа {max} кодтан аспайды: оны ашыңыз",
        "en": "{level} {code} holds {count} codes, more than the {max} a document carries: open it",
    },
    "not_signed": {
        "ru": "Акт ещё не подписан",
        "kk": "Актіге әлі қол қойылмаған",
        "en": "The act is not signed yet",
    },
    "bad_format": {
        "ru": "Формат выгрузки: .json, .csv или .xlsx",
        "kk": "Жүктеу форматы: .json, .csv немесе .xlsx",
        "en": "Export as .json, .csv or .xlsx",
    },
    "changed": stock.MESSAGES["changed"],
    # scanning
    "added": {
        "ru": "Добавлено: {level} {code}{inside}",
        "kk": "Қосылды: {level} {code}{inside}",
        "en": "Added: {level} {code}{inside}",
    },
    "removed": {
        "ru": "Убрано из акта: {level} {code}{inside}",
        "kk": "Актіден алынды: {level} {code}{inside}",
        "en": "Taken off the act: {level} {code}{inside}",
    },
    "empty": {"ru": "Пустое сканирование", "kk": "Бос сканерлеу", "en": "Empty scan"},
    "invalid": {
        "ru": "Код не распознан: {error}",
        "kk": "Код танылмады: {error}",
        "en": "Code not recognised: {error}",
    },
    "product": {
        "ru": "Это штрихкод товара: сканируйте Data Matrix",
        "kk": "Бұл тауардың штрихкоды: Data Matrix-ті сканерлеңіз",
        "en": "This is the product barcode: scan the Data Matrix",
    },
    "not_in_stock": stock.MESSAGES["not_in_stock"],
    "already_shipped": {
        "ru": "Уже отгружен по акту {act}: {level} {code}",
        "kk": "{act} актісімен жөнелтілген: {level} {code}",
        "en": "Already shipped with act {act}: {level} {code}",
    },
    "on_other_draft": {
        "ru": "Уже в другом акте отгрузки {act}: {level} {code}",
        "kk": "Басқа жөнелту актісінде тұр {act}: {level} {code}",
        "en": "Already on another outgoing act {act}: {level} {code}",
    },
    "on_this_act": {
        "ru": "Уже в этом акте: {level} {code}",
        "kk": "Осы актіде бар: {level} {code}",
        "en": "Already on this act: {level} {code}",
    },
    "inside_on_this_act": {
        "ru": "Уже в этом акте в составе {parent_level} {parent}",
        "kk": "Осы актіде {parent_level} {parent} құрамында бар",
        "en": "Already on this act inside {parent_level} {parent}",
    },
    "inside_aggregate": {
        "ru": "{level} {code} лежит в {parent_level} {parent}: вскройте его или отгрузите целиком",
        "kk": "{level} {code} {parent_level} {parent} ішінде: оны ашыңыз немесе толығымен жөнелтіңіз",
        "en": "{level} {code} is inside {parent_level} {parent}: open it first or ship it whole",
    },
    "opened": {
        "ru": "{level} {code} вскрыт: сканируйте его содержимое",
        "kk": "{level} {code} ашылған: ішіндегісін сканерлеңіз",
        "en": "{level} {code} was opened: scan what was inside it",
    },
    "not_on_act": {
        "ru": "Этого кода нет в акте: {code}",
        "kk": "Бұл код актіде жоқ: {code}",
        "en": "This code is not on the act: {code}",
    },
    "remove_parent": {
        "ru": "{level} {code} в акте в составе {parent_level} {parent}: уберите его целиком",
        "kk": "{level} {code} актіде {parent_level} {parent} құрамында: соны толығымен алыңыз",
        "en": "{level} {code} is on the act inside {parent_level} {parent}: take that off whole",
    },
    # the receiver's acceptance
    "not_acceptance": {
        "ru": "Файл не является документом приёмки transfer-act-acceptance/1",
        "kk": "Файл transfer-act-acceptance/1 қабылдау құжаты емес",
        "en": "The file is not a transfer-act-acceptance/1 document",
    },
    "wrong_act": {
        "ru": "Документ приёмки относится к акту {number} от {date}, а не к этому",
        "kk": "Қабылдау құжаты осы актіге емес, {date} күнгі {number} актіге қатысты",
        "en": "The acceptance is for act {number} of {date}, not this one",
    },
    "unknown_code": {
        "ru": "В документе приёмки код, которого нет в этом акте: {code}",
        "kk": "Қабылдау құжатында осы актіде жоқ код бар: {code}",
        "en": "The acceptance lists a code that is not on this act: {code}",
    },
    "already_applied": {
        "ru": "Эта часть приёмки уже применена",
        "kk": "Қабылдаудың бұл бөлігі қолданылған",
        "en": "This part of the acceptance has already been applied",
    },
    "act_closed": {
        "ru": "По акту уже получен ответ получателя",
        "kk": "Акт бойынша алушының жауабы алынған",
        "en": "The receiver's answer to this act is already in",
    },
    "wrong_signer": {
        "ru": "Документ подписан организацией с БИН {bin}, а получатель — {receiver}",
        "kk": "Құжатқа БСН {bin} ұйымы қол қойған, ал алушы — {receiver}",
        "en": "The document is signed by the organisation with БИН {bin}, but the receiver is {receiver}",
    },
    "other_file": {
        "ru": "Получатель принял не подписанный JSON, а другую выгрузку этого акта",
        "kk": "Алушы қол қойылған JSON емес, осы актінің басқа жүктемесін қабылдаған",
        "en": "The receiver imported another export of this act, not the signed JSON",
    },
}
