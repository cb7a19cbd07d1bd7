"""Link-net: anonymised figures for the departments, and the yearly report (issue 7).

periods    months and periods (nothing finer than a month)
sources    the registry of counts, computed in SQL by month
acks       acknowledgement deadlines recorded per memo (computed above models)
disclosure k未満, secondary suppression and the audit that proves it (pure)
ledger     everything published, and the frozen counts it was made from
figures    the one core: layouts, drafts, publishing

Importing this package registers the ledger tables (models/tables.py imports it); the heavier
modules (disclosure: scipy) load only when figures are made.
"""

from models.linknet import acks, ledger  # noqa: F401
