"""The manager's forms: ask for a proposal, edit the grid (move, swap, add, remove), approve."""

from django import forms

DEFAULT_STAFF = ""


class RequestForm(forms.Form):
    roster_input = forms.ChoiceField(label="Underlag (personal, behov, ledigheter, önskemål)")

    def __init__(self, *args, inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roster_input"].choices = [(i.key, i.label) for i in inputs]


class EditForm(forms.Form):
    """One edit; which fields count depends on ``op`` (checked in clean)."""

    op = forms.ChoiceField(choices=[(o, o) for o in ("move", "swap", "add", "remove", "reset")])
    draft_version = forms.IntegerField(min_value=0)
    index = forms.IntegerField(min_value=0, required=False, label="Pass nr")
    other = forms.IntegerField(min_value=0, required=False, label="Byt med pass nr")
    staff = forms.CharField(max_length=40, required=False, label="Till person")
    day = forms.DateField(required=False, label="Dag")
    shift = forms.CharField(max_length=40, required=False, label="Passtyp")

    REQUIRED = {
        "move": ("index",),
        "swap": ("index", "other"),
        "add": ("staff", "day", "shift"),
        "remove": ("index",),
        "reset": (),
    }

    def clean(self):
        data = super().clean()
        op = data.get("op")
        for name in self.REQUIRED.get(op, ()):
            if data.get(name) in (None, ""):
                self.add_error(name, "Fyll i fältet.")
        if op == "move" and not (data.get("staff") or data.get("day") or data.get("shift")):
            self.add_error("staff", "Välj en person, en dag eller en passtyp att flytta till.")
        return data


class ApproveForm(forms.Form):
    material_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$")
    draft_version = forms.IntegerField(min_value=0)
    accept_breaches = forms.BooleanField(
        required=False, label="Jag har sett regelbrotten och de ej bemannade passen"
    )
    motivation = forms.CharField(
        required=False, max_length=5000, label="Kommentar (valfri)", widget=forms.Textarea
    )
