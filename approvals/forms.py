from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import Decision


class DecisionForm(forms.Form):
    # Choices come from the decision type the process declares (approvals.registry).
    outcome = forms.ChoiceField(label=_("Decision"), choices=[], widget=forms.RadioSelect)
    amount = forms.IntegerField(
        label=_("Amount (kr per month)"),
        help_text=_("Only when you approve another amount than proposed."),
        min_value=0,
        required=False,
    )
    motivation = forms.CharField(
        label=_("Motivation"),
        help_text=_(
            "Required unless you approve as proposed: why you changed the amount, why the "
            "application is refused, or what is missing when you return it for completion."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )
    material_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    def __init__(self, *args, decision_type, lines: list[dict] | None = None, flags=None, **kwargs):
        """`decision_type` gives the outcomes; `lines` are the proposal's lines the signer
        may change (approvals.adjustments).

        Each line gets an optional decided amount and a reason; the gate decides whether
        the changes fit the outcome, and computes the amount from them.
        """
        super().__init__(*args, **kwargs)
        self.decision_type = decision_type
        self.fields["outcome"].choices = [
            (o.code, o.action or o.label) for o in decision_type.outcomes
        ]
        # A decision type without a sum has no amount to type.
        if not decision_type.has_amount:
            del self.fields["amount"]
        # Deviations that hold the case for review are confirmed one by one.
        held = [f for f in flags or [] if f.get("requires_acknowledgement")]
        if held:
            self.fields["acknowledge"] = forms.MultipleChoiceField(
                label=_("Held for review: I have checked"),
                choices=[(f["code"], f["text"]) for f in held],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
        self.lines = []
        for line in lines or []:
            prefix = "line-" + line["code"].replace(".", "-")
            decided, reason = f"{prefix}-decided", f"{prefix}-reason"
            self.fields[decided] = forms.IntegerField(
                label=_("%(line)s: decided amount (kr)") % {"line": line["label"]},
                min_value=0,
                required=False,
            )
            self.fields[reason] = forms.CharField(
                label=_("%(line)s: reason for the change") % {"line": line["label"]},
                required=False,
                max_length=500,
            )
            self.lines.append({"line": line, "decided": decided, "reason": reason})

    def line_fields(self) -> list[dict]:
        """For the template: each changeable line with its two bound fields."""
        return [
            {"line": item["line"], "decided": self[item["decided"]], "reason": self[item["reason"]]}
            for item in self.lines
        ]

    def lines_touched(self) -> bool:
        """Whether a line was filled in or has an error (the section then starts open)."""
        return self.is_bound and any(
            self[name].value() not in (None, "") or self[name].errors
            for item in self.lines
            for name in (item["decided"], item["reason"])
        )

    def line_initial(self, changes: list[dict]) -> dict:
        """Initial values repeating stored changes (for the second signer to confirm)."""
        by_code = {item["line"]["code"]: item for item in self.lines}
        initial = {}
        for change in changes:
            item = by_code.get(change["code"])
            if item is not None:
                initial[item["decided"]] = change["decided"]
                initial[item["reason"]] = change["reason"]
        return initial

    def acknowledged(self) -> list[str]:
        return list(getattr(self, "cleaned_data", {}).get("acknowledge") or [])

    def typed_amount(self) -> int | None:
        """The amount typed, when the chosen outcome takes one (else the gate computes it)."""
        data = getattr(self, "cleaned_data", {})
        chosen = self.decision_type.outcome(data.get("outcome", ""))
        return data.get("amount") if chosen is not None and chosen.typed_amount else None

    def adjustments(self) -> list[dict]:
        """The lines the signer changed, as decision_sign takes them."""
        data = getattr(self, "cleaned_data", {})
        return [
            {
                "code": item["line"]["code"],
                "decided": data[item["decided"]],
                "reason": (data.get(item["reason"]) or "").strip(),
            }
            for item in self.lines
            if data.get(item["decided"]) is not None
        ]

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        for item in self.lines:
            decided = data.get(item["decided"])
            reason = (data.get(item["reason"]) or "").strip()
            if decided is not None and decided == item["line"]["amount"]:
                self.add_error(
                    item["decided"],
                    _("This is the proposed amount. Leave it empty if the line stays."),
                )
            elif decided is not None and not reason:
                self.add_error(item["reason"], _("Give the reason for the change."))
            elif decided is None and reason and item["decided"] not in self.errors:
                self.add_error(
                    item["decided"], _("Give the decided amount, or leave the reason empty.")
                )
        chosen = self.decision_type.outcome(outcome) if outcome else None
        if (
            chosen is not None
            and chosen.typed_amount
            and data.get("amount") is None
            and not self.adjustments()
        ):
            self.add_error("amount", _("Give the amount you decide."))
        if (
            outcome
            and outcome != Decision.Outcome.APPROVED
            and not (data.get("motivation") or "").strip()
        ):
            message = (
                _("List what is missing.")
                if outcome == Decision.Outcome.RETURNED
                else _("Write a motivation for this outcome.")
            )
            self.add_error("motivation", message)
        return data


class InboxFilterForm(forms.Form):
    """The inbox's filters, read from the query string (a GET form: links can be shared)."""

    process = forms.ChoiceField(label=_("Process"), required=False)
    period = forms.RegexField(
        label=_("Period"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2026-03", "size": 8}),
        error_messages={"invalid": _("Write the period as YYYY-MM.")},
    )
    due_by = forms.DateField(
        label=_("Due at the latest"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    flags = forms.MultipleChoiceField(
        label=_("Show only"),
        choices=[
            (selectors.FLAG_DEVIATIONS, _("with deviations")),
            (selectors.FLAG_OVERDUE, _("overdue")),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            (selectors.SORT_DUE, _("Due date, soonest first")),
            (selectors.SORT_NEWEST, _("Newest first")),
            (selectors.SORT_AMOUNT, _("Proposed amount, highest first")),
        ],
        required=False,
    )

    def __init__(self, *args, processes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].choices = [("", _("All processes"))] + list(processes)

    def filters(self) -> selectors.InboxFilters:
        """The filters to apply; an invalid field counts as not given."""
        if not self.is_bound:
            return selectors.InboxFilters()
        self.is_valid()  # fills cleaned_data with the valid fields only
        data = self.cleaned_data
        flags = data.get("flags") or []
        return selectors.InboxFilters(
            process=data.get("process") or "",
            period=data.get("period") or "",
            due_by=data.get("due_by"),
            deviations=selectors.FLAG_DEVIATIONS in flags,
            overdue=selectors.FLAG_OVERDUE in flags,
            sort=data.get("sort") or selectors.SORT_DUE,
        )


class ReassignForm(forms.Form):
    """A team leader's choice of who holds a request; empty gives it back to the queue."""

    assignee = forms.TypedChoiceField(
        label=_("Assign to"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, colleagues: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.colleagues = {u.pk: u for u in colleagues}
        self.fields["assignee"].choices = [("", _("Nobody (back to the unit's queue)"))] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in colleagues
        ]

    def assignee_user(self):
        pk = self.cleaned_data.get("assignee")
        return self.colleagues.get(pk) if pk is not None else None


class SearchForm(forms.Form):
    """One field finds a case by the applicant's name, a personnummer (any written form)
    or the case reference."""

    q = forms.CharField(
        label=_("Search cases"),
        help_text=_(
            "Name, personnummer (10 or 12 digits, with or without dash) or case reference."
        ),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class NoteForm(forms.Form):
    """A journal note, or an addendum to an earlier note of the same case."""

    text = forms.CharField(
        label=_("New note"),
        help_text=_("Dated and signed with your name when saved; it cannot be changed afterwards."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
    )
    refers_to = forms.TypedChoiceField(
        label=_("Addendum to"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import CaseNote

        self.fields["refers_to"].choices = [("", _("None (a new note)"))] + [
            (n.pk, f"{n.written_at:%Y-%m-%d %H:%M} {n.author_name}")
            for n in CaseNote.objects.filter(case=case).order_by("written_at", "pk")
        ]


class CosignatureDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you do not co-sign"),
        help_text=_("The first signer sees your reason; the case goes back to them."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Write why you do not co-sign.")},
    )


class HandOverForm(forms.Form):
    to = forms.IntegerField(min_value=1)
    amount = forms.IntegerField(min_value=0, required=False)
