"""The delegation order in the Django admin, for unit administrators only.

Each administrator sees and changes only their own unit's lines. Saving and
deleting go through municipality.services, which checks the change and writes the
history (DelegationChange); a deleted line is only marked deleted.
"""

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Delegation, DelegationChange, SecondSignerRule, Staff, Substitution
from .staff_personnummer import staff_personnummer_canonical

PEOPLE_FIELDS = ("user", "absent", "substitute")


# The unit administrator's labels (Swedish by default through locale/sv).
FIELD_LABELS = {
    "decision_type": _("Decision type"),
    "role": _("Role"),
    "user": _("Named person"),
    "max_amount": _("Highest amount (kr per month)"),
    "valid_from": _("Valid from"),
    "valid_to": _("Valid to"),
    "reference": _("Point in the delegation order"),
    "absent": _("Absent delegate"),
    "substitute": _("Substitute"),
    "above_amount": _("Above amount (kr per month)"),
}


def decision_type_choices(unit) -> list[tuple[str, str]]:
    """The decision types of the registered processes the unit handles (all, if none)."""
    from approvals.registry import registry

    own = [p for p in registry.all() if unit is not None and p.unit_code == unit.code]
    return [
        (d.code, f"{p.name}: {d.label}") for p in own or registry.all() for d in p.decision_types
    ]


class ChangeReasonForm(forms.Form):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the committee's decision that changed the delegation order."),
        max_length=2000,
    )


class DelegationOrderForm(forms.ModelForm):
    # Every change, removal included, says why (the history keeps it with both versions).
    change_reason = ChangeReasonForm.base_fields["change_reason"]

    # Set by DelegationOrderAdmin.get_form.
    admin_user = None
    admin_unit = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and self.admin_unit is not None:
            self.instance.unit = self.admin_unit
        for name, label in FIELD_LABELS.items():
            if name in self.fields:
                self.fields[name].label = label
        if "decision_type" in self.fields:
            # Chosen from the registered processes: a typo would silently delegate nothing.
            choices = decision_type_choices(self.admin_unit)
            current = self.instance.decision_type if self.instance.pk else ""
            if current and current not in dict(choices):
                choices.append((current, current))
            blank = [("", _("Every decision type"))] if self._meta.model is Substitution else []
            self.fields["decision_type"] = forms.ChoiceField(
                label=FIELD_LABELS["decision_type"],
                choices=blank + choices,
                required=not blank,
            )

    def clean(self):
        data = super().clean()
        candidate = copy.copy(self.instance)
        for name, value in data.items():
            if name in {f.name for f in candidate._meta.concrete_fields}:
                setattr(candidate, name, value)
        error = services.delegation_order_check(admin_user=self.admin_user, line=candidate)
        if error is not None:
            raise forms.ValidationError(services.MESSAGES[error], code=error)
        return data


class UnitScopedAdmin(admin.ModelAdmin):
    """Admin for one kind of line, limited to the administrator's own unit."""

    form = DelegationOrderForm
    exclude = ("unit",)

    def _unit(self, request):
        return services.unit_admin_unit(request.user)

    def has_module_permission(self, request):
        return self._unit(request) is not None

    def has_view_permission(self, request, obj=None):
        unit = self._unit(request)
        # Not a unit administrator, or another unit's line: nothing to see.
        return unit is not None and (obj is None or obj.unit_id == unit.pk)

    def has_add_permission(self, request):
        return self._unit(request) is not None

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def get_queryset(self, request):
        unit = self._unit(request)
        qs = super().get_queryset(request).select_related("unit")
        if unit is None:
            return qs.none()
        return qs.filter(unit=unit, deleted_at__isnull=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(
            form.__name__,
            (form,),
            {"admin_user": request.user, "admin_unit": self._unit(request)},
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in PEOPLE_FIELDS:
            unit = self._unit(request)
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    staff__unit=unit,
                    staff__kind=Staff.Kind.HUMAN,
                    staff__role__in=services.DECIDING_ROLES,
                )
                .exclude(pk=request.user.pk)
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.delegation_order_save(
            line=obj, admin_user=request.user, reason=form.cleaned_data.get("change_reason", "")
        )

    def get_actions(self, request):
        # No bulk removal: each line is removed on its own page, with its own reason.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """Removing a line asks for the reason, like every other change."""
        line = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_delete_permission(request, line):
            raise PermissionDenied
        form = ChangeReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.delegation_order_delete(
                line=line, admin_user=request.user, reason=form.cleaned_data["change_reason"]
            )
            messages.success(request, _("The line was removed from the delegation order."))
            opts = self.model._meta
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        return render(
            request,
            "admin/municipality/delete_with_reason.html",
            {
                **self.admin_site.each_context(request),
                "line": line,
                "form": form,
                "opts": self.model._meta,
                "title": _("Remove a line of the delegation order"),
            },
            status=400 if request.method == "POST" else 200,
        )


@admin.register(Delegation)
class DelegationAdmin(UnitScopedAdmin):
    list_display = (
        "decision_type",
        "role",
        "user",
        "max_amount",
        "valid_from",
        "valid_to",
        "reference",
    )
    list_filter = ("decision_type", "role")


@admin.register(Substitution)
class SubstitutionAdmin(UnitScopedAdmin):
    list_display = ("substitute", "absent", "decision_type", "valid_from", "valid_to", "reference")


@admin.register(SecondSignerRule)
class SecondSignerRuleAdmin(UnitScopedAdmin):
    list_display = ("decision_type", "above_amount", "valid_from", "valid_to", "reference")


@admin.register(DelegationChange)
class DelegationChangeAdmin(admin.ModelAdmin):
    """The history of the unit's delegation order: read only."""

    list_display = ("changed_at", "model", "object_id", "action", "changed_by", "reason")
    list_filter = ("model", "action")
    readonly_fields = [f.name for f in DelegationChange._meta.fields]

    def has_module_permission(self, request):
        return services.unit_admin_unit(request.user) is not None

    def has_view_permission(self, request, obj=None):
        unit = services.unit_admin_unit(request.user)
        return unit is not None and (obj is None or obj.unit_id == unit.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        unit = services.unit_admin_unit(request.user)
        qs = super().get_queryset(request).select_related("changed_by")
        return qs.filter(unit=unit) if unit is not None else qs.none()


# --- accounts: superusers only (issue 10, point 2) ----------------------------------------


class SuperuserOnlyAdmin:
    """Accounts, groups and grants decide who can log in as whom and sign what: only an
    active superuser manages them, whatever permissions a staff account was given. Every
    change is an event on the audit trail (municipality.account_audit)."""

    def _superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)


User = get_user_model()
for _model in (User, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class AccountAdmin(SuperuserOnlyAdmin, UserAdmin):
    pass


@admin.register(Group)
class AccountGroupAdmin(SuperuserOnlyAdmin, GroupAdmin):
    pass


# --- staff records: the unit administrator's own unit --------------------------------------


class StaffForm(forms.ModelForm):
    """A staff record; the personnummer is written, never shown (it serves only the
    conflict-of-interest check), and parsed like intake's (stored as 12 digits)."""

    new_personnummer = forms.CharField(
        label=_("New personnummer"),
        required=False,
        max_length=20,
        help_text=_(
            "Personnummer or samordningsnummer in any written form (e.g. 910701-2388); "
            "stored as 12 digits. Leave empty to keep the recorded one."
        ),
    )
    remove_personnummer = forms.BooleanField(
        label=_("Remove the recorded personnummer"), required=False
    )

    # Set by StaffAdmin.get_form.
    admin_user = None
    admin_unit = None

    class Meta:
        model = Staff
        exclude = ("personnummer",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields and self.admin_unit is not None:
            # A unit administrator moves people between the deciding roles only.
            self.fields["role"].choices = [
                (value, label)
                for value, label in Staff.Role.choices
                if value in services.DECIDING_ROLES
            ]

    def clean_new_personnummer(self):
        value = self.cleaned_data.get("new_personnummer", "")
        try:
            return staff_personnummer_canonical(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages, code=exc.code) from None

    def clean(self):
        data = super().clean()
        if data.get("new_personnummer") and data.get("remove_personnummer"):
            raise forms.ValidationError(
                _("Either give a new personnummer or remove the recorded one, not both.")
            )
        return data

    def save(self, commit=True):
        if self.cleaned_data.get("new_personnummer"):
            self.instance.personnummer = self.cleaned_data["new_personnummer"]
        elif self.cleaned_data.get("remove_personnummer"):
            self.instance.personnummer = ""
        return super().save(commit)


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    """Staff records: a superuser sees every record; a unit administrator her unit's
    caseworkers and team leaders (title, role among those two, personnummer), never her
    own record and never another unit's. Accounts themselves are created by a superuser."""

    form = StaffForm
    list_display = ("__str__", "unit", "kind", "role", "title", "has_personnummer")
    list_filter = ("kind", "role")
    search_fields = ("user__username", "user__first_name", "user__last_name", "title")

    @admin.display(boolean=True, description=_("Personnummer recorded"))
    def has_personnummer(self, obj):
        return bool(obj.personnummer)

    def _unit(self, request):
        return services.unit_admin_unit(request.user)

    def _superuser(self, request):
        return request.user.is_active and request.user.is_superuser

    def _in_remit(self, request, obj) -> bool:
        if self._superuser(request):
            return True
        unit = self._unit(request)
        if unit is None:
            return False
        return obj is None or (
            obj.unit_id == unit.pk
            and obj.kind == Staff.Kind.HUMAN
            and obj.role in services.DECIDING_ROLES
            and obj.user_id != request.user.pk
        )

    def has_module_permission(self, request):
        return self._superuser(request) or self._unit(request) is not None

    def has_view_permission(self, request, obj=None):
        return self._in_remit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._in_remit(request, obj)

    def has_add_permission(self, request):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "unit")
        if self._superuser(request):
            return qs
        unit = self._unit(request)
        if unit is None:
            return qs.none()
        return qs.filter(
            unit=unit, kind=Staff.Kind.HUMAN, role__in=services.DECIDING_ROLES
        ).exclude(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if self._superuser(request):
            return ("user",) if obj is not None else ()
        return ("user", "unit", "kind")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        unit = None if self._superuser(request) else self._unit(request)
        return type(form.__name__, (form,), {"admin_user": request.user, "admin_unit": unit})
