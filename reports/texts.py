"""Every fixed text of the reports in Russian, Kazakh and English, in one place.

One frozen dataclass per language: mypy and the constructor make sure no language lacks a text.
Words for closed sets (levels, discrepancy kinds, decisions, reasons, statuses) are mappings; a value
that has no word (a new status from the operator, say) is shown as it is rather than hidden.
The Kazakh words follow the application's own catalog (warehouse/translations/kk).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from reports.errors import ReportError

Lang = Literal["ru", "kk", "en"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")


@dataclass(frozen=True)
class Texts:
    # document titles
    acceptance_title: str
    discrepancy_title: str
    labels_title: str
    outgoing_title: str
    codes_title: str
    act_ref: str  # {number} {date}
    page: str  # {n}; the total page count is drawn right after this text
    # act header
    act_number: str
    act_date: str
    sender: str
    receiver: str
    bin: str
    iin: str
    basis: str
    turnover: str
    status: str
    mode: str
    none: str
    # summary by GTIN
    summary_title: str
    gtin: str
    product: str
    level: str
    expected: str
    credited: str
    difference: str
    price: str
    amount: str
    quantity: str
    shipped_amount: str
    total: str
    total_level: str  # {level}
    # decision
    decision_title: str
    decision: str
    no_decision: str
    reason_codes: str
    comment: str
    decided_by: str
    decided_at: str
    # signature
    signature_title: str
    signer: str
    organisation: str
    fingerprint: str
    signed_at: str
    not_signed: str
    handed_over: str
    received_by: str
    sign_line: str
    # discrepancy notice
    number: str
    discrepancy: str
    code: str
    reason: str
    reason_comment: str
    in_aggregate: str  # {level} {code}
    no_aggregate: str
    group_total: str  # {n}
    totals_title: str
    no_discrepancies: str
    # outgoing act
    codes_section: str
    aggregate: str
    code_status: str
    # labels
    # workbook
    sheet_notes: str
    sheet_summary: str
    sheet_discrepancies: str
    col_code_hri: str
    col_code_exact: str
    col_parent_exact: str
    col_parent_level: str
    notes: tuple[str, ...]
    # closed sets
    levels: Mapping[str, str]
    levels_plural: Mapping[str, str]
    kinds: Mapping[str, str]
    decisions: Mapping[str, str]
    reasons: Mapping[str, str]
    statuses: Mapping[str, str]
    modes: Mapping[str, str]
    turnovers: Mapping[str, str]
    basis_types: Mapping[str, str]


RU = Texts(
    acceptance_title="Акт приёмки",
    discrepancy_title="Уведомление о расхождениях",
    labels_title="Этикетки агрегатов",
    outgoing_title="Акт приёма-передачи",
    codes_title="Коды маркировки по акту",
    act_ref="Акт № {number} от {date}",
    page="Страница {n} из ",
    act_number="Номер акта",
    act_date="Дата акта",
    sender="Отправитель",
    receiver="Получатель",
    bin="БИН",
    iin="ИИН",
    basis="Основание",
    turnover="Вид оборота",
    status="Статус акта",
    mode="Режим приёмки",
    none="—",
    summary_title="Сводка по GTIN и уровням",
    gtin="GTIN",
    product="Наименование",
    level="Уровень",
    expected="Ожидалось",
    credited="Принято",
    difference="Разница",
    price="Цена, ₸",
    amount="Сумма принятого, ₸",
    quantity="Количество",
    shipped_amount="Сумма, ₸",
    total="Итого",
    total_level="Итого, {level}",
    decision_title="Решение",
    decision="Решение",
    no_decision="Решение не принято",
    reason_codes="Коды причин",
    comment="Комментарий",
    decided_by="Решение принял",
    decided_at="Дата решения",
    signature_title="Электронная цифровая подпись",
    signer="Подписант",
    organisation="Организация",
    fingerprint="Отпечаток сертификата (SHA-256)",
    signed_at="Дата подписи",
    not_signed="Документ не подписан ЭЦП.",
    handed_over="Сдал",
    received_by="Принял",
    sign_line="подпись, Ф. И. О.",
    number="№",
    discrepancy="Расхождение",
    code="Код",
    reason="Причина",
    reason_comment="Причина, комментарий",
    in_aggregate="В составе: {level} {code}",
    no_aggregate="Вне агрегатов",
    group_total="Итого по агрегату: {n}",
    totals_title="Итого расхождений",
    no_discrepancies="Расхождений нет.",
    codes_section="Коды маркировки",
    aggregate="Агрегат",
    code_status="Статус",
    sheet_notes="Пояснения",
    sheet_summary="Сводка",
    sheet_discrepancies="Расхождения",
    col_code_hri="Код (HRI)",
    col_code_exact="Код (точно, ␝ = GS)",
    col_parent_exact="Агрегат (точно, ␝ = GS)",
    col_parent_level="Уровень агрегата",
    notes=(
        "Столбец «Код (точно, ␝ = GS)» содержит код в точности как он хранится; невидимый разделитель GS "
        "(0x1D) показан символом ␝ (U+241D): в ячейке Excel управляющий символ храниться не может. "
        "Чтобы получить исходный код, замените ␝ на символ GS.",
        "Столбец «Код (HRI)» — человекочитаемая форма GS1 (01)…(21)…(8005)…(93)… для кодов блоков и "
        "SSCC; символ «(» внутри значения записан как «\\(», «\\» — как «\\\\». У кодов пачек и "
        "нестандартных кодов агрегатов формы HRI нет, столбец пуст.",
        "Все значения записаны как текст: ячейки, начинающиеся с =, +, - или @, не являются формулами.",
        "Если строк больше, чем помещается на лист (1 048 576), список продолжается на листе с тем же "
        "именем и номером в скобках.",
    ),
    levels={"pallet": "паллета", "box": "короб", "block": "блок", "pack": "пачка"},
    levels_plural={"pallet": "Паллеты", "box": "Короба", "block": "Блоки", "pack": "Пачки"},
    kinds={
        "missing": "Отсутствует",
        "surplus": "Излишек",
        "duplicate": "Дубликат",
        "foreign": "Из другого акта",
        "wrong_product": "Чужой товар",
        "invalid": "Не код маркировки",
    },
    decisions={
        "accepted": "Принят",
        "accepted_with_discrepancies": "Принят с расхождениями",
        "rejected": "Отклонён",
    },
    reasons={
        "shortage": "недостача",
        "damage": "повреждение",
        "surplus": "излишек",
        "wrong_product": "чужой товар",
        "mis_sorted": "пересортица",
        "not_scanned": "не отсканирован",
        "already_scanned": "уже отсканирован",
        "inside_credited": "уже учтён в составе агрегата",
        "not_in_act": "нет в акте",
        "other_act": "из другого акта",
        "gtin_not_in_act": "GTIN нет в акте",
        "unreadable": "код не распознан",
    },
    statuses={
        "new": "новый",
        "receiving": "приёмка",
        "closed": "ждёт решения",
        "decided": "решение принято",
        "signed": "подписан",
        "draft": "черновик",
        "sent": "отправлен",
        "credited": "принят",
        "missing": "отсутствует",
        "expected": "ожидается",
        "surplus": "излишек",
        "EMITTED": "эмитирован",
        "APPLIED": "нанесён",
        "INTRODUCED": "в обороте",
        "WRITTEN_OFF": "списан",
        "WITHDRAWN": "выбыл",
        "DISAGGREGATED": "расформирован",
    },
    modes={"trusted": "доверительный", "full_check": "полная проверка"},
    turnovers={"sale": "продажа", "return": "возврат", "transfer": "перемещение"},
    basis_types={"ESF": "ЭСФ", "SNT": "СНТ"},
)

KK = Texts(
    acceptance_title="Қабылдау актісі",
    discrepancy_title="Сәйкессіздіктер туралы хабарлама",
    labels_title="Агрегаттардың затбелгілері",
    outgoing_title="Қабылдау-тапсыру актісі",
    codes_title="Акт бойынша таңбалау кодтары",
    act_ref="{date} күнгі № {number} акт",
    page="Бет {n} / ",
    act_number="Акт нөмірі",
    act_date="Акт күні",
    sender="Жөнелтуші",
    receiver="Алушы",
    bin="БСН",
    iin="ЖСН",
    basis="Негіздеме",
    turnover="Айналым түрі",
    status="Акт мәртебесі",
    mode="Қабылдау режимі",
    none="—",
    summary_title="GTIN және деңгейлер бойынша жиынтық",
    gtin="GTIN",
    product="Атауы",
    level="Деңгей",
    expected="Күтілген",
    credited="Қабылданды",
    difference="Айырма",
    price="Бағасы, ₸",
    amount="Қабылданғанның сомасы, ₸",
    quantity="Саны",
    shipped_amount="Сомасы, ₸",
    total="Барлығы",
    total_level="Барлығы, {level}",
    decision_title="Шешім",
    decision="Шешім",
    no_decision="Шешім қабылданбаған",
    reason_codes="Себеп кодтары",
    comment="Түсініктеме",
    decided_by="Шешім қабылдаған",
    decided_at="Шешім күні",
    signature_title="Электрондық цифрлық қолтаңба",
    signer="Қол қоюшы",
    organisation="Ұйым",
    fingerprint="Сертификаттың SHA-256 хэші",
    signed_at="Қол қойылған күні",
    not_signed="Құжатқа ЭЦҚ қойылмаған.",
    handed_over="Тапсырды",
    received_by="Қабылдады",
    sign_line="қолы, Т. А. Ә.",
    number="№",
    discrepancy="Сәйкессіздік",
    code="Код",
    reason="Себебі",
    reason_comment="Себебі, түсініктеме",
    in_aggregate="Құрамында: {level} {code}",
    no_aggregate="Агрегатқа кірмейді",
    group_total="Агрегат бойынша барлығы: {n}",
    totals_title="Барлық сәйкессіздіктер",
    no_discrepancies="Сәйкессіздіктер жоқ.",
    codes_section="Таңбалау кодтары",
    aggregate="Агрегат",
    code_status="Мәртебесі",
    sheet_notes="Түсіндірме",
    sheet_summary="Жиынтық",
    sheet_discrepancies="Сәйкессіздіктер",
    col_code_hri="Код (HRI)",
    col_code_exact="Код (дәл, ␝ = GS)",
    col_parent_exact="Агрегат (дәл, ␝ = GS)",
    col_parent_level="Агрегат деңгейі",
    notes=(
        "«Код (дәл, ␝ = GS)» бағанында код сақталған күйінде дәл жазылған; көрінбейтін GS бөлгіші "
        "(0x1D) ␝ (U+241D) белгісімен көрсетілген, өйткені Excel ұяшығы басқарушы таңбаны сақтай алмайды. "
        "Бастапқы кодты алу үшін ␝ белгісін GS таңбасына ауыстырыңыз.",
        "«Код (HRI)» бағаны — блок кодтары мен SSCC үшін GS1 адам оқитын түрі (01)…(21)…(8005)…(93)…; "
        "мән ішіндегі «(» таңбасы «\\(», «\\» таңбасы «\\\\» болып жазылған. Қорап кодтары мен "
        "стандартты емес агрегат кодтарында HRI түрі жоқ, баған бос.",
        "Барлық мәндер мәтін ретінде жазылған: =, +, - немесе @ таңбасынан басталатын ұяшықтар формула емес.",
        "Жолдар бір параққа сыймаса (1 048 576), тізім дәл сол атаулы, жақшада нөмірі бар келесі парақта жалғасады.",
    ),
    levels={"pallet": "паллета", "box": "жәшік", "block": "блок", "pack": "қорап"},
    levels_plural={"pallet": "Паллеталар", "box": "Жәшіктер", "block": "Блоктар", "pack": "Қораптар"},
    kinds={
        "missing": "Жетіспейді",
        "surplus": "Артық",
        "duplicate": "Қайталау",
        "foreign": "Басқа актіден",
        "wrong_product": "Басқа тауар",
        "invalid": "Таңбалау коды емес",
    },
    decisions={
        "accepted": "Қабылданды",
        "accepted_with_discrepancies": "Сәйкессіздіктермен қабылданды",
        "rejected": "Қабылданбады",
    },
    reasons={
        "shortage": "жетіспеушілік",
        "damage": "зақымдану",
        "surplus": "артық",
        "wrong_product": "басқа тауар",
        "mis_sorted": "қате сұрыпталған",
        "not_scanned": "сканерленбеген",
        "already_scanned": "бұрын сканерленген",
        "inside_credited": "агрегат құрамында есепке алынған",
        "not_in_act": "актіде жоқ",
        "other_act": "басқа актіден",
        "gtin_not_in_act": "GTIN актіде жоқ",
        "unreadable": "код танылмады",
    },
    statuses={
        "new": "жаңа",
        "receiving": "қабылдануда",
        "closed": "шешім күтуде",
        "decided": "шешім қабылданды",
        "signed": "қол қойылды",
        "draft": "жоба",
        "sent": "жіберілді",
        "credited": "қабылданды",
        "missing": "жетіспейді",
        "expected": "күтілуде",
        "surplus": "артық",
        "EMITTED": "шығарылған",
        "APPLIED": "түсірілген",
        "INTRODUCED": "айналымда",
        "WRITTEN_OFF": "есептен шығарылған",
        "WITHDRAWN": "айналымнан шыққан",
        "DISAGGREGATED": "агрегаттан шығарылған",
    },
    modes={"trusted": "сенім режимі", "full_check": "толық тексеру"},
    turnovers={"sale": "сату", "return": "қайтару", "transfer": "орын ауыстыру"},
    basis_types={"ESF": "ЭШФ", "SNT": "ТІЖ"},
)

EN = Texts(
    acceptance_title="Acceptance act",
    discrepancy_title="Notice of discrepancies",
    labels_title="Aggregate labels",
    outgoing_title="Transfer act",
    codes_title="Marking codes of the act",
    act_ref="Act No. {number} of {date}",
    page="Page {n} of ",
    act_number="Act number",
    act_date="Act date",
    sender="Sender",
    receiver="Receiver",
    bin="BIN",
    iin="IIN",
    basis="Basis",
    turnover="Turnover type",
    status="Act status",
    mode="Receiving mode",
    none="—",
    summary_title="Summary by GTIN and level",
    gtin="GTIN",
    product="Product",
    level="Level",
    expected="Expected",
    credited="Credited",
    difference="Difference",
    price="Price, ₸",
    amount="Credited amount, ₸",
    quantity="Quantity",
    shipped_amount="Amount, ₸",
    total="Total",
    total_level="Total, {level}",
    decision_title="Decision",
    decision="Decision",
    no_decision="No decision recorded",
    reason_codes="Reason codes",
    comment="Comment",
    decided_by="Decided by",
    decided_at="Decided at",
    signature_title="Electronic digital signature",
    signer="Signer",
    organisation="Organisation",
    fingerprint="Certificate fingerprint (SHA-256)",
    signed_at="Signed at",
    not_signed="The document is not signed electronically.",
    handed_over="Handed over by",
    received_by="Received by",
    sign_line="signature, full name",
    number="No.",
    discrepancy="Discrepancy",
    code="Code",
    reason="Reason",
    reason_comment="Reason, comment",
    in_aggregate="In {level} {code}",
    no_aggregate="Not in an aggregate",
    group_total="Total for the aggregate: {n}",
    totals_title="Total discrepancies",
    no_discrepancies="No discrepancies.",
    codes_section="Marking codes",
    aggregate="Aggregate",
    code_status="Status",
    sheet_notes="Notes",
    sheet_summary="Summary",
    sheet_discrepancies="Discrepancies",
    col_code_hri="Code (HRI)",
    col_code_exact="Code (exact, ␝ = GS)",
    col_parent_exact="Aggregate (exact, ␝ = GS)",
    col_parent_level="Aggregate level",
    notes=(
        "The column 'Code (exact, ␝ = GS)' holds the code exactly as stored; the invisible GS separator "
        "(0x1D) is shown as ␝ (U+241D) because a spreadsheet cell cannot hold a control character. "
        "Replace ␝ with GS to get the original code.",
        "The column 'Code (HRI)' is the GS1 human-readable form (01)…(21)…(8005)…(93)… of block codes "
        "and SSCCs; a '(' inside a value is written as '\\(' and '\\' as '\\\\'. Pack codes and custom "
        "aggregation codes have no HRI form; the column is empty for them.",
        "Every value is written as text: cells starting with =, +, - or @ are never formulas.",
        "When there are more rows than a sheet holds (1,048,576), the list continues on a sheet with the "
        "same name and a number in brackets.",
    ),
    levels={"pallet": "pallet", "box": "box", "block": "block", "pack": "pack"},
    levels_plural={"pallet": "Pallets", "box": "Boxes", "block": "Blocks", "pack": "Packs"},
    kinds={
        "missing": "Missing",
        "surplus": "Surplus",
        "duplicate": "Duplicate",
        "foreign": "From another act",
        "wrong_product": "Wrong product",
        "invalid": "Not a marking code",
    },
    decisions={
        "accepted": "Accepted",
        "accepted_with_discrepancies": "Accepted with discrepancies",
        "rejected": "Rejected",
    },
    reasons={
        "shortage": "shortage",
        "damage": "damage",
        "surplus": "surplus",
        "wrong_product": "wrong product",
        "mis_sorted": "mis-sorted",
        "not_scanned": "never scanned",
        "already_scanned": "already scanned",
        "inside_credited": "already counted in its aggregate",
        "not_in_act": "not in the act",
        "other_act": "from another act",
        "gtin_not_in_act": "GTIN not in the act",
        "unreadable": "not recognised",
    },
    statuses={
        "new": "new",
        "receiving": "receiving",
        "closed": "awaiting decision",
        "decided": "decided",
        "signed": "signed",
        "draft": "draft",
        "sent": "sent",
        "credited": "credited",
        "missing": "missing",
        "expected": "expected",
        "surplus": "surplus",
        "EMITTED": "emitted",
        "APPLIED": "applied",
        "INTRODUCED": "in circulation",
        "WRITTEN_OFF": "written off",
        "WITHDRAWN": "withdrawn",
        "DISAGGREGATED": "disaggregated",
    },
    modes={"trusted": "trusted", "full_check": "full check"},
    turnovers={"sale": "sale", "return": "return", "transfer": "transfer"},
    basis_types={"ESF": "ESF (e-invoice)", "SNT": "SNT (waybill)"},
)

_BY_LANG: dict[str, Texts] = {"ru": RU, "kk": KK, "en": EN}


def texts(lang: Lang) -> Texts:
    """The texts of one language; ReportError for a language the reports do not speak."""
    try:
        return _BY_LANG[lang]
    except KeyError:
        raise ReportError(f"unsupported report language {lang!r}; expected one of {', '.join(LANGS)}") from None


def word(table: Mapping[str, str], key: str | None, default: str = "") -> str:
    """The word for ``key``, the key itself when the table has none, ``default`` for no key."""
    if key is None or key == "":
        return default
    return table.get(key, key)
