"""Every callback, block and action id of the bot, in one place."""

COMMAND = "/tsunagi"
SHORTCUT_MEMO = "tsunagi_memo"  # global shortcut: つなぎメモを書く
SHORTCUT_MEMO_FROM_MESSAGE = "tsunagi_memo_from_message"  # message shortcut: つなぎメモにする

VIEW_MEMO = "memo_submit"
VIEW_NOTICE = "notice_only"  # an informational modal with nothing to submit

ACTION_CASE_DETAIL = "case_detail"
ACTION_CASE_ACKNOWLEDGE = "case_acknowledge"

# The memo modal: one block per field; the element inside each block is always "value".
VALUE = "value"
MEMO_BLOCKS = (
    "person_name",
    "person_kana",
    "age_band",
    "district",
    "contact",
    "household",
    "concerns",
    "narrative",
    "urgency",
    "consent_to_share",
    "destination",
)

# The case desk (handlers/case_desk.py, handlers/case_records.py, handlers/home.py).
ACTION_CASE_MENU = "case_menu"  # the select on a case's message; option value "<step>:<case id>"
ACTION_CASE_STEP = "case_step_"  # prefix of step buttons (detail modal, home): case_step_<step>
ACTION_HOME_PAGE = "home_page_"  # prefix of the desk's paging buttons: home_page_<section>
ACTION_ASSESSMENT_EDIT = "assessment_edit"
ACTION_ASSESSMENT_VERSION = "assessment_version"  # choose an earlier version to read
VIEW_CASE_STEP = "case_step_submit"  # the step forms (reason, target …); step in metadata
VIEW_CONSENT = "consent_submit"
VIEW_ASSESSMENT = "assessment_submit"
VIEW_ASSESSMENT_SHOW = "assessment_show"
