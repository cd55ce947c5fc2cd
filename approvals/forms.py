from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Decision


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approved", _("Approve as proposed")),
            ("partly_approved", _("Approve another amount")),
            ("refused", _("Refuse")),
            ("returned", _("Return for completion")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.IntegerField(label=_("Amount (kr per month)"), min_value=0, required=False)
    motivation = forms.CharField(
        label=_("Motivation"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )
    material_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == Decision.Outcome.PARTLY_APPROVED and data.get("amount") is None:
            self.add_error("amount", _("Give the amount you decide."))
        if (
            outcome
            and outcome != Decision.Outcome.APPROVED
            and not (data.get("motivation") or "").strip()
        ):
            self.add_error("motivation", _("Write a motivation for this outcome."))
        return data
