"""The librarian's settlement of a refused renewal."""

import datetime as dt

from django import forms
from django.utils import timezone

from .process import LET_RUN_OUT, RENEWED_BY_HAND

ACTION_CHOICES = [
    (RENEWED_BY_HAND, "Jag har lånat om lånet för hand"),
    (LET_RUN_OUT, "Låt lånet löpa ut"),
]
# The longest renewal a librarian can give by hand (the longest loan period is 28 days;
# twice that leaves room for a holiday, more is a typing error).
MAX_DAYS_AHEAD = 90


class SettlementForm(forms.Form):
    action = forms.ChoiceField(
        label="Vad gör du med lånet?",
        choices=ACTION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Välj om lånet har lånats om för hand eller får löpa ut."},
    )
    new_due_date = forms.DateField(
        label="Ny återlämningsdag",
        help_text="Bara när du har lånat om för hand: dagen bibliotekssystemet nu visar.",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Skriv datumet som ÅÅÅÅ-MM-DD."},
    )
    reason = forms.CharField(
        label="Skäl",
        help_text="Varför du gör så (syns i ärendets historik och för granskare).",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Skriv skälet."},
    )

    def __init__(self, *args, due_date: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.due_date = due_date

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Skriv skälet.")
        return reason

    def clean(self):
        data = super().clean()
        action, new_due = data.get("action"), data.get("new_due_date")
        if action == RENEWED_BY_HAND:
            today = timezone.localdate()
            if new_due is None and "new_due_date" not in self.errors:
                self.add_error("new_due_date", "Ange den nya återlämningsdagen.")
            elif new_due is not None and new_due <= max(self.due_date, today):
                self.add_error(
                    "new_due_date",
                    f"Den nya dagen måste vara efter {max(self.due_date, today).isoformat()}.",
                )
            elif new_due is not None and new_due > today + dt.timedelta(days=MAX_DAYS_AHEAD):
                self.add_error(
                    "new_due_date", f"Högst {MAX_DAYS_AHEAD} dagar fram; kontrollera datumet."
                )
        elif action == LET_RUN_OUT and new_due is not None:
            self.add_error("new_due_date", "Lämna datumet tomt när lånet får löpa ut.")
        return data

    def settlement_data(self) -> dict:
        new_due = self.cleaned_data.get("new_due_date")
        return {"new_due_date": new_due.isoformat()} if new_due else {}
