"""The admin actions that issue and revoke the tokens of agents or robots (one
pair per kind): each token is shown once, in a message; any earlier one is
revoked. The domain app passes its own issue and revoke services."""

from collections.abc import Callable

from django.contrib import admin, messages

from brain.errors import DomainError


def token_actions(
    kind: str, issue: Callable[[str], str], revoke: Callable[[str], None]
) -> list:
    @admin.action(
        description=f"Issue a token to selected {kind}s", permissions=["change"]
    )
    def issue_tokens(modeladmin, request, queryset):
        for ident in queryset.values_list("pk", flat=True):
            token = issue(ident)
            modeladmin.message_user(
                request,
                f"Token for {kind} {ident} (shown only now): {token}",
                messages.WARNING,
            )

    @admin.action(
        description=f"Revoke the tokens of selected {kind}s", permissions=["change"]
    )
    def revoke_tokens(modeladmin, request, queryset):
        for ident in queryset.values_list("pk", flat=True):
            try:
                revoke(ident)
            except DomainError as exc:
                modeladmin.message_user(request, exc.detail, messages.ERROR)
            else:
                modeladmin.message_user(
                    request, f"Token of {kind} {ident} revoked.", messages.SUCCESS
                )

    return [issue_tokens, revoke_tokens]
