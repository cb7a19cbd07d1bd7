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

# Meetings and the support plan (handlers/meetings/, handlers/plans/; wired in listeners.py).
VIEW_MEETING_SCHEDULE = "meeting_schedule"
VIEW_MEETING_RESCHEDULE = "meeting_reschedule"
VIEW_MEETING_CANCEL = "meeting_cancel"
VIEW_MEETING_ATTENDEES = "meeting_attendees"  # 出席者を変える (change_listeners.py)
VIEW_MEETING_SHOW = "meeting_show"  # the meeting, its agenda or minutes (nothing to submit)
VIEW_LINKNET_MINUTES = "meeting_linknet_minutes"
VIEW_OUTCOME = "meeting_outcome"
VIEW_TASK_PROGRESS = "plan_task_progress"
VIEW_EVALUATION = "plan_evaluation"
VIEW_RESOURCES = "resources_list"
VIEW_RESOURCE_ADD = "resource_add"
ACTION_MEETING_NEW = "meeting_new"  # 会議を登録する (Home)
ACTION_MEETING_KIND = "meeting_kind"  # the kind select of the scheduling modal (dispatches)
ACTION_MEETING_CASES = "meeting_cases"  # external multi-select: options from schedule_listeners
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
BLOCK_MEETING = "meeting:"  # + meeting id: the buttons of the meeting, its invitation, a move
BLOCK_AGENDA_CASES = "agenda_cases:"  # + row: the agenda's 詳細 buttons (5 to a row)
BLOCK_MINUTES = "minutes:"  # + meeting id: 議事録を見る in the message that minutes are ready
BLOCK_MEETINGS_HOME = "meetings"  # 会議を登録する on the coordinator's Home tab
BLOCK_TASK = "task:"  # + task id: the buttons of a task (its modal, its message)
BLOCK_RESOURCES = "resources"  # 資源を加える on the list of participation resources

# Block ids of the case desk and the Home tab (prefixes take an id: "case:12").
BLOCK_CASE = "case:"  # + case id: the buttons on a case's message
BLOCK_CASE_STEPS = "steps:"  # + row: the step buttons of the detail modal (5 to a row)
BLOCK_ASSESSMENT = "assessment"  # the version select and 編集する of the assessment view
BLOCK_HOME_PAGE = "page:"  # + section: a list's 前へ / 次へ

# Outreach (handlers/outreach/): values are target ids unless said otherwise.
ACTION_OUTREACH_NEW = "outreach_new"  # App Home: register a target on its own
ACTION_OUTREACH_FROM_CASE = "outreach_from_case"  # case detail modal; value: case id
ACTION_OUTREACH_OPEN = "outreach_open"  # the target's modal (personal details; audited)
ACTION_OUTREACH_LOG = "outreach_log"  # 接触を記録する
ACTION_OUTREACH_MENU = "outreach_menu"  # App Home overflow; option value "<log|open>:<target id>"
ACTION_OUTREACH_OUTCOME = "outreach_outcome"  # the contact form's outcome radio (redraws it)
ACTION_OUTREACH_PAUSE = "outreach_pause"
ACTION_OUTREACH_RESUME = "outreach_resume"
ACTION_OUTREACH_CLOSE = "outreach_close"
ACTION_OUTREACH_AGENDA = "outreach_agenda"  # value: "<target id>:<meeting id>"
VIEW_OUTREACH_CREATE = "outreach_create"
VIEW_OUTREACH_CONTACT = "outreach_contact"
VIEW_OUTREACH_STATE = "outreach_state"  # pause / resume / close; the kind in private_metadata
BLOCK_OUTREACH_TARGET = "outreach:"  # + target id: the buttons of the target's modal
BLOCK_OUTREACH_LINE = "outreach_target:"  # + target id: a target's line on the Home tab
BLOCK_OUTREACH_HOME = "outreach_home"  # 登録する on the Home tab
BLOCK_OUTREACH_AGENDA = "outreach_agenda"  # the agenda offer after a contact brought consent
BLOCK_OUTREACH_CONSENT = "outreach_consent:"  # + target id: the coordinator's consent notice
BLOCK_OUTREACH_CASE = "outreach_case:"  # + case id: the button in a case's detail modal

# Reminder messages (handlers/reminders/): value = reminder id.
ACTION_REMINDER_DONE = "reminder_done"  # 対応しました
ACTION_REMINDER_SNOOZE_TOMORROW = "reminder_snooze_tomorrow"  # 明日また
ACTION_REMINDER_SNOOZE_WEEK = "reminder_snooze_week"  # 1週間後
BLOCK_REMINDER = "reminder:"  # + reminder id: the buttons of a reminder message

# The door: the pinned message in a partner agency's channel (handlers/partners/).
ACTION_DOOR_MEMO = "door_memo"  # つなぎメモを書く: opens the memo modal (its channel in metadata)
ACTION_DOOR_STATUS = "door_status"  # 送ったメモの状況
BLOCK_DOOR = "door"  # the door's buttons
VIEW_DOOR_STATUS = "door_status_show"  # the list of memos sent (nothing to submit)
