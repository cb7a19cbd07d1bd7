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
