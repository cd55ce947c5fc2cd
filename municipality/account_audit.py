"""Changes to accounts and their powers, as events on the audit trail (issue 10, point 2).

Who can log in as whom, and with which powers, decides who can sign: a superuser who
resets a delegate's password in the admin could otherwise sign as her with no trace.
Every such change is therefore an event on the hash chain, whatever made it (the admin,
a management command, the shell, a service), because it is caught here at the model
level through signals connected in MunicipalityConfig.ready():

- an account created, changed (username, e-mail, names, is_active, is_staff,
  is_superuser) or deleted;
- a password set, with by whom (the owner herself, another account, or the system);
- a group joined or left, a global permission granted or withdrawn (to a user or a
  group), an object permission (django-guardian) granted or revoked;
- a staff record created or changed (unit, kind, role, title, personnummer);
- an API token issued, revoked or deleted.

The trail carries no more personal data than before: never a password hash; e-mail,
names and personnummer only as "changed" with a keyed hash (HMAC-SHA256 under the
SECRET_KEY, so the value cannot be guessed back from the trail).

Who acted is the logged-in user of the request being answered (AccountActorMiddleware);
outside a request it is the system (``system:manage.py <command>`` when run by
manage.py). A service or command that acts for a named person wraps its work in
:func:`account_actor`.

The password rule (a password set by someone else must be changed before signing):

- a new password set by an identified account other than the owner (e.g. a reset in
  the admin) marks the account (PasswordMustChange);
- a new password set outside any request (``changepassword``, the shell) on an account
  that already had a password marks it too: whoever ran the command is not the owner;
- the first password of an account created outside a request (``createsuperuser``,
  ``load_demo``, the tests' fixtures) does not: that is the system provisioning the
  account, not someone taking it over;
- setting the same password again (a re-hash under another hasher) changes nothing:
  whoever does it knew the password already;
- the owner's own change in a request (the password-change page, or her own account in
  the admin) removes the mark.

Known gaps: bulk writes that send no signals (QuerySet.update, bulk_create, e.g.
guardian's bulk_assign_perm / assign_perm_to_many) are not caught; code that writes
through them must append its own event. Direct SQL is outside any of this.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import global_settings, settings
from django.contrib.auth.hashers import check_password, identify_hasher, is_password_usable
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils.module_loading import import_string

_request: ContextVar = ContextVar("account_audit_request", default=None)
_explicit_actor: ContextVar = ContextVar("account_audit_actor", default=None)

# The account fields whose new value goes on the trail as it is (usernames are on it already).
PLAIN_FIELDS = ("username", "is_active", "is_staff", "is_superuser")
# Personal fields: only that they changed, with a keyed hash of the new value.
HASHED_FIELDS = ("email", "first_name", "last_name")
STAFF_PLAIN_FIELDS = ("unit_id", "kind", "role", "title")

# Who set a password, relative to the account's owner.
BY_SELF = "self"
BY_OTHER = "other"
BY_SYSTEM = "system"


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a personal value under the SECRET_KEY: comparable, not reversible."""
    digest = hmac.new(settings.SECRET_KEY.encode(), (value or "").encode(), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


# --- who acts ----------------------------------------------------------------------------


class AccountActorMiddleware:
    """Remembers the request being answered, so that a signal can name who acted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


@contextmanager
def account_actor(user, label: str | None = None):
    """Name the actor of the account changes made inside (a service acting for a person)."""
    from approvals.audit import actor_label_for

    token = _explicit_actor.set((user, label or actor_label_for(user)))
    try:
        yield
    finally:
        _explicit_actor.reset(token)


def system_label() -> str:
    """The system's name on the trail: the manage.py command when there is one."""
    argv = sys.argv or []
    if len(argv) > 1 and os.path.basename(argv[0]) == "manage.py":
        return f"system:manage.py {argv[1]}"[:200]
    return "system"


def current_actor() -> tuple[object | None, str, bool]:
    """(user or None, label, in_request) for the change being made now."""
    from approvals.audit import actor_label_for

    explicit = _explicit_actor.get()
    if explicit is not None:
        return explicit[0], explicit[1], True
    request = _request.get()
    if request is None:
        return None, system_label(), False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # The request's user is a lazy object; the trail's foreign key wants the model.
        user = getattr(user, "_wrapped", user)
        return user, actor_label_for(user), True
    return None, "anonymous", True


def _append(kind: str, data: dict) -> None:
    from approvals.audit import audit_append

    actor, label, _in_request = current_actor()
    audit_append(kind=kind, actor=actor, actor_label=label, data=data)


def _account_ref(user) -> dict:
    return {"account": user.pk, "username": user.get_username()}


# --- accounts and passwords --------------------------------------------------------------


def _user_before(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = None
    if instance.pk is not None:
        before = (
            sender.objects.filter(pk=instance.pk)
            .values(*PLAIN_FIELDS, *HASHED_FIELDS, "password")
            .first()
        )
    instance._account_audit_before = before
    # set_password() keeps the raw password until the save; the save clears it.
    instance._account_audit_raw = getattr(instance, "_password", None)


def _user_after(sender, instance, created, raw=False, **kwargs):
    from approvals.audit import Kind

    if raw:
        return
    before = getattr(instance, "_account_audit_before", None)
    raw_password = getattr(instance, "_account_audit_raw", None)
    instance._account_audit_before = None
    instance._account_audit_raw = None
    now = {name: getattr(instance, name) for name in (*PLAIN_FIELDS, *HASHED_FIELDS)}
    if created or before is None:
        _append(
            Kind.ACCOUNT_CREATED,
            {
                **_account_ref(instance),
                **{name: now[name] for name in PLAIN_FIELDS if name != "username"},
                "has_password": is_password_usable(instance.password) and bool(instance.password),
            },
        )
        if raw_password is not None:
            _password_set(instance, previous="", raw_password=raw_password, created=True)
        return
    changes = {}
    for name in PLAIN_FIELDS:
        if before[name] != now[name]:
            changes[name] = {"from": before[name], "to": now[name]}
    for name in HASHED_FIELDS:
        if (before[name] or "") != (now[name] or ""):
            changes[name] = {"changed": True, "to_hash": keyed_hash(now[name] or "")}
    if changes:
        _append(Kind.ACCOUNT_CHANGED, {**_account_ref(instance), "changes": changes})
    if before["password"] != instance.password:
        _password_set(
            instance, previous=before["password"], raw_password=raw_password, created=False
        )


def _password_set(user, *, previous: str, raw_password: str | None, created: bool) -> None:
    """The event of a new password, and the owner's duty to change it when another set it."""
    from approvals.audit import Kind

    from .models import PasswordMustChange

    actor, label, in_request = current_actor()
    usable = bool(user.password) and is_password_usable(user.password)
    if raw_password is None:
        # The hash was replaced without set_password(): made unusable, re-hashed at login
        # under a newer hasher, or written directly. No new password anyone learned.
        how = "unusable" if not usable else "hash_replaced"
        _append(Kind.ACCOUNT_PASSWORD_SET, {**_account_ref(user), "how": how})
        return
    if _same_password(raw_password, previous):
        # The same password again (e.g. under the test hasher): nothing new was learned.
        _append(Kind.ACCOUNT_PASSWORD_SET, {**_account_ref(user), "how": "same_password"})
        return
    if actor is not None and actor.pk == user.pk:
        by = BY_SELF
    elif actor is not None or in_request:
        by = BY_OTHER
    elif created or not previous:
        # Provisioning: the first password of an account the system creates.
        by = BY_SYSTEM
    else:
        # Replaced outside a request (changepassword, the shell): not by its owner.
        by = BY_OTHER
    must_change = by == BY_OTHER and usable
    _append(
        Kind.ACCOUNT_PASSWORD_SET,
        {**_account_ref(user), "how": "set", "by": by, "must_change": must_change},
    )
    if by == BY_SELF:
        PasswordMustChange.objects.filter(user_id=user.pk).delete()
    elif must_change:
        PasswordMustChange.objects.update_or_create(
            user_id=user.pk, defaults={"set_by": actor, "set_by_label": label[:200]}
        )


def _same_password(raw_password: str, encoded: str) -> bool:
    """Whether ``encoded`` is a hash of ``raw_password``, also under a hasher no longer in
    PASSWORD_HASHERS (the stored hash predates a switch of hashers)."""
    if not encoded or not is_password_usable(encoded):
        return False
    try:
        identify_hasher(encoded)
    except ValueError:
        algorithm = encoded.split("$", 1)[0]
        for path in global_settings.PASSWORD_HASHERS:
            hasher = import_string(path)()
            if hasher.algorithm == algorithm:
                return hasher.verify(raw_password, encoded)
        return False
    return check_password(raw_password, encoded)


def _user_deleted(sender, instance, **kwargs):
    from approvals.audit import Kind

    _append(Kind.ACCOUNT_DELETED, _account_ref(instance))


# --- groups and permissions --------------------------------------------------------------


def _perm_name(permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def _membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """user.groups / group.user_set: one event per account and group."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from approvals.audit import Kind

    User = get_user_model()
    if action == "pre_clear":
        # Who leaves is known only before the rows go.
        pk_set = set(
            (instance.user_set if reverse else instance.groups).values_list("pk", flat=True)
        )
        action = "post_remove"
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    kind = Kind.ACCOUNT_GROUP_ADDED if action == "post_add" else Kind.ACCOUNT_GROUP_REMOVED
    if reverse:  # group.user_set.add(users)
        pairs = [(u, instance) for u in User.objects.filter(pk__in=pk_set).order_by("pk")]
    else:
        pairs = [(instance, g) for g in Group.objects.filter(pk__in=pk_set).order_by("pk")]
    for user, group in pairs:
        _append(kind, {**_account_ref(user), "group": group.pk, "group_name": group.name})


def _global_perm_changed(holder_field: str):
    """user.user_permissions / group.permissions (either side): one event per grant."""

    def handler(sender, instance, action, reverse, model, pk_set, **kwargs):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group, Permission

        from approvals.audit import Kind

        holder_model = get_user_model() if holder_field == "user" else Group
        if action == "pre_clear":
            if reverse:  # the permission's holders
                related = instance.user_set if holder_field == "user" else instance.group_set
            else:  # the holder's permissions
                related = (
                    instance.user_permissions if holder_field == "user" else instance.permissions
                )
            pk_set = set(related.values_list("pk", flat=True))
            action = "post_remove"
        if action not in ("post_add", "post_remove") or not pk_set:
            return
        kind = Kind.PERMISSION_GRANTED if action == "post_add" else Kind.PERMISSION_REVOKED
        if reverse:  # permission.user_set.add(...) / permission.group_set.add(...)
            pairs = [(h, instance) for h in holder_model.objects.filter(pk__in=pk_set)]
        else:
            perms = Permission.objects.filter(pk__in=pk_set).select_related("content_type")
            pairs = [(instance, p) for p in perms]
        for holder, permission in sorted(pairs, key=lambda p: (p[0].pk, p[1].pk)):
            _append(kind, {**_holder_ref(holder), "permission": _perm_name(permission)})

    return handler


def _holder_ref(holder) -> dict:
    from django.contrib.auth.models import Group

    if isinstance(holder, Group):
        return {"group": holder.pk, "group_name": holder.name}
    return _account_ref(holder)


def _routine_unit_grant(instance) -> bool:
    """A unit's own group given a case or request of that unit: the routing of every case.

    Intake and the robot make these for each case (their own events say so); every
    other object grant (a named person, another unit's group, any other group) is logged.
    """
    from .models import unit_group_name

    group = getattr(instance, "group", None)
    target = getattr(instance, "content_object", None)
    unit = getattr(target, "unit", None)
    return group is not None and unit is not None and group.name == unit_group_name(unit)


def _object_perm_ref(instance) -> dict:
    holder = getattr(instance, "user", None) or getattr(instance, "group", None)
    target = instance.content_object
    return {
        **_holder_ref(holder),
        "permission": _perm_name(instance.permission),
        "object": f"{target._meta.label_lower}:{target.pk}" if target is not None else None,
    }


def _object_perm_saved(sender, instance, created, raw=False, **kwargs):
    from approvals.audit import Kind

    if raw or not created or _routine_unit_grant(instance):
        return
    _append(Kind.PERMISSION_GRANTED, _object_perm_ref(instance))


def _object_perm_deleting(sender, instance, **kwargs):
    # The object may be gone by post_delete (a cascade): read what it was now.
    instance._account_audit_ref = (
        None if _routine_unit_grant(instance) else _object_perm_ref(instance)
    )


def _object_perm_deleted(sender, instance, **kwargs):
    from approvals.audit import Kind

    ref = getattr(instance, "_account_audit_ref", None)
    if ref is not None:
        _append(Kind.PERMISSION_REVOKED, ref)


# --- staff records and API tokens --------------------------------------------------------


def _staff_before(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance._account_audit_before = (
        sender.objects.filter(pk=instance.pk).values(*STAFF_PLAIN_FIELDS, "personnummer").first()
        if instance.pk is not None
        else None
    )


def _staff_after(sender, instance, created, raw=False, **kwargs):
    from approvals.audit import Kind

    if raw:
        return
    before = getattr(instance, "_account_audit_before", None)
    instance._account_audit_before = None
    ref = {"staff": instance.pk, **_account_ref(instance.user)}
    if created or before is None:
        _append(
            Kind.STAFF_CREATED,
            {
                **ref,
                **{name: getattr(instance, name) for name in STAFF_PLAIN_FIELDS},
                "has_personnummer": bool(instance.personnummer),
            },
        )
        return
    changes = {}
    for name in STAFF_PLAIN_FIELDS:
        if before[name] != getattr(instance, name):
            changes[name] = {"from": before[name], "to": getattr(instance, name)}
    if before["personnummer"] != instance.personnummer:
        changes["personnummer"] = {
            "changed": True,
            "to_hash": keyed_hash(instance.personnummer) if instance.personnummer else "",
        }
    if changes:
        _append(Kind.STAFF_CHANGED, {**ref, "changes": changes})


def _token_before(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance._account_audit_before = (
        sender.objects.filter(pk=instance.pk).values("revoked_at").first()
        if instance.pk is not None
        else None
    )


def _token_ref(instance) -> dict:
    return {"token": instance.pk, "token_name": instance.name, **_account_ref(instance.user)}


def _token_after(sender, instance, created, raw=False, **kwargs):
    from approvals.audit import Kind

    if raw:
        return
    before = getattr(instance, "_account_audit_before", None)
    instance._account_audit_before = None
    if created or before is None:
        _append(Kind.API_TOKEN_CREATED, _token_ref(instance))
        if instance.revoked_at is None:
            return
    elif before["revoked_at"] == instance.revoked_at:
        return
    if instance.revoked_at is not None:
        _append(Kind.API_TOKEN_REVOKED, _token_ref(instance))
    else:
        _append(Kind.API_TOKEN_RESTORED, _token_ref(instance))


def _token_deleted(sender, instance, **kwargs):
    from approvals.audit import Kind

    _append(Kind.API_TOKEN_DELETED, _token_ref(instance))


# --- wiring ------------------------------------------------------------------------------


def connect() -> None:
    """Connect every receiver (MunicipalityConfig.ready)."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

    from .models import ApiToken, Staff

    User = get_user_model()
    uid = "municipality.account_audit"
    pre_save.connect(_user_before, sender=User, dispatch_uid=f"{uid}.user_before")
    post_save.connect(_user_after, sender=User, dispatch_uid=f"{uid}.user_after")
    post_delete.connect(_user_deleted, sender=User, dispatch_uid=f"{uid}.user_deleted")
    m2m_changed.connect(
        _membership_changed, sender=User.groups.through, dispatch_uid=f"{uid}.groups"
    )
    m2m_changed.connect(
        _global_perm_changed("user"),
        sender=User.user_permissions.through,
        dispatch_uid=f"{uid}.user_permissions",
        weak=False,
    )
    m2m_changed.connect(
        _global_perm_changed("group"),
        sender=Group.permissions.through,
        dispatch_uid=f"{uid}.group_permissions",
        weak=False,
    )
    for model in apps.get_models():
        if issubclass(model, (UserObjectPermissionBase, GroupObjectPermissionBase)):
            name = model._meta.label_lower
            post_save.connect(_object_perm_saved, sender=model, dispatch_uid=f"{uid}.op+{name}")
            pre_delete.connect(_object_perm_deleting, sender=model, dispatch_uid=f"{uid}.op?{name}")
            post_delete.connect(_object_perm_deleted, sender=model, dispatch_uid=f"{uid}.op-{name}")
    pre_save.connect(_staff_before, sender=Staff, dispatch_uid=f"{uid}.staff_before")
    post_save.connect(_staff_after, sender=Staff, dispatch_uid=f"{uid}.staff_after")
    pre_save.connect(_token_before, sender=ApiToken, dispatch_uid=f"{uid}.token_before")
    post_save.connect(_token_after, sender=ApiToken, dispatch_uid=f"{uid}.token_after")
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid=f"{uid}.token_deleted")
