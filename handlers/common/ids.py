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

# The case desk (handlers/desk/listeners.py, handlers/desk/records.py, handlers/home/listeners.py).
ACTION_CASE_MENU = "case_menu"  # the select on a case's message; option value "<step>:<case id>"
ACTION_CASE_STEP = "case_step_"  # prefix of step buttons (detail modal, home): case_step_<step>
ACTION_HOME_PAGE = "home_page_"  # prefix of the desk's paging buttons: home_page_<section>
ACTION_ASSESSMENT_EDIT = "assessment_edit"
ACTION_ASSESSMENT_VERSION = "assessment_version"  # choose an earlier version to read
VIEW_CASE_STEP = "case_step_submit"  # the step forms (reason, target …); step in metadata
VIEW_CONSENT = "consent_submit"
VIEW_ASSESSMENT = "assessment_submit"
VIEW_ASSESSMENT_SHOW = "assessment_show"

# Meetings and the support plan (handlers/meetings/listeners.py, handlers/plans/listeners.py).
VIEW_MEETING_SCHEDULE = "meeting_schedule"
VIEW_MEETING_RESCHEDULE = "meeting_reschedule"
VIEW_MEETING_CANCEL = "meeting_cancel"
VIEW_MEETING_ATTENDEES = "meeting_attendees"  # 出席者を変える (handlers/meetings/listeners.py)
VIEW_MEETING_SHOW = "meeting_show"  # the meeting, its agenda or minutes (nothing to submit)
VIEW_LINKNET_MINUTES = "meeting_linknet_minutes"
VIEW_OUTCOME = "meeting_outcome"
VIEW_TASK_PROGRESS = "plan_task_progress"
VIEW_EVALUATION = "plan_evaluation"
VIEW_RESOURCES = "resources_list"
VIEW_RESOURCE_ADD = "resource_add"
ACTION_MEETING_NEW = "meeting_new"  # 会議を登録する (Home)
ACTION_MEETING_KIND = "meeting_kind"  # the kind select of the scheduling modal (dispatches)
ACTION_MEETING_CASES = (
    "meeting_cases"  # external multi-select: options from handlers/meetings/listeners
)
ACTION_MEETING_OPEN = "meeting_open"  # value: meeting id
ACTION_MEETING_AGENDA = "meeting_agenda"  # value: meeting id
ACTION_MEETING_CASE = "meeting_case"  # value: "<meeting id>:<case id>"
ACTION_MEETING_RESCHEDULE = "meeting_reschedule"
ACTION_MEETING_CANCEL = "meeting_cancel"
ACTION_MEETING_ATTENDEES = "meeting_attendees"  # value: meeting id
ACTION_MEETING_OUTCOME = "meeting_outcome"  # value: "<meeting id>:<case id>"
ACTION_MEETING_MINUTES = "meeting_minutes"
ACTION_MEETING_RECORD = "meeting_record"  # a Link-net meeting's minutes form
ACTION_MEETING_SHARE = "meeting_share_minutes"
ACTION_TASK_OPEN = "task_open"  # value: task id
ACTION_TASK_DONE = "task_done"
ACTION_TASK_PROGRESS = "task_progress"
ACTION_PLAN_EVALUATE = "plan_evaluate"  # value: plan id
ACTION_RESOURCE_ADD = "resource_add"
ACTION_RESOURCE_TOGGLE = "resource_toggle"  # value: resource id
