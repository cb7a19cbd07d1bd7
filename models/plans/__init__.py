"""Meeting outcomes, the support plan (支援プラン) with its versions and tasks, the evaluation at
the review date, and the local participation resources (参加支援) a task can link.

- A さぽネット/まるごと meeting records per case an `Outcome`: the agreed direction (支援方針),
  the lead agency (主担当), the next step and the next review date, and role assignments
  (`PlanTask`: which agency does what by when).
- At a たつのまるごと会議 the outcome creates the case's plan or a new version of it (`Plan`;
  versions are kept, the open tasks of the old version are replaced by the new roles). At a
  さぽネット会議 (no consent, no plan) the roles belong to the outcome itself.
- Case states change only through the case desk (models.casework: advance, set_lead, close,
  suspend), so every change is checked by the state machine and recorded.

Free text (direction, goals, tasks, notes) is encrypted; messages name a case by its receipt
number only.
"""
