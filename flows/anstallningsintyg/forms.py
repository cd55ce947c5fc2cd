"""Forms of the certificate pages: requests and the settlement of an exception."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .process import PROCESS
from .rules import KIND_ANSTALLNINGSINTYG, KIND_ARBETSGIVARINTYG

KIND_CHOICES = [
    (KIND_ANSTALLNINGSINTYG, _("Anställningsintyg (employment certificate)")),
    (KIND_ARBETSGIVARINTYG, _("Arbetsgivarintyg (for the unemployment fund)")),
]


class SelfServiceRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Which certificate"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        initial=KIND_ANSTALLNINGSINTYG,
    )


class HRRequestForm(forms.Form):
    employee_id = forms.CharField(label=_("Employee id in the HR system"), max_length=40)
    kind = forms.ChoiceField(
        label=_("Which certificate"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        initial=KIND_ANSTALLNINGSINTYG,
    )
    include_worked_time = forms.BooleanField(
        label=_("Include worked time and pay per month (older, hours-based rules)"),
        required=False,
    )


class SettleForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Settlement"),
        choices=[(o.code, o.action or o.label) for o in PROCESS.default_decision_type.outcomes],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (what was corrected, or why the request is closed)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Write why you settle it this way."))
        return reason
