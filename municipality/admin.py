"""The delegation order in the Django admin, for unit administrators only.

Each administrator sees and changes only their own unit's lines. Saving and
deleting go through municipality.services, which checks the change and writes the
history (DelegationChange); a deleted line is only marked deleted.
"""

import copy

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from . import services
from .models import Delegation, DelegationChange, SecondSignerRule, Staff, Substitution

PEOPLE_FIELDS = ("user", "absent", "substitute")


class DelegationOrderForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for the change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. the committee's decision that changed the delegation order.",
    )

    # Set by DelegationOrderAdmin.get_form.
    admin_user = None
    admin_unit = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and self.admin_unit is not None:
            self.instance.unit = self.admin_unit

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

    def delete_model(self, request, obj):
        services.delegation_order_delete(line=obj, admin_user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delegation_order_delete(line=obj, admin_user=request.user)

    def get_deleted_objects(self, objs, request):
        # A deleted line is only marked deleted: nothing else goes with it, and the
        # decisions signed under it keep their reference.
        objs = list(objs)
        return (
            [str(obj) for obj in objs],
            {self.model._meta.verbose_name_plural: len(objs)},
            set(),
            [],
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
