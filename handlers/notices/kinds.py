"""Every module that renders outbox notices; importing this registers them all."""

from handlers.desk import views as case_desk  # noqa: F401
from handlers.linknet import views as linknet  # noqa: F401
from handlers.meetings import views as meetings  # noqa: F401
from handlers.notices import views as notices  # noqa: F401
from handlers.outreach import views as outreach  # noqa: F401
from handlers.plans import task_messages  # noqa: F401
from handlers.plans import views as plans  # noqa: F401
from handlers.reminders import views as reminders  # noqa: F401
